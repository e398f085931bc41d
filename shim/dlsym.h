/* dlsym.h — programs that look libpq's functions up themselves.
 *
 * ctypes (Debian's psycopg 3), and any program that dlopens libpq and asks
 * dlsym(handle, "PQconnectStart"), get libpq's own function: LD_PRELOAD only
 * changes what the dynamic linker binds, not what a handle lookup returns. The
 * shim exports dlsym too: when the shim is on, a lookup of one of its
 * interposed names in an explicit handle that defines it returns the shim's
 * function instead, and
 * remembers that handle's libpq for calls that arrive from code with no libpq
 * of its own (libffi). Every other lookup goes to libc's dlsym unchanged. */
#ifndef HPQ_DLSYM_H
#define HPQ_DLSYM_H

struct hpq_export {
    const char *name;
    void *fn;
};

/* The shim's replacement for dlsym(handle, name), or NULL: use libc's. */
void *hpq_dlsym_override(void *handle, const char *name, const void *caller,
                         const struct hpq_export *exports, unsigned n_exports);

#endif
