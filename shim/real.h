/* real.h — the real libpq behind each call.
 *
 * The shim never links libpq: it binds to the copy its caller uses, so a
 * process holding two copies (a system libpq and a wheel's private one) keeps
 * each PGconn with the libpq that made it. */
#ifndef HPQ_REAL_H
#define HPQ_REAL_H

#include <libpq-fe.h>

#include "interposed.h"

/* One copy of libpq: every function the shim calls, all from that copy; the
 * fields are generated from the lists in interposed.h. */
#define HPQ_LIBPQ_FIELD(ret, name, field, params) ret(*field) params;
#define HPQ_LIBPQ_INTERPOSED_FIELD(ret, name, field, params, args) ret(*field) params;
struct hpq_libpq {
    const void *base; /* load address, the copy's identity */
    HPQ_INTERPOSED(HPQ_LIBPQ_INTERPOSED_FIELD)
    HPQ_CALLED(HPQ_LIBPQ_FIELD)
};
#undef HPQ_LIBPQ_FIELD
#undef HPQ_LIBPQ_INTERPOSED_FIELD

/* The libpq that code at address caller uses, or NULL (logged) if none. */
const struct hpq_libpq *hpq_libpq_for(const void *caller);

/* fn is a function of a libpq that the program looked up with dlsym: use that
 * libpq for callers with none of their own (ctypes calls come from libffi). */
void hpq_libpq_seen(const void *fn);

/* Fork handlers. */
void hpq_real_lock(void);
void hpq_real_unlock(void);

#define HPQ_CALLER __builtin_return_address(0)

#endif
