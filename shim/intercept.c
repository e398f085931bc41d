/* intercept.c — see intercept.h.
 *
 * libpq calls its own exported functions through its PLT, so one program call
 * to PQconnectdb reaches the shim again as PQconnectStart. A thread-local depth
 * counter keeps the policy to the outermost call; nested calls go straight to
 * the real function. */
#include "intercept.h"

#include <stdlib.h>

#include "config.h"
#include "connect.h"
#include "log.h"
#include "real.h"
#include "rewrite.h"

static __thread unsigned depth;

/* One interposed call, whichever entry point it came through. */
struct call {
    enum { BY_CONNINFO, BY_ARRAYS, BY_SETDB } kind;
    const char *conninfo;
    const char *const *keywords, *const *values;
    int expand_dbname;
    const char *host, *port, *options, *tty, *dbname, *login, *pwd;
};

static PGconn *pass_through(const struct hpq_libpq *lib, const struct call *c)
{
    switch (c->kind) {
    case BY_CONNINFO: return lib->connectdb(c->conninfo);
    case BY_ARRAYS: return lib->connectdb_params(c->keywords, c->values, c->expand_dbname);
    default:
        return lib->setdb_login(c->host, c->port, c->options, c->tty, c->dbname, c->login,
                                c->pwd);
    }
}

static int program_params(const struct hpq_libpq *lib, const struct call *c,
                          struct hpq_params *out, char *err, size_t errlen)
{
    switch (c->kind) {
    case BY_CONNINFO: return hpq_params_from_conninfo(lib, c->conninfo, out, err, errlen);
    case BY_ARRAYS:
        return hpq_params_from_arrays(lib, c->keywords, c->values, c->expand_dbname, out, err,
                                      errlen);
    default:
        return hpq_params_from_setdb(lib, c->host, c->port, c->options, c->dbname, c->login,
                                     c->pwd, out, err, errlen);
    }
}

/* The program's parameters, if this connection is one to rewrite. */
static bool wants_rewrite(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                          const struct call *c, struct hpq_params *program)
{
    char err[256];
    if (program_params(lib, c, program, err, sizeof err) != 0) {
        /* libpq will report the same error to the program itself. */
        hpq_log(HPQ_DEBUG, "leaving a connection libpq cannot parse to libpq");
        return false;
    }
    hpq_log_secret(hpq_params_get(program, "password"));
    hpq_log_secret(hpq_params_get(program, "sslpassword"));
    return hpq_is_target(cfg, program, getenv("PGHOST"));
}

static PGconn *intercept(const void *caller, const struct call *c)
{
    const struct hpq_libpq *lib = hpq_libpq_for(caller);
    if (!lib)
        return NULL;
    const struct hpq_config *cfg = hpq_config();
    if (depth > 0 || !cfg->enabled)
        return pass_through(lib, c);
    depth++;
    struct hpq_params program = {0};
    PGconn *conn = wants_rewrite(lib, cfg, c, &program) ? hpq_connect(lib, cfg, &program)
                                                         : pass_through(lib, c);
    hpq_params_clear(&program);
    depth--;
    return conn;
}

PGconn *hpq_on_connectdb(const void *caller, const char *conninfo)
{
    return intercept(caller, &(struct call){.kind = BY_CONNINFO, .conninfo = conninfo});
}

PGconn *hpq_on_connectdb_params(const void *caller, const char *const *keywords,
                                const char *const *values, int expand_dbname)
{
    return intercept(caller, &(struct call){.kind = BY_ARRAYS,
                                            .keywords = keywords,
                                            .values = values,
                                            .expand_dbname = expand_dbname});
}

PGconn *hpq_on_setdb_login(const void *caller, const char *host, const char *port,
                           const char *options, const char *tty, const char *dbname,
                           const char *login, const char *pwd)
{
    return intercept(caller, &(struct call){.kind = BY_SETDB,
                                            .host = host,
                                            .port = port,
                                            .options = options,
                                            .tty = tty,
                                            .dbname = dbname,
                                            .login = login,
                                            .pwd = pwd});
}

/* Until the asynchronous entry points are rewritten, a program's own
 * PQconnectStart* passes through; nested ones (libpq's PQconnectdb calling
 * its PQconnectStart) are where the shim's attempts get their SQLSTATEs. */
PGconn *hpq_on_connect_start(const void *caller, const char *conninfo)
{
    const struct hpq_libpq *lib = hpq_libpq_for(caller);
    PGconn *conn = lib ? lib->connect_start(conninfo) : NULL;
    if (conn && depth > 0)
        hpq_connect_started(lib, conn);
    return conn;
}

PGconn *hpq_on_connect_start_params(const void *caller, const char *const *keywords,
                                    const char *const *values, int expand_dbname)
{
    const struct hpq_libpq *lib = hpq_libpq_for(caller);
    PGconn *conn = lib ? lib->connect_start_params(keywords, values, expand_dbname) : NULL;
    if (conn && depth > 0)
        hpq_connect_started(lib, conn);
    return conn;
}
