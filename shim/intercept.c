/* intercept.c — see intercept.h.
 *
 * libpq calls its own exported functions through its PLT, so one program call
 * to PQconnectdb reaches the shim again as PQconnectStart. A thread-local depth
 * counter keeps the policy to the outermost call; nested calls go straight to
 * the real function. */
#include "intercept.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "config.h"
#include "connect.h"
#include "conns.h"
#include "fork.h"
#include "log.h"
#include "parse.h"
#include "parse_memo.h"
#include "real.h"
#include "reset.h"
#include "seen.h"
#include "shim_on.h"
#include "version.h"

static __thread unsigned depth;
/* The libpq of the outermost call, while depth > 0. */
static __thread const struct hpq_libpq *outer_lib;

static void enter(const struct hpq_libpq *lib)
{
    if (depth++ == 0)
        outer_lib = lib;
}

static void leave(void)
{
    if (--depth == 0)
        outer_lib = NULL;
}

/* The libpq for a call from caller. While the shim is inside a call into
 * libpq on this thread (depth > 0), an interposed call can only come from that
 * libpq calling its own exports through its PLT (nothing else the shim calls
 * uses libpq), so it belongs to the outer call's copy: no lookup needed. */
static const struct hpq_libpq *libpq_for(const void *caller)
{
    hpq_fork_protect(); /* before the table's lock is first taken (fork.h) */
    return depth > 0 && outer_lib ? outer_lib : hpq_libpq_for(caller);
}

/* errno is the program's: the shim's own work (binding, configuration, the
 * API, logging) never changes it. Each entry point saves it on entry. When the
 * shim is on, every outermost call gives the program back exactly that value
 * (libpq itself sets errno to 0 or to leftovers of its socket calls on every
 * connect, ping and finish; the shim's attempts are not the program's). When
 * the shim is off, or for libpq's own nested calls, the call reaches libpq
 * with the program's errno and returns with whatever libpq leaves. */
struct errno_scope {
    int saved;
};
#define ERRNO_SCOPE() ((struct errno_scope){errno})
/* Before handing the call to libpq: undo what the shim did so far. */
static inline void errno_restore(struct errno_scope s) { errno = s.saved; }
/* After libpq returned: keep what libpq set across the shim's own work. */
#define KEEPING_ERRNO(stmt)                                                                       \
    do {                                                                                          \
        int libpq_errno_ = errno;                                                                 \
        stmt;                                                                                     \
        errno = libpq_errno_;                                                                     \
    } while (0)

/* One interposed call, whichever entry point it came through. */
struct call {
    enum { BY_CONNINFO, BY_ARRAYS, BY_SETDB } kind;
    enum { OP_CONNECT, OP_START, OP_PING } op;
    const char *conninfo;
    const char *const *keywords, *const *values;
    int expand_dbname;
    const char *host, *port, *options, *tty, *dbname, *login, *pwd;
};

static PGconn *pass_conn(const struct hpq_libpq *lib, const struct call *c)
{
    bool start = c->op == OP_START;
    switch (c->kind) {
    case BY_CONNINFO: return (start ? lib->connect_start : lib->connectdb)(c->conninfo);
    case BY_ARRAYS:
        return (start ? lib->connect_start_params : lib->connectdb_params)(
            c->keywords, c->values, c->expand_dbname);
    default:
        return lib->setdb_login(c->host, c->port, c->options, c->tty, c->dbname, c->login,
                                c->pwd);
    }
}

static PGPing pass_ping(const struct hpq_libpq *lib, const struct call *c)
{
    return c->kind == BY_CONNINFO ? lib->ping(c->conninfo)
                                  : lib->ping_params(c->keywords, c->values, c->expand_dbname);
}

static int program_params(const struct hpq_libpq *lib, const struct call *c,
                          struct hpq_params *out, char *err, size_t errlen)
{
    switch (c->kind) {
    case BY_CONNINFO: return hpq_parse_memo_program(lib, c->conninfo, out, err, errlen);
    case BY_ARRAYS:
        return hpq_params_from_arrays(lib, c->keywords, c->values, c->expand_dbname, out, err,
                                      errlen);
    default:
        return hpq_params_from_setdb(lib, c->host, c->port, c->options, c->dbname, c->login,
                                     c->pwd, out, err, errlen);
    }
}

