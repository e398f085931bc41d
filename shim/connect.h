/* connect.h — connect a rewritten connection; classify a failure; retry.
 * The only place that decides to try again. */
#ifndef HPQ_CONNECT_H
#define HPQ_CONNECT_H

#include "config.h"
#include "real.h"
#include "rewrite.h"

enum hpq_outcome {
    HPQ_CONNECTED,
    HPQ_STALE,       /* credentials or database gone: 28P01, 28000, 3D000 */
    HPQ_UNREACHABLE, /* no answer from a server: DNS, refused, timeout, TLS */
    HPQ_REFUSED,     /* the server refused for another reason: not ours to fix */
};

/* Classify by SQLSTATE, never by message text (which the server translates).
 * The code is in message because connections are started with
 * PQERRORS_VERBOSE ("FATAL:  28P01: ..."). */
enum hpq_outcome hpq_classify(ConnStatusType status, const char *message);

/* Whether message (PQERRORS_VERBOSE) reports that SQLSTATE. */
bool hpq_has_sqlstate(const char *message, const char *sqlstate);

/* var: the config var whose URL the connection goes to (HEROKUPQ_TARGET),
 * a string that lives as long as the process. */

/* Connect the program's connection to the app's database, retrying a stale
 * failure within HEROKUPQ_RETRY_MS. Falls back as documented when the URL
 * cannot be resolved. */
PGconn *hpq_connect(const struct hpq_libpq *lib, const struct hpq_config *cfg, const char *var,
                    const struct hpq_params *program);

/* HEROKUPQ_ASYNC=start: start the rewritten connection with the cached URL
 * (fetching only on a cold cache) and return at once; the outcome is seen by
 * hpq_connect_settled when the program polls. */
PGconn *hpq_connect_start(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                          const char *var, const struct hpq_params *program);

/* PQconnectPoll or PQresetPoll returned status for conn: if the shim was
 * watching it, learn from the outcome (a stale failure drops the cached URL)
 * and give the connection back its error verbosity. A reset that failed as
 * stale and may be repaired (see hpq_connect_reset_start) is started again
 * with the current credentials instead: the status for the program is then
 * PGRES_POLLING_WRITING. Returns the status to give the program. Must be
 * called with the depth guard raised (its own libpq calls nest). */
PostgresPollingStatusType hpq_connect_settled(const struct hpq_libpq *lib,
                                              const struct hpq_config *cfg, PGconn *conn,
                                              PostgresPollingStatusType status);

/* PQreset and PQresetStart on a rewritten connection. libpq reconnects with
 * the credentials it stored in the PGconn; when that fails as stale, the shim
 * fetches the current URL (within HEROKUPQ_RETRY_MS, backing off like a new
 * connection) and, if only the password or user changed, writes them into
 * the PGconn (creds.h) and resets again. Otherwise the reset fails as libpq
 * reports it, and the next new connection fetches the URL again. The
 * asynchronous reset is repaired in PQresetPoll, except with
 * HEROKUPQ_ASYNC=start (polls never wait for the API). */
void hpq_connect_reset(const struct hpq_libpq *lib, const struct hpq_config *cfg, PGconn *conn);
int hpq_connect_reset_start(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                            PGconn *conn);

/* PQping* rewritten like a connection. */
PGPing hpq_ping(const struct hpq_libpq *lib, const struct hpq_config *cfg, const char *var,
                const struct hpq_params *program);

/* Called with every PGconn libpq starts while the shim is connecting (libpq's
 * PQconnectdb calls PQconnectStart through its PLT, so it lands in the shim):
 * switches on SQLSTATEs in error messages for the shim's own attempts. */
void hpq_connect_started(const struct hpq_libpq *lib, PGconn *conn);

/* hpq_params_from_conninfo, answered from the last call's result when conninfo
 * is the same (a warm program reconnects with the same string). */
int hpq_connect_program_conninfo(const struct hpq_libpq *lib, const char *conninfo,
                                 struct hpq_params *out, char *err, size_t errlen);

/* Fork handlers: the lock of the kept conninfo and URL (a leaf). */
void hpq_connect_lock(void);
void hpq_connect_unlock(void);

#endif
