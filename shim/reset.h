/* reset.h — the reset repair: PQreset and PQresetStart on a rewritten
 * connection, and the end of a poll the shim watches.
 *
 * libpq reconnects with the credentials it stored in the PGconn; when that
 * fails as stale, the shim fetches the current URL (within HEROKUPQ_RETRY_MS,
 * backing off like a new connection) and, if only the password or user
 * changed, writes them into the PGconn (creds.h) and resets again. Otherwise
 * the reset fails as libpq reports it, and the next new connection fetches
 * the URL again. The asynchronous reset is repaired in PQresetPoll, except
 * with HEROKUPQ_ASYNC=start (polls never wait for the API). */
#ifndef HPQ_RESET_H
#define HPQ_RESET_H

#include "config.h"
#include "real.h"

void hpq_reset(const struct hpq_libpq *lib, const struct hpq_config *cfg, PGconn *conn);
int hpq_reset_start(const struct hpq_libpq *lib, const struct hpq_config *cfg, PGconn *conn);

/* PQconnectPoll or PQresetPoll returned status for conn: if the shim was
 * watching it (an asynchronous reset, or a HEROKUPQ_ASYNC=start connection),
 * learn from the outcome (a stale failure drops the cached URL) and give the
 * connection back its error verbosity. A reset that failed as stale and may
 * be repaired is started again with the current credentials instead: the
 * status for the program is then PGRES_POLLING_WRITING. Returns the status to
 * give the program. Must be called with the depth guard raised (its own
 * libpq calls nest). */
PostgresPollingStatusType hpq_reset_settled(const struct hpq_libpq *lib,
                                            const struct hpq_config *cfg, PGconn *conn,
                                            PostgresPollingStatusType status);

#endif
