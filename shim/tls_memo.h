/* tls_memo.h — whether a copy of libpq knows ssl_min_protocol_version, asked
 * of that copy once and remembered. */
#ifndef HPQ_TLS_MEMO_H
#define HPQ_TLS_MEMO_H

#include <stdbool.h>

#include "real.h"

/* libpq 13 and later know ssl_min_protocol_version; an older one would reject
 * the whole connection string for naming it. Calls lib's PQconninfoParse the
 * first time a copy is asked about; lock-free. */
bool hpq_tls_memo_knows_floor(const struct hpq_libpq *lib);

#endif