/* The config var of the URL whose server the connection names (seen.h), or NULL. */
static const char *seen_server_var(const struct hpq_params *program)
{
    const char *hosts = hpq_params_get(program, "host");
    const char *ports = hpq_params_get(program, "port");
    if (!hosts || !*hosts)
        hosts = getenv("PGHOST");
    if (!ports || !*ports)
        ports = getenv("PGPORT");
    return hpq_seen_var(hosts, ports);
}

/* Once per process, at debug; only after the program's password is known to
 * the scrubber (a password such as "debug" must not show in this first line). */
static void say_version(const struct hpq_config *cfg)
{
    static int said;
    if (hpq_log_enabled(HPQ_DEBUG) && !__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED)) {
        char origin[256];
        hpq_log(HPQ_DEBUG, "herokupq %s, URL from %s", HPQ_VERSION,
                hpq_config_origin(cfg, origin, sizeof origin));
    }
}

/* The config var whose URL this connection goes to, with the program's
 * parameters in program; NULL: not one to rewrite. */
static const char *wants_rewrite(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                                 const struct call *c, struct hpq_params *program)
{
    char err[256];
    if (program_params(lib, c, program, err, sizeof err) != 0) {
        /* libpq will report the same error to the program itself. */
        hpq_log(HPQ_DEBUG, "leaving a connection libpq cannot parse to libpq");
        return NULL;
    }
    hpq_log_secret(hpq_params_get(program, "password"));
    hpq_log_secret(hpq_params_get(program, "sslpassword"));
    say_version(cfg);
    const char *var = hpq_target_var(cfg, program, getenv("PGHOST"));
    return var ? var : seen_server_var(program);
}

/* The policy applies to the outermost call on this thread, when the shim is on. */
static bool outermost(void) { return depth == 0 && hpq_shim_on(); }

static PGconn *connect_call(const struct hpq_libpq *lib, const struct call *c)
{
    const struct hpq_config *cfg = hpq_config();
    struct hpq_params program = {0};
    enter(lib);
    PGconn *conn;
    const char *var = wants_rewrite(lib, cfg, c, &program);
    if (!var)
        conn = pass_conn(lib, c);
    else if (c->op == OP_START && cfg->async_start)
        conn = hpq_connect_start(lib, cfg, var, &program);
    else /* HEROKUPQ_ASYNC=complete: done before return */
        conn = hpq_connect(lib, cfg, var, &program);
    leave();
    hpq_params_clear(&program);
    return conn;
}

static PGconn *on_connect(const void *caller, const struct call *c)
{
    struct errno_scope e = ERRNO_SCOPE();
    const struct hpq_libpq *lib = libpq_for(caller);
    PGconn *conn = NULL;
    if (lib && outermost()) {
        conn = connect_call(lib, c);
        errno_restore(e);
    } else if (lib) {
        errno_restore(e);
        conn = pass_conn(lib, c);
        /* libpq's PQconnectdb starting the connection of one of the shim's attempts */
        if (conn && depth > 0 && c->op == OP_START)
            KEEPING_ERRNO(hpq_connect_started(lib, conn));
    }
    return conn;
}

static PGPing on_ping(const void *caller, const struct call *c)
{
    struct errno_scope e = ERRNO_SCOPE();
    const struct hpq_libpq *lib = libpq_for(caller);
    if (!lib || !outermost()) {
        errno_restore(e);
        return lib ? pass_ping(lib, c) : PQPING_NO_ATTEMPT;
    }
    const struct hpq_config *cfg = hpq_config();
    struct hpq_params program = {0};
    enter(lib);
    const char *var = wants_rewrite(lib, cfg, c, &program);
    PGPing result = var ? hpq_ping(lib, cfg, var, &program) : pass_ping(lib, c);
    leave();
    hpq_params_clear(&program);
    errno_restore(e);
    return result;
}

PGconn *hpq_on_connectdb(const void *caller, const char *conninfo)
{
    return on_connect(caller, &(struct call){.kind = BY_CONNINFO, .conninfo = conninfo});
}

PGconn *hpq_on_connectdb_params(const void *caller, const char *const *keywords,
                                const char *const *values, int expand_dbname)
{
    return on_connect(caller, &(struct call){.kind = BY_ARRAYS,
                                             .keywords = keywords,
                                             .values = values,
                                             .expand_dbname = expand_dbname});
}

