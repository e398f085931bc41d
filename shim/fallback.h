/* fallback.h — no URL for a connection: what the program gets instead.
 * Strict (HEROKUPQ_STRICT=1): a failed connection whose error is herokupq's
 * own message. Otherwise: the program's own parameters (connect.c), said in
 * one warning naming where they send the connection. */
#ifndef HPQ_FALLBACK_H
#define HPQ_FALLBACK_H

#include "config.h"
#include "real.h"
#include "rewrite.h"

/* A connection (CONNECTION_BAD) that failed before reaching any server, whose
 * PQerrorMessage is "herokupq: CAUSE\n" (scrubbed of secrets); NULL if libpq
 * is out of memory. */
PGconn *hpq_fallback_failed_conn(const struct hpq_libpq *lib, const char *cause);

/* "no URL from ORIGIN: falling back to the program's own parameters ...:
 * host H, port P, database D" at warn: the program's values, else its PG*
 * variables', else libpq's defaults named. Never the password. */
void hpq_fallback_warn(const struct hpq_config *cfg, const struct hpq_params *program);

#endif
