/* real.c — see real.h.
 *
 * Resolution for a caller at address A:
 *   1. the object containing A (dladdr), reopened with RTLD_NOLOAD, asked for
 *      PQconnectdb: that searches the object and its own dependencies, which
 *      finds a libpq loaded RTLD_LOCAL (Python extensions) or a private copy;
 *   2. if that finds nothing, or finds the shim (the caller is the program
 *      itself, whose scope starts with LD_PRELOAD), dlsym(RTLD_NEXT);
 *   3. if that finds nothing either (libpq loaded RTLD_LOCAL and called
 *      through pointers from dlsym, as ctypes does), the libpq the program
 *      last looked up with dlsym (see dlsym.h).
 * The libpq found is then bound whole from its own handle, and the result
 * cached per calling object. A candidate that resolves into the shim itself is
 * refused, so the shim can never call itself (a circular binding). */
#include "real.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "libc.h"
#include "log.h"

#define HPQ_MAX_LIBPQS 4
#define HPQ_MAX_CALLERS 32

struct caller_entry {
    const void *caller_base;
    const struct hpq_libpq *libpq;
};

static pthread_mutex_t real_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hpq_libpq libpqs[HPQ_MAX_LIBPQS];
static unsigned n_libpqs;
static struct caller_entry callers[HPQ_MAX_CALLERS];
static unsigned n_callers;

/* The start of the object containing addr (dladdr's dli_fbase), or NULL.
 * Every interposed call asks this of its caller: glibc 2.35's
 * _dl_find_object answers from a lock-free sorted table in about a hundred
 * instructions, where dladdr walks every loaded object under the loader's lock
 * (about 5,000). dladdr stays the fallback: older glibc, and addresses that
 * _dl_find_object does not cover. */
static const void *object_base(const void *addr)
{
    if (!addr)
        return NULL;
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 35)
    struct dl_find_object found;
    if (_dl_find_object((void *)addr, &found) == 0)
        return found.dlfo_map_start;
#endif
    Dl_info info;
    return dladdr(addr, &info) ? info.dli_fbase : NULL;
}

static bool is_shim(const void *addr)
{
    return object_base(addr) == object_base((const void *)hpq_libpq_for);
}

/* Whether addr is in the program itself (the head of the loader's list),
 * whose scope starts with LD_PRELOAD: asked there, PQconnectdb is the shim's.
 * Knowing it saves the dladdr and the dlopen by path, which compares the path
 * with every loaded object and, not finding it, opens the file (about 130,000
 * instructions in psql). */
static bool in_program(const void *addr)
{
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 35)
    struct dl_find_object found;
    return _dl_find_object((void *)addr, &found) == 0 && found.dlfo_link_map &&
           !found.dlfo_link_map->l_prev;
#else
    (void)addr;
    return false;
#endif
}

