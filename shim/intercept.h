/* intercept.h — what each interposed libpq function does: pass through, or
 * rewrite and connect. Guards against libpq's own nested calls. */
#ifndef HPQ_INTERCEPT_H
#define HPQ_INTERCEPT_H

#include <libpq-fe.h>

#include "interposed.h"

/* hpq_on_<field>(caller, args...) for each line of HPQ_INTERPOSED (interposed.h):
 * what the exported libpq function does, called by its wrapper in entry.c with
 * the caller's address (HPQ_CALLER) and the function's own arguments. */
#define HPQ_ON_PROTOTYPE(ret, name, field, params, args)                                       \
    ret hpq_on_##field(const void *caller, HPQ_UNPARENTHESISE params);
HPQ_INTERPOSED(HPQ_ON_PROTOTYPE)
#undef HPQ_ON_PROTOTYPE

#endif
