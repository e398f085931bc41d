/* classify.h — what a connection attempt's outcome means to the shim.
 * Pure: reads the status and the message it is given, calls nothing. */
#ifndef HPQ_CLASSIFY_H
#define HPQ_CLASSIFY_H

#include <libpq-fe.h>
#include <stdbool.h>

enum hpq_outcome {
    HPQ_CONNECTED,
    HPQ_STALE,       /* credentials or database gone: 28P01, 28000, 3D000 */
    HPQ_UNREACHABLE, /* no answer from a server: DNS, refused, timeout, TLS */
    HPQ_REFUSED,     /* the server refused for another reason: not ours to fix */
};

/* Classify by SQLSTATE, never by message text (which the server translates).
 * The code is in message because the shim's attempts are started with
 * PQERRORS_VERBOSE ("FATAL:  28P01: ..."). */
enum hpq_outcome hpq_classify(ConnStatusType status, const char *message);

/* Whether message (PQERRORS_VERBOSE) reports that SQLSTATE. */
bool hpq_classify_has_sqlstate(const char *message, const char *sqlstate);

/* The outcome in words, for a log line ("the server did not answer"). */
const char *hpq_classify_said(enum hpq_outcome outcome);

#endif
