/* secret.h — wiping secrets from memory.
 *
 * A memset before free is a dead store that the compiler may remove (it does,
 * at -O2); explicit_bzero is never removed. Used for every buffer that held a
 * password, a token, or a string containing one (URLs, conninfo strings,
 * Authorization headers, API answers). Pure leaf: no state, no I/O. */
#ifndef HPQ_SECRET_H
#define HPQ_SECRET_H

#include <stddef.h>

/* Zero n bytes at p, in a way the compiler keeps. */
void hpq_wipe(void *p, size_t n);

/* Wipe the string s (up to its NUL) and free it; NULL is allowed. */
void hpq_free_secret(char *s);

#endif
