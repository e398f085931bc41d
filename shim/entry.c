/* entry.c — the only symbols the library exports: libpq's names, each one
 * line into intercept.c (HPQ_CALLER tells which libpq the caller uses), and
 * dlsym and dlopen, which make libpq reachable for programs that look its
 * functions up themselves (dlsym.h) or load it with RTLD_DEEPBIND (dlopen.h). */
#include <libpq-fe.h>

#include "dlopen.h"
#include "dlsym.h"
#include "intercept.h"
#include "libc.h"
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

static const struct hpq_export exports[] = {
    {"PQconnectdb", (void *)PQconnectdb},
    {"PQconnectdbParams", (void *)PQconnectdbParams},
    {"PQsetdbLogin", (void *)PQsetdbLogin},
    {"PQconnectStart", (void *)PQconnectStart},
    {"PQconnectStartParams", (void *)PQconnectStartParams},
    {"PQconnectPoll", (void *)PQconnectPoll},
    {"PQping", (void *)PQping},
    {"PQpingParams", (void *)PQpingParams},
    {"PQreset", (void *)PQreset},
    {"PQresetStart", (void *)PQresetStart},
    {"PQresetPoll", (void *)PQresetPoll},
    {"PQfinish", (void *)PQfinish},
};

/* The last call must stay a tail call (the Makefile builds this file with
 * -foptimize-sibling-calls): libc's dlsym resolves RTLD_NEXT relative to its
 * caller's return address, which must be the program's, not the shim's. */
HPQ_EXPORT void *dlsym(void *handle, const char *name)
{
    void *mine = hpq_dlsym_override(handle, name, HPQ_CALLER, exports,
                                    sizeof exports / sizeof exports[0]);
    if (mine)
        return mine;
    return hpq_real_dlsym()(handle, name);
}

/* A tail call too: libc's dlopen expands $ORIGIN and picks the namespace from
 * its caller's return address. */
HPQ_EXPORT void *dlopen(const char *file, int flags)
{
    int adjusted = hpq_dlopen_flags(file, flags);
    return hpq_real_dlopen()(file, adjusted);
}
