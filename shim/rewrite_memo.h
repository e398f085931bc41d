/* rewrite_memo.h — the last conninfo rewritten, and what it was made from: a
 * warm process makes the same one for every connection, and making it was
 * about 9,000 instructions of each. */
#ifndef HPQ_REWRITE_MEMO_H
#define HPQ_REWRITE_MEMO_H

#include "real.h"
#include "rewrite.h"

/* Everything a rewritten conninfo is made from. */
struct hpq_rewrite_key {
    const struct hpq_libpq *lib;
    const char *var, *sslmode, *min_protocol; /* NULL: unset */
    const struct hpq_params *program, *url;   /* url NULL: the program's routing kept */
};

/* A malloc'd copy of the conninfo kept for key, or NULL (none, or out of memory). */
char *hpq_rewrite_memo_get(const struct hpq_rewrite_key *key);

/* Keep conninfo as made from key, in place of the last one (a copy). */
void hpq_rewrite_memo_put(const struct hpq_rewrite_key *key, const char *conninfo);

/* Fork handlers: the memo's lock (a leaf: nothing else is locked or logged under it). */
void hpq_rewrite_memo_lock(void);
void hpq_rewrite_memo_unlock(void);

#endif
