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
PGPing hpq_on_ping(const void *caller, const char *conninfo);
PGPing hpq_on_ping_params(const void *caller, const char *const *keywords,
                          const char *const *values, int expand_dbname);
PostgresPollingStatusType hpq_on_connect_poll(const void *caller, PGconn *conn);
PostgresPollingStatusType hpq_on_reset_poll(const void *caller, PGconn *conn);
void hpq_on_reset(const void *caller, PGconn *conn);
int hpq_on_reset_start(const void *caller, PGconn *conn);
void hpq_on_finish(const void *caller, PGconn *conn);

#endif
