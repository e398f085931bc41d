/* dlsym.c — see dlsym.h. */
#include "dlsym.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <string.h>

#include "libc.h"
#include "log.h"
#include "real.h"
#include "shim_on.h"

static bool same_object(const void *a, const void *b)
{
    Dl_info ia, ib;
    return dladdr(a, &ia) && dladdr(b, &ib) && ia.dli_fbase == ib.dli_fbase;
}

void *hpq_dlsym_override(void *handle, const char *name, const void *caller,
                         const struct hpq_export *exports, unsigned n_exports)
{
    /* RTLD_DEFAULT already finds the shim first; RTLD_NEXT must stay the
     * caller's "next". Only names starting "PQ" can be ours. */
    if (handle == RTLD_DEFAULT || handle == RTLD_NEXT || !name || strncmp(name, "PQ", 2) != 0)
        return NULL;
    void *mine = NULL;
    for (unsigned i = 0; i < n_exports && !mine; i++)
        if (strcmp(exports[i].name, name) == 0)
            mine = exports[i].fn;
    /* The shim's own lookups (binding the real libpq) must see libpq; and
     * with the shim off, a program gets exactly what libc gives it. */
    if (!mine || same_object(caller, mine) || !hpq_shim_on())
        return NULL;
    void *theirs = hpq_libc_dlsym()(handle, name);
    if (!theirs || same_object(theirs, mine))
        return NULL;
    hpq_libpq_seen(theirs);
    hpq_log(HPQ_DEBUG, "dlsym(%s) on a libpq handle: answering with the shim's", name);
    return mine;
}
