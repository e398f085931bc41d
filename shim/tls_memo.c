/* tls_memo.c — see tls_memo.h. */
#include "tls_memo.h"

#include <stdint.h>

static bool parses_tls_floor(const struct hpq_libpq *lib)
{
    char *msg = NULL;
    PQconninfoOption *opts = lib->conninfo_parse("ssl_min_protocol_version=TLSv1.2", &msg);
    if (msg)
        lib->freemem(msg);
    if (opts)
        lib->conninfo_free(opts);
    return opts != NULL;
}

/* Asked once per copy of libpq, not per connection: a PQconninfoParse costs
 * about 18,000 instructions. Each slot holds (uintptr_t)lib | answer,
 * lock-free (the struct is aligned, so bit 0 is free), so fork needs nothing
 * here. */
#define TLS_MEMO_SLOTS 4
static uintptr_t tls_memo[TLS_MEMO_SLOTS];

bool hpq_tls_memo_knows_floor(const struct hpq_libpq *lib)
{
    uintptr_t key = (uintptr_t)lib;
    for (unsigned i = 0; i < TLS_MEMO_SLOTS; i++) {
        uintptr_t v = __atomic_load_n(&tls_memo[i], __ATOMIC_ACQUIRE);
        if ((v & ~(uintptr_t)1) == key)
            return v & 1;
    }
    bool knows = parses_tls_floor(lib);
    for (unsigned i = 0; i < TLS_MEMO_SLOTS; i++) {
        uintptr_t seen = 0;
        if (__atomic_compare_exchange_n(&tls_memo[i], &seen, key | knows, false,
                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED) ||
            (seen & ~(uintptr_t)1) == key)
            break;
    }
    return knows;
}
