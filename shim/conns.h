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

/* Remember conn as rewritten to url, config var var's (a string that lives as
 * long as the process) (again: the URL replaces the one it had,
 * and conn is no longer watched). */
void hpq_conns_add(PGconn *conn, const char *url, const char *var);

/* What the shim waits for on a watched connection. */
struct hpq_watch {
    PGVerbosity saved;      /* the verbosity to give back */
    long long repair_until; /* a reset the shim may repair until then (hpq_now_ms); 0: none */
    unsigned attempt;       /* reset attempts so far */
};

/* Start watching conn's outcome. */
bool hpq_conns_watch(PGconn *conn, const struct hpq_watch *watch);

/* If conn is being watched: stop, and give its URL (malloc'd), its config var
 * and the watch. */
bool hpq_conns_unwatch(PGconn *conn, char **url, const char **var, struct hpq_watch *watch);

/* A copy of the URL conn was rewritten to (malloc'd), or NULL if it was not;
 * *var: the config var that URL came from. */
char *hpq_conns_url(PGconn *conn, const char **var);

void hpq_conns_remove(PGconn *conn);

/* For the fork handlers. */
void hpq_conns_lock(void);
void hpq_conns_unlock(void);

#endif
