/* entry.c — the only symbols the library exports: libpq's names (one wrapper
 * each, generated from interposed.h, into intercept.c; HPQ_CALLER tells which
 * libpq the caller uses), and dlsym and dlopen, which make libpq reachable for
 * programs that look its functions up themselves (dlsym.h) or load it with
 * RTLD_DEEPBIND (dlopen.h). */
#include <errno.h>
#include <libpq-fe.h>

#include "dlopen.h"
#include "dlsym.h"
#include "intercept.h"
#include "interposed.h"
#include "libc.h"
#include "real.h"

#define HPQ_EXPORT __attribute__((visibility("default")))

/* `return` of a void call in a void function (PQreset, PQfinish) is a GNU C
 * extension, which the build's -std=gnu11 has. */
#define HPQ_WRAPPER(ret, name, field, params, args)                                            \
    HPQ_EXPORT ret name params { return hpq_on_##field(HPQ_CALLER, HPQ_UNPARENTHESISE args); }
HPQ_INTERPOSED(HPQ_WRAPPER)

#define HPQ_EXPORT_ENTRY(ret, name, field, params, args) {#name, (void *)name},
static const struct hpq_export exports[] = {HPQ_INTERPOSED(HPQ_EXPORT_ENTRY)};
/* The last call must stay a tail call (the Makefile builds this file with
 * -foptimize-sibling-calls): libc's dlsym resolves RTLD_NEXT relative to its
 * caller's return address, which must be the program's, not the shim's. */
HPQ_EXPORT void *dlsym(void *handle, const char *name)
{
    /* No errno here: ASan's start-up calls dlsym before its shadow memory is
     * mapped, and an instrumented errno access would crash it. The override
     * keeps errno itself (configuration parsing restores it). */
    void *mine = hpq_dlsym_override(handle, name, HPQ_CALLER, exports,
                                    sizeof exports / sizeof exports[0]);
    hpq_dlsym_fn real = mine ? NULL : hpq_libc_dlsym();
    if (mine)
        return mine;
    return real(handle, name);
}

/* A tail call too: libc's dlopen expands $ORIGIN and picks the namespace from
 * its caller's return address. */
HPQ_EXPORT void *dlopen(const char *file, int flags)
{
    int saved = errno; /* reading the file's ELF header is not the program's doing */
    int adjusted = hpq_dlopen_flags(file, flags);
    hpq_dlopen_fn real = hpq_libc_dlopen();
    errno = saved;
    return real(file, adjusted);
}
