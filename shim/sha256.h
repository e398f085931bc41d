/* sha256.h — SHA-256 (FIPS 180-4), for naming cache entries by a hash of
 * their key (which includes the API token: the token itself is never
 * written anywhere). Pure; no state. */
#ifndef HPQ_SHA256_H
#define HPQ_SHA256_H

#include <stddef.h>

#define HPQ_SHA256_HEX 65 /* 64 hex digits and a NUL */

/* The digest of data[0..len) as lowercase hex into out. */
void hpq_sha256_hex(const void *data, size_t len, char out[HPQ_SHA256_HEX]);

#endif
