/* creds.h — bring the credentials libpq stored in a rewritten PGconn up to
 * date, so that PQreset reconnects with the current ones.
 *
 * libpq copies a connection's parameters when it starts it and reconnects
 * with those copies on PQreset/PQresetStart; it has no setter for them. In
 * libpq 15 (fe-connect.c) the password lives in conn->pgpass, which PQpass()
 * returns, and the user name in conn->pguser, which PQuser() returns: heap
 * copies made once and used as they are by every reset. (The per-host copies,
 * connhost[i].password, are filled only from a password file, only when the
 * connection string carries no password; the shim's always carries one, and
 * PQpass would return that copy if it existed.) A new value no longer than
 * the current one fits in the same buffer.
 *
 * Nothing is written unless every one of these holds:
 * - the two URLs differ in nothing but the password and the user name;
 * - each names exactly one host;
 * - PQpass(conn) and PQuser(conn) return exactly the old URL's password and
 *   user (a libpq whose accessors do not is left alone);
 * - each new value is no longer than what the buffer holds now (strlen, read
 *   each time: never more than libpq allocated).
 * The old value is wiped (explicit_bzero) before the new one is copied in. */
#ifndef HPQ_CREDS_H
#define HPQ_CREDS_H

#include <stdbool.h>
#include <stddef.h>

#include "real.h"
#include "rewrite.h"

/* Write new_url's password and user into conn, which was rewritten to
 * old_url. Return 0 if conn now holds them, or -1 with the reason (no
 * secrets) in why and conn untouched. */
int hpq_creds_update(const struct hpq_libpq *lib, PGconn *conn, const struct hpq_params *old_url,
                     const struct hpq_params *new_url, char *why, size_t whylen);

/* Pure parts, exposed for the unit tests. */

/* Whether two parsed URLs differ in nothing but password and user. */
bool hpq_creds_same_place(const struct hpq_params *a, const struct hpq_params *b);

/* Whether val can replace what buf holds, which must be exactly expected. */
bool hpq_creds_fits(const char *buf, const char *expected, const char *val);

/* Wipe buf and copy val in; val no longer than strlen(buf) (else nothing). */
void hpq_creds_overwrite(char *buf, const char *val);

#endif
