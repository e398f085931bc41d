/* sha256.h — SHA-256 from the process's libcrypto (OpenSSL 3), for naming
 * cache entries by a hash of their key (which includes the API token: the
 * token itself is never written anywhere).
 *
 * libcrypto is not linked: it is loaded (dlopen, RTLD_LOCAL, libc's own loader
 * of libc.h) by the first call. In a program that uses libpq it is already
 * there (Debian's libpq links it), so loading it costs a reference count; a
 * process that never reaches the shared cache (no libpq, HEROKU_APP unset,
 * HEROKUPQ_CACHE_DIR=off) never maps it. libcrypto is left as the program
 * would find it: never initialised with other options than its own defaults,
 * and no error left on the calling thread's OpenSSL error queue. Thread-safe. */
#ifndef HPQ_SHA256_H
#define HPQ_SHA256_H

#include <stdbool.h>
#include <stddef.h>

#define HPQ_SHA256_HEX 65 /* 64 hex digits and a NUL */

/* The digest of data[0..len) as lowercase hex into out: true. If libcrypto
 * cannot be loaded or fails, out is "" and false; the first failure of the
 * process is said in one warn line. */
bool hpq_sha256_hex(const void *data, size_t len, char out[HPQ_SHA256_HEX]);

/* Fork handlers (fork.c): a fork waits for the first call's loading, boundedly. */
void hpq_sha256_lock(void);
void hpq_sha256_unlock(void);
void hpq_sha256_after_fork_child(void);

#endif
