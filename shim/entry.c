/* entry.c — the only symbols the library exports: libpq's names, each one
 * line into intercept.c. HPQ_CALLER tells which libpq the caller uses. */
#include <libpq-fe.h>

#include "intercept.h"
#include "real.h"

#define HPQ_EXPORT __attribute__((visibility("default")))

HPQ_EXPORT PGconn *PQconnectdb(const char *conninfo)
{
    return hpq_on_connectdb(HPQ_CALLER, conninfo);
}

HPQ_EXPORT PGconn *PQconnectdbParams(const char *const *keywords, const char *const *values,
                                     int expand_dbname)
{
    return hpq_on_connectdb_params(HPQ_CALLER, keywords, values, expand_dbname);
}

HPQ_EXPORT PGconn *PQsetdbLogin(const char *host, const char *port, const char *options,
                                const char *tty, const char *dbname, const char *login,
                                const char *pwd)
{
    return hpq_on_setdb_login(HPQ_CALLER, host, port, options, tty, dbname, login, pwd);
}

HPQ_EXPORT PGconn *PQconnectStart(const char *conninfo)
{
    return hpq_on_connect_start(HPQ_CALLER, conninfo);
}

HPQ_EXPORT PGconn *PQconnectStartParams(const char *const *keywords, const char *const *values,
                                        int expand_dbname)
{
    return hpq_on_connect_start_params(HPQ_CALLER, keywords, values, expand_dbname);
}

HPQ_EXPORT PostgresPollingStatusType PQconnectPoll(PGconn *conn)
{
    return hpq_on_connect_poll(HPQ_CALLER, conn);
}

HPQ_EXPORT PGPing PQping(const char *conninfo) { return hpq_on_ping(HPQ_CALLER, conninfo); }

HPQ_EXPORT PGPing PQpingParams(const char *const *keywords, const char *const *values,
                               int expand_dbname)
{
    return hpq_on_ping_params(HPQ_CALLER, keywords, values, expand_dbname);
}

HPQ_EXPORT void PQreset(PGconn *conn) { hpq_on_reset(HPQ_CALLER, conn); }

HPQ_EXPORT int PQresetStart(PGconn *conn) { return hpq_on_reset_start(HPQ_CALLER, conn); }

HPQ_EXPORT PostgresPollingStatusType PQresetPoll(PGconn *conn)
{
    return hpq_on_reset_poll(HPQ_CALLER, conn);
}

HPQ_EXPORT void PQfinish(PGconn *conn) { hpq_on_finish(HPQ_CALLER, conn); }
