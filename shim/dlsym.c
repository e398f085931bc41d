/* dlsym.c — see dlsym.h. */
#include "dlsym.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "real.h"

static hpq_dlsym_fn real_dlsym;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

void *hpq_libc_function(const char *name)
{
    /* The versions glibc has given dlsym and dlopen: 2.34 (moved into libc),
     * then each architecture's first. */
    static const char *const versions[] = {"GLIBC_2.34", "GLIBC_2.2.5", "GLIBC_2.17",
                                           "GLIBC_2.1", "GLIBC_2.0"};
    void *fn = NULL;
    for (unsigned i = 0; i < sizeof versions / sizeof versions[0] && !fn; i++)
        fn = dlvsym(RTLD_NEXT, name, versions[i]);
    if (!fn)
        hpq_log(HPQ_ERROR, "cannot find libc's %s; every %s call will fail", name, name);
    return fn;
}

static void find_real_dlsym(void) { *(void **)&real_dlsym = hpq_libc_function("dlsym"); }

static void *no_symbol(void *handle, const char *name)
{
    (void)handle;
    (void)name;
    return NULL;
}

hpq_dlsym_fn hpq_real_dlsym(void)
{
    pthread_once(&real_once, find_real_dlsym);
    return real_dlsym ? real_dlsym : no_symbol;
}

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
    if (!mine || same_object(caller, mine) || !hpq_config()->enabled)
        return NULL;
    void *theirs = hpq_real_dlsym()(handle, name);
    if (!theirs || same_object(theirs, mine))
        return NULL;
    hpq_libpq_seen(theirs);
    hpq_log(HPQ_DEBUG, "dlsym(%s) on a libpq handle: answering with the shim's", name);
    return mine;
}
