/* dlopen.h — modules loaded with RTLD_DEEPBIND.
 *
 * PHP loads every extension with RTLD_DEEPBIND, so pgsql.so and pdo_pgsql.so
 * bind to libpq before any LD_PRELOAD object: the shim would never see their
 * connections. When the shim is on (HEROKU_APP set), a dlopen with
 * RTLD_DEEPBIND of a file that links libpq directly is done without that flag;
 * every other dlopen is libc's, unchanged. */
#ifndef HPQ_DLOPEN_H
#define HPQ_DLOPEN_H

/* The flags to pass to libc's dlopen for file. */
int hpq_dlopen_flags(const char *file, int flags);

/* Whether the ELF file at path names a libpq among its DT_NEEDED entries.
 * Exposed for the unit tests. */
int hpq_elf_needs_libpq(const char *path);

#endif
