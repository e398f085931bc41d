/* connect.h — connect a rewritten connection; retry; ping. The only place
 * that decides to try a new connection again (a reset is repaired by
 * reset.h, with the helpers at the end of this file). */
#ifndef HPQ_CONNECT_H
#define HPQ_CONNECT_H

#include "classify.h"
#include "config.h"
#include "real.h"
#include "rewrite.h"

/* var: the config var whose URL the connection goes to (HEROKUPQ_TARGET),
 * a string that lives as long as the process. */

/* Connect the program's connection to the app's database, retrying a stale
 * failure within HEROKUPQ_RETRY_MS. Falls back as documented when the URL
 * cannot be resolved. */
PGconn *hpq_connect(const struct hpq_libpq *lib, const struct hpq_config *cfg, const char *var,
                    const struct hpq_params *program);

/* HEROKUPQ_ASYNC=start: start the rewritten connection with the cached URL
 * (fetching only on a cold cache) and return at once; the outcome is seen by
 * hpq_reset_settled when the program polls. */
PGconn *hpq_connect_start(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                          const char *var, const struct hpq_params *program);

/* PQping* rewritten like a connection. */
PGPing hpq_ping(const struct hpq_libpq *lib, const struct hpq_config *cfg, const char *var,
                const struct hpq_params *program);

/* Called with every PGconn libpq starts while the shim is connecting (libpq's
 * PQconnectdb calls PQconnectStart through its PLT, so it lands in the shim):
 * switches on SQLSTATEs in error messages for the shim's own attempts. */
void hpq_connect_started(const struct hpq_libpq *lib, PGconn *conn);

/* For reset.c. */

/* cfg with var as its config var. */
struct hpq_config hpq_connect_for_var(const struct hpq_config *cfg, const char *var);

/* url's parameters (parse_memo.h), its password known to the log's scrubber,
 * and said once where connections go. -1 with the reason in err (logged). */
int hpq_connect_parse_url(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                          const char *url, struct hpq_params *out, char *err, size_t errlen);

/* What conn's outcome, rewritten to url, teaches the cache: confirmed, or
 * dropped when stale or unreachable (said at info). */
void hpq_connect_learn(const struct hpq_libpq *lib, PGconn *conn, const char *url);

#endif