/* PQconnectdb as seen from the calling object's own scope, or NULL. */
static void *connectdb_seen_by(const void *caller)
{
    Dl_info info;
    if (in_program(caller))
        return NULL;
    /* A name without a '/' is the program's argv[0] (dladdr's name for the
     * program itself), which NOLOAD never finds; asking would look it up in
     * ld.so.cache, which the loader maps on first use: a child forked while
     * another thread was doing that crashed in _dl_load_cache_lookup. */
    if (!dladdr(caller, &info) || !info.dli_fname || !strchr(info.dli_fname, '/'))
        return NULL;
    void *handle = hpq_libc_dlopen()(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    if (!handle)
        return NULL;
    void *fn = hpq_libc_dlsym()(handle, "PQconnectdb");
    dlclose(handle); /* NOLOAD took a reference; give it back */
    return fn;
}

/* PQconnectdb of the last libpq the program looked up through dlsym. */
static void *dlsym_connectdb;

void hpq_libpq_seen(const void *fn)
{
    void *connectdb = connectdb_seen_by(fn);
    if (connectdb && !is_shim(connectdb))
        __atomic_store_n(&dlsym_connectdb, connectdb, __ATOMIC_RELEASE);
}

static void *find_connectdb(const void *caller)
{
    void *fn = connectdb_seen_by(caller);
    if (!fn || is_shim(fn))
        fn = hpq_libc_dlsym()(RTLD_NEXT, "PQconnectdb"); /* the next after the shim */
    if (!fn || is_shim(fn))
        fn = __atomic_load_n(&dlsym_connectdb, __ATOMIC_ACQUIRE);
    return fn && !is_shim(fn) ? fn : NULL;
}

/* Every function of struct hpq_libpq, by its name, from the libpq of handle h
 * (each typed as its field); false if one is missing. */
static bool bind_functions(struct hpq_libpq *lib, void *h)
{
    void *fn;
#define BIND(ret, name, field, params)                                                         \
    if (!(fn = hpq_libc_dlsym()(h, #name)))                                                    \
        return false;                                                                          \
    lib->field = (ret(*) params)fn;
#define BIND_INTERPOSED(ret, name, field, params, args) BIND(ret, name, field, params)
    HPQ_INTERPOSED(BIND_INTERPOSED)
    HPQ_CALLED(BIND)
#undef BIND_INTERPOSED
#undef BIND
    return true;
}

/* Whether every function bound lies in the object at lib->base. */
static bool all_from_base(const struct hpq_libpq *lib)
{
#define SAME(ret, name, field, params)                                                         \
    if (object_base((const void *)lib->field) != lib->base)                                     \
        return false;
#define SAME_INTERPOSED(ret, name, field, params, args) SAME(ret, name, field, params)
    HPQ_INTERPOSED(SAME_INTERPOSED)
    HPQ_CALLED(SAME)
#undef SAME_INTERPOSED
#undef SAME
    return true;
}

/* Bind every function from the copy of libpq that defines connectdb_fn. The
 * libpq next after the shim in the global scope (a program linked with it) is
 * bound from there, if it has them all: a dlopen by path first builds the
 * object's list of dependencies (about 130,000 instructions in psql). */
static bool bind_libpq(struct hpq_libpq *lib, void *connectdb_fn)
{
    lib->base = object_base(connectdb_fn);
    if (connectdb_fn == hpq_libc_dlsym()(RTLD_NEXT, "PQconnectdb") &&
        bind_functions(lib, RTLD_NEXT) && all_from_base(lib))
        return true; /* not the shim's: RTLD_NEXT starts after it */
    Dl_info info;
    if (!dladdr(connectdb_fn, &info))
        return false;
    void *h = hpq_libc_dlopen()(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    if (!h)
        return false;
    lib->base = info.dli_fbase;
    bool ok = bind_functions(lib, h);
    /* The handle stays open on purpose: libpq must outlive every PGconn. */
    return ok && !is_shim((void *)lib->connectdb) && !is_shim((void *)lib->connect_start);
}

void hpq_real_lock(void) { pthread_mutex_lock(&real_lock); }
void hpq_real_unlock(void) { pthread_mutex_unlock(&real_lock); }

/* Table lookups hold real_lock; resolving (dladdr, dlopen, dlsym) never does,
 * because the loader's own lock may be held by a thread running a library
 * constructor that connects: holding both in opposite orders would deadlock. */
static const struct hpq_libpq *cached_for_caller(const void *caller_base)
{
    const struct hpq_libpq *lib = NULL;
    pthread_mutex_lock(&real_lock);
    for (unsigned i = 0; i < n_callers && !lib; i++)
        if (callers[i].caller_base == caller_base)
            lib = callers[i].libpq;
    pthread_mutex_unlock(&real_lock);
    return lib;
}

static const struct hpq_libpq *remember(const void *caller_base, const struct hpq_libpq *bound)
{
    const struct hpq_libpq *lib = NULL;
    pthread_mutex_lock(&real_lock);
    for (unsigned i = 0; i < n_libpqs && !lib; i++)
        if (libpqs[i].base == bound->base)
            lib = &libpqs[i];
    if (!lib && n_libpqs < HPQ_MAX_LIBPQS) {
        libpqs[n_libpqs] = *bound;
        lib = &libpqs[n_libpqs++];
    }
    if (lib && caller_base && n_callers < HPQ_MAX_CALLERS)
        callers[n_callers++] = (struct caller_entry){caller_base, lib};
    pthread_mutex_unlock(&real_lock);
    if (!lib)
        hpq_log(HPQ_ERROR, "more than %d copies of libpq in this process", HPQ_MAX_LIBPQS);
    return lib;
}

const struct hpq_libpq *hpq_libpq_for(const void *caller)
{
    const void *caller_base = object_base(caller);
    const struct hpq_libpq *lib = cached_for_caller(caller_base);
    if (lib)
        return lib;
    struct hpq_libpq bound;
    void *fn = find_connectdb(caller);
    if (!fn)
        hpq_log(HPQ_ERROR, "cannot find the libpq this program uses");
    else if (!bind_libpq(&bound, fn))
        hpq_log(HPQ_ERROR, "this program's libpq lacks a function the shim needs");
    else
        lib = remember(caller_base, &bound);
    return lib;
}
