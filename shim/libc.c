/* libc.c — see libc.h. */
#include "libc.h"

#include <dlfcn.h>
#include <pthread.h>

#include "log.h"

static hpq_dlsym_fn real_dlsym;
static hpq_dlopen_fn real_dlopen;
static pthread_once_t found_once = PTHREAD_ONCE_INIT;

/* libc's function of that name: asking dlsym would ask the shim. */
static void *libc_function(const char *name)
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

static void find_loader(void)
{
    real_dlsym = (hpq_dlsym_fn)libc_function("dlsym");
    real_dlopen = (hpq_dlopen_fn)libc_function("dlopen");
}

static void *no_symbol(void *handle, const char *name)
{
    (void)handle;
    (void)name;
    return NULL;
}

static void *no_object(const char *file, int flags)
{
    (void)file;
    (void)flags;
    return NULL;
}

hpq_dlsym_fn hpq_libc_dlsym(void)
{
    pthread_once(&found_once, find_loader);
    return real_dlsym ? real_dlsym : no_symbol;
}

hpq_dlopen_fn hpq_libc_dlopen(void)
{
    pthread_once(&found_once, find_loader);
    return real_dlopen ? real_dlopen : no_object;
}
