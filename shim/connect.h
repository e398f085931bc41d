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

/* Connect the program's connection to the app's database, retrying a stale
 * failure within HEROKUPQ_RETRY_MS. Falls back as documented when the URL
 * cannot be resolved. */
PGconn *hpq_connect(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                    const struct hpq_params *program);

/* Called with every PGconn libpq starts while the shim is connecting (libpq's
 * PQconnectdb calls PQconnectStart through its PLT, so it lands in the shim):
 * switches on SQLSTATEs in error messages for the shim's own attempts. */
void hpq_connect_started(const struct hpq_libpq *lib, PGconn *conn);

#endif
