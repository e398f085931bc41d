/* parse_memo.h — the last program conninfo and the last URL parsed, with
 * their parameters: a warm process connects with the same ones every time,
 * and libpq's PQconninfoParse (about 18,000 instructions each) was most of
 * what the shim added to a warm connection. */
#ifndef HPQ_PARSE_MEMO_H
#define HPQ_PARSE_MEMO_H

#include <stddef.h>

#include "parse.h"

/* hpq_params_from_conninfo, answered from the last call's result when
 * conninfo is the same (a warm program reconnects with the same string). */
int hpq_parse_memo_program(const struct hpq_libpq *lib, const char *conninfo,
                           struct hpq_params *out, char *err, size_t errlen);

/* hpq_url_parse_dropping, answered from the last call's result when url is
 * the same; dropped is then "" (said when it was first parsed). */
int hpq_parse_memo_url(const struct hpq_libpq *lib, const char *url, struct hpq_params *out,
                       char *dropped, size_t droppedlen, char *err, size_t errlen);

/* Fork handlers: the memo's lock (a leaf: nothing else is locked or logged
 * under it). */
void hpq_parse_memo_lock(void);
void hpq_parse_memo_unlock(void);

#endif