PGconn *hpq_on_setdb_login(const void *caller, const char *host, const char *port,
                           const char *options, const char *tty, const char *dbname,
                           const char *login, const char *pwd)
{
    return on_connect(caller, &(struct call){.kind = BY_SETDB,
                                             .host = host,
                                             .port = port,
                                             .options = options,
                                             .tty = tty,
                                             .dbname = dbname,
                                             .login = login,
                                             .pwd = pwd});
}

PGconn *hpq_on_connect_start(const void *caller, const char *conninfo)
{
    return on_connect(caller,
                      &(struct call){.kind = BY_CONNINFO, .op = OP_START, .conninfo = conninfo});
}

PGconn *hpq_on_connect_start_params(const void *caller, const char *const *keywords,
                                    const char *const *values, int expand_dbname)
{
    return on_connect(caller, &(struct call){.kind = BY_ARRAYS,
                                             .op = OP_START,
                                             .keywords = keywords,
                                             .values = values,
                                             .expand_dbname = expand_dbname});
}

PGPing hpq_on_ping(const void *caller, const char *conninfo)
{
    return on_ping(caller, &(struct call){.kind = BY_CONNINFO, .op = OP_PING, .conninfo = conninfo});
}

PGPing hpq_on_ping_params(const void *caller, const char *const *keywords,
                          const char *const *values, int expand_dbname)
{
    return on_ping(caller, &(struct call){.kind = BY_ARRAYS,
                                          .op = OP_PING,
                                          .keywords = keywords,
                                          .values = values,
                                          .expand_dbname = expand_dbname});
}

/* The functions below only observe: the connection is the program's. */

PostgresPollingStatusType hpq_on_connect_poll(const void *caller, PGconn *conn)
{
    struct errno_scope e = ERRNO_SCOPE();
    const struct hpq_libpq *lib = libpq_for(caller);
    errno_restore(e);
    if (!lib)
        return PGRES_POLLING_FAILED;
    if (depth > 0)
        return lib->connect_poll(conn);
    bool mine = outermost();
    enter(lib); /* a reset the shim restarts polls inside libpq */
    PostgresPollingStatusType status = lib->connect_poll(conn);
    KEEPING_ERRNO(status = hpq_reset_settled(lib, hpq_config(), conn, status));
    leave();
    if (mine)
        errno_restore(e);
    return status;
}

PostgresPollingStatusType hpq_on_reset_poll(const void *caller, PGconn *conn)
{
    struct errno_scope e = ERRNO_SCOPE();
    const struct hpq_libpq *lib = libpq_for(caller);
    errno_restore(e);
    if (!lib)
        return PGRES_POLLING_FAILED;
    if (depth > 0)
        return lib->reset_poll(conn);
    bool mine = outermost();
    enter(lib); /* libpq's PQresetPoll calls its PQconnectPoll */
    PostgresPollingStatusType status = lib->reset_poll(conn);
    KEEPING_ERRNO(status = hpq_reset_settled(lib, hpq_config(), conn, status));
    leave();
    if (mine)
        errno_restore(e);
    return status;
}

/* PQreset on a rewritten connection is libpq's reset with the shim watching
 * it: errno as the program had it, like a rewritten connect. */
void hpq_on_reset(const void *caller, PGconn *conn)
{
    struct errno_scope e = ERRNO_SCOPE();
    const struct hpq_libpq *lib = libpq_for(caller);
    errno_restore(e);
    if (!lib)
        return;
    if (!outermost()) {
        lib->reset(conn);
        return;
    }
    enter(lib);
    hpq_reset(lib, hpq_config(), conn);
    leave();
    errno_restore(e);
}

int hpq_on_reset_start(const void *caller, PGconn *conn)
{
    struct errno_scope e = ERRNO_SCOPE();
    const struct hpq_libpq *lib = libpq_for(caller);
    errno_restore(e);
    if (!lib)
        return 0;
    if (!outermost())
        return lib->reset_start(conn);
    enter(lib);
    int started = hpq_reset_start(lib, hpq_config(), conn);
    leave();
    errno_restore(e);
    return started;
}

void hpq_on_finish(const void *caller, PGconn *conn)
{
    struct errno_scope e = ERRNO_SCOPE();
    const struct hpq_libpq *lib = libpq_for(caller);
    hpq_conns_remove(conn);
    bool mine = outermost();
    errno_restore(e);
    if (lib)
        lib->finish(conn);
    if (mine)
        errno_restore(e);
}
