/* intercept.h — what each interposed libpq function does: pass through, or
 * rewrite and connect. Guards against libpq's own nested calls. */
#ifndef HPQ_INTERCEPT_H
#define HPQ_INTERCEPT_H

#include <libpq-fe.h>

PGconn *hpq_on_connectdb(const void *caller, const char *conninfo);
PGconn *hpq_on_connectdb_params(const void *caller, const char *const *keywords,
                                const char *const *values, int expand_dbname);
PGconn *hpq_on_setdb_login(const void *caller, const char *host, const char *port,
                           const char *options, const char *tty, const char *dbname,
                           const char *login, const char *pwd);
PGconn *hpq_on_connect_start(const void *caller, const char *conninfo);
PGconn *hpq_on_connect_start_params(const void *caller, const char *const *keywords,
                                    const char *const *values, int expand_dbname);

#endif
