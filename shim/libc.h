/* libc.h — libc's own loader functions, for the shim's internals.
 *
 * The shim exports dlsym and dlopen (dlsym.h, dlopen.h), so a call by name to
 * dlsym or dlopen from inside the shim would bind through the PLT to the shim's
 * own exports and run their interposition logic. Everything below the exports
 * calls libc's through these pointers instead. dlvsym, dladdr, dlclose and
 * dlerror are not exported by the shim: calling them by name reaches libc. */
#ifndef HPQ_LIBC_H
#define HPQ_LIBC_H

typedef void *(*hpq_dlsym_fn)(void *handle, const char *name);
typedef void *(*hpq_dlopen_fn)(const char *file, int flags);

/* libc's dlsym and dlopen, found once with dlvsym. If libc has none (never on
 * glibc), a function that finds nothing (logged once). Called from inside the
 * shim, RTLD_NEXT is relative to the shim, as for any library. */
hpq_dlsym_fn hpq_libc_dlsym(void);
hpq_dlopen_fn hpq_libc_dlopen(void);

#endif
