/* conns.h — the connections the shim rewrote, from their start to PQfinish.
 *
 * Needed where libpq hands the outcome of a rewritten connection to the
 * program rather than to the shim: PQconnectPoll (HEROKUPQ_ASYNC=start) and
 * PQreset*. For each, the URL it used and whether the shim is still waiting
 * to see its outcome (its error verbosity raised to get SQLSTATEs). */
#ifndef HPQ_CONNS_H
#define HPQ_CONNS_H

#include <libpq-fe.h>
#include <stdbool.h>

void hpq_conns_add(PGconn *conn, const char *url);

/* Start watching conn's outcome; saved is the verbosity to give back. */
bool hpq_conns_watch(PGconn *conn, PGVerbosity saved);

/* If conn is being watched: stop, and give its URL (malloc'd) and the saved
 * verbosity. */
bool hpq_conns_unwatch(PGconn *conn, char **url, PGVerbosity *saved);

/* A copy of the URL conn was rewritten to (malloc'd), or NULL if it was not. */
char *hpq_conns_url(PGconn *conn);

void hpq_conns_remove(PGconn *conn);

/* For the fork handlers. */
void hpq_conns_lock(void);
void hpq_conns_unlock(void);

#endif
