/* connect.c — see connect.h. */
#include "connect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "clock.h"
#include "conns.h"
#include "fallback.h"
#include "log.h"
#include "parse_memo.h"
#include "rewrite_memo.h"
#include "seen.h"
#include "secret.h"
#include "tls_memo.h"

#define HPQ_ERR_MAX 256

/* The attempt the shim is making on this thread, whose PGconn should report
 * SQLSTATEs. Set only around our own call into libpq. */
static __thread bool attempt_armed;
static __thread PGconn *attempt_conn;

void hpq_connect_started(const struct hpq_libpq *lib, PGconn *conn)
{
    if (!attempt_armed || !conn)
        return;
    lib->set_error_verbosity(conn, PQERRORS_VERBOSE);
    attempt_conn = conn;
    attempt_armed = false;
}

/* Said once per process: the program gets the database it names, not the URL's. */
static void warn_other_database(const struct hpq_config *cfg, const char *db, const char *url_db)
{
    static bool warned;
    if (__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED))
        return;
    hpq_log(HPQ_WARN, "the program names database \"%s\", config var %s names \"%s\": "
            "connecting to \"%s\" on the app's server, with the app's credentials",
            db, cfg->config_var, url_db ? url_db : "", db);
}

/* The conninfo for the program's connection rewritten to url (NULL: keep the
 * program's routing), made now. malloc'd; NULL if out of memory. */
static char *rewrite_now(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                         const struct hpq_params *program, const struct hpq_params *url,
                         const char *sslmode, const char *min_protocol)
{
    struct hpq_params params = {0};
    char *conninfo = NULL;
    const char *own_db = url ? hpq_explicit_dbname(cfg, program, url) : NULL;
    if (own_db)
        warn_other_database(cfg, own_db, hpq_params_get(url, "dbname"));
    if (hpq_rewrite(program, url, sslmode, &params) == 0 &&
        (!own_db || hpq_params_set(&params, "dbname", own_db) == 0) &&
        (!hpq_tls_memo_knows_floor(lib) || hpq_tls_floor(program, min_protocol, &params) == 0))
        conninfo = hpq_params_to_conninfo(&params);
    hpq_params_clear(&params);
    return conninfo;
}

/* rewrite_now's answer, or a copy of the last one when made from the same. */
static char *rewritten(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                       const struct hpq_params *program,
                       const struct hpq_params *url)
{
    struct hpq_rewrite_key key = {lib, cfg->config_var, getenv("PGSSLMODE"),
                                  getenv("PGSSLMINPROTOCOLVERSION"), program, url};
    char *conninfo = hpq_rewrite_memo_get(&key);
    if (!conninfo &&
        (conninfo = rewrite_now(lib, cfg, program, url, key.sslmode, key.min_protocol)) != NULL)
        hpq_rewrite_memo_put(&key, conninfo);
    char shown[512];
    if (conninfo && hpq_log_enabled(HPQ_DEBUG)) /* redacting is work: only for a line shown */
        hpq_log(HPQ_DEBUG, "connecting with %s", hpq_log_shown(hpq_redact, conninfo, shown, sizeof shown));
    return conninfo;
}

/* One attempt. Blocking: libpq's own PQconnectdb (its timeouts, its host
 * list), whose nested PQconnectStart the shim sees (hpq_connect_started).
 * Starting: PQconnectStart, for HEROKUPQ_ASYNC=start. Either way the PGconn
 * reports SQLSTATEs until the shim has seen its outcome. */
static PGconn *open_conn(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                         const struct hpq_params *program, const struct hpq_params *url,
                         bool start)
{
    char *conninfo = rewritten(lib, cfg, program, url);
    if (!conninfo)
        return NULL; /* out of memory: what libpq itself returns then */
    PGconn *conn;
    if (start) {
        conn = lib->connect_start(conninfo);
        if (conn)
            lib->set_error_verbosity(conn, PQERRORS_VERBOSE);
    } else {
        attempt_armed = true;
        attempt_conn = NULL;
        conn = lib->connectdb(conninfo);
        attempt_armed = false;
        if (conn && conn == attempt_conn)
            lib->set_error_verbosity(conn, PQERRORS_DEFAULT); /* the program's default again */
    }
    hpq_free_secret(conninfo);
    return conn;
}

/* No URL to use: the program's own routing, still over SSL; or, when strict,
 * a failed connection that says why. */
static PGconn *connect_with_program_params(const struct hpq_libpq *lib,
                                          const struct hpq_config *cfg,
                                          const struct hpq_params *program, const char *why,
                                          bool start)
{
    if (cfg->strict)
        return hpq_fallback_failed_conn(lib, why);
    hpq_fallback_warn(cfg, program);
    PGconn *conn = open_conn(lib, cfg, program, NULL, start);
    if (conn && start)
        lib->set_error_verbosity(conn, PQERRORS_DEFAULT); /* not watched: nothing to learn */
    return conn;
}

static const char *or_default(const char *v) { return v && *v ? v : "(libpq's default)"; }

/* Where a URL sends connections, without its secrets: "host H, port P, database D". */
static void describe(const struct hpq_params *url, char *buf, size_t len)
{
    snprintf(buf, len, "host %s, port %s, database %s", or_default(hpq_params_get(url, "host")),
             or_default(hpq_params_get(url, "port")), or_default(hpq_params_get(url, "dbname")));
}

/* Said once per process, at info: where the shim sends connections. */
static void announce(const struct hpq_config *cfg, const struct hpq_params *url)
{
    static int said;
    if (!hpq_log_enabled(HPQ_INFO) || __atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
        return;
    char where[HPQ_ERR_MAX], origin[HPQ_ERR_MAX];
    describe(url, where, sizeof where);
    hpq_log(HPQ_INFO, "connections go to %s: %s", hpq_config_origin(cfg, origin, sizeof origin),
            where);
}

/* One warning per URL (not per connection) for the keys it may not set. */
static void warn_dropped(const struct hpq_config *cfg, const char *url, const char *dropped)
{
    static unsigned long warned_for; /* a hash of the last URL warned about */
    unsigned long h = 5381;
    for (const char *p = url; *p; p++)
        h = h * 33 + (unsigned char)*p;
    if (!*dropped || __atomic_exchange_n(&warned_for, h, __ATOMIC_RELAXED) == h)
        return;
    hpq_log(HPQ_WARN,
            "config var %s of app %s sets %s: ignored (a config var names a database; it only "
            "sets host, port, dbname, user, password and a stronger sslmode)",
            cfg->config_var, cfg->app, dropped);
}

int hpq_connect_parse_url(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                          const char *url, struct hpq_params *out, char *err, size_t errlen)
{
    char why[HPQ_ERR_MAX], dropped[HPQ_ERR_MAX];
    if (hpq_parse_memo_url(lib, url, out, dropped, sizeof dropped, why, sizeof why) == 0) {
        warn_dropped(cfg, url, dropped);
        hpq_log_secret(hpq_params_get(out, "password"));
        announce(cfg, out);
        hpq_seen_add(hpq_params_get(out, "host"), hpq_params_get(out, "port"), cfg->config_var);
        return 0;
    }
    char origin[HPQ_ERR_MAX];
    snprintf(err, errlen, "the URL from %s %s", hpq_config_origin(cfg, origin, sizeof origin), why);
    hpq_log(HPQ_ERROR, "%s", err);
    return -1;
}

/* What a failure the shim could not retry teaches: stale credentials or a
 * vanished server make the next connection fetch the URL again. */
void hpq_connect_learn(const struct hpq_libpq *lib, PGconn *conn, const char *url)
{
    enum hpq_outcome outcome = hpq_classify(lib->status(conn), lib->error_message(conn));
    if (outcome == HPQ_CONNECTED) {
        hpq_cache_confirm(url);
    } else if (outcome == HPQ_STALE || outcome == HPQ_UNREACHABLE) {
        hpq_cache_invalidate(url);
        hpq_log(HPQ_INFO, "a connection failed, %s: the next one will fetch the current URL",
                hpq_classify_said(outcome));
    }
}

/* Should a failed attempt at url be tried again? Sets *next to the URL for
 * the next attempt. Stale credentials wait (within the deadline) for the
 * config var to change; an unreachable server only gets a fetch that can be
 * made now, and a retry only if it names another place. */
static bool retry_with(const struct hpq_config *cfg, enum hpq_outcome outcome,
                       const char *url, long long deadline, unsigned attempt, const char *why,
                       char **next)
{
    if (outcome != HPQ_STALE && outcome != HPQ_UNREACHABLE)
        return false;
    long long now = hpq_now_ms();
    if (now >= deadline)
        return false;
    hpq_log(HPQ_DEBUG, "attempt %u failed, %s: %s; asking the API for the current URL", attempt,
            hpq_classify_said(outcome), why);
    char err[HPQ_ERR_MAX];
    *next = hpq_cache_refresh(cfg, cfg->config_var, url, outcome == HPQ_STALE ? deadline : now,
                              err, sizeof err);
    if (*next && (outcome == HPQ_STALE || strcmp(*next, url) != 0))
        return true;
    hpq_free_secret(*next);
    *next = NULL;
    return false;
}

/* Said once per rotation the shim repaired (at info): a connection that
 * failed as stale connected on a later attempt. */
static void announce_recovery(const struct hpq_params *url, unsigned attempts, long long since)
{
    char where[HPQ_ERR_MAX];
    describe(url, where, sizeof where);
    hpq_log(HPQ_INFO, "the credentials changed (rotation): connected on attempt %u, %lld ms later; "
            "connections go to %s", attempts, hpq_now_ms() - since, where);
}

/* What one blocking attempt's outcome teaches the cache, and the registry
 * (for PQreset). A success after a failed attempt is a repaired rotation. */
static enum hpq_outcome settle_attempt(const struct hpq_libpq *lib, const char *var, PGconn *conn,
                                       const char *url, const struct hpq_params *url_params,
                                       unsigned attempts, long long started, bool own_db)
{
    const char *why = lib->error_message(conn);
    enum hpq_outcome outcome = hpq_classify(lib->status(conn), why);
    /* A database the program named itself is not one a new URL brings back. */
    if (own_db && outcome == HPQ_STALE && hpq_classify_has_sqlstate(why, "3D000"))
        outcome = HPQ_REFUSED;
    if (outcome == HPQ_CONNECTED) {
        hpq_cache_confirm(url);
        if (attempts > 1)
            announce_recovery(url_params, attempts, started);
    }
    if (outcome != HPQ_STALE && outcome != HPQ_UNREACHABLE)
        hpq_conns_add(conn, url, var);
    return outcome;
}

struct hpq_config hpq_connect_for_var(const struct hpq_config *cfg, const char *var)
{
    struct hpq_config for_var = *cfg;
    for_var.config_var = (char *)var;
    return for_var;
}

PGconn *hpq_connect(const struct hpq_libpq *lib, const struct hpq_config *process_cfg,
                    const char *var, const struct hpq_params *program)
{
    struct hpq_config for_var = hpq_connect_for_var(process_cfg, var);
    const struct hpq_config *cfg = &for_var;
    char err[HPQ_ERR_MAX];
    /* The resolve's waits count against the budget too. */
    long long started = hpq_now_ms(), deadline = started + cfg->retry_ms;
    char *url = hpq_cache_get(cfg, cfg->config_var, err, sizeof err);
    if (!url)
        return connect_with_program_params(lib, cfg, program, err, false);
    PGconn *conn = NULL;
    for (unsigned attempts = 1;; attempts++) {
        struct hpq_params url_params = {0};
        if (hpq_connect_parse_url(lib, cfg, url, &url_params, err, sizeof err)) {
            conn = connect_with_program_params(lib, cfg, program, err, false);
            break;
        }
        conn = open_conn(lib, cfg, program, &url_params, false);
        bool own_db = hpq_explicit_dbname(cfg, program, &url_params) != NULL;
        enum hpq_outcome outcome =
            conn ? settle_attempt(lib, cfg->config_var, conn, url, &url_params, attempts, started, own_db)
                 : HPQ_REFUSED;
        hpq_params_clear(&url_params);
        if (!conn)
            break;
        char *next = NULL;
        if (!retry_with(cfg, outcome, url, deadline, attempts, lib->error_message(conn), &next))
            break;
        lib->finish(conn);
        hpq_free_secret(url);
        url = next;
    }
    hpq_free_secret(url);
    return conn;
}

PGconn *hpq_connect_start(const struct hpq_libpq *lib, const struct hpq_config *process_cfg,
                          const char *var, const struct hpq_params *program)
{
    struct hpq_config for_var = hpq_connect_for_var(process_cfg, var);
    const struct hpq_config *cfg = &for_var;
    char err[HPQ_ERR_MAX];
    char *url = hpq_cache_get(cfg, cfg->config_var, err, sizeof err);
    struct hpq_params url_params = {0};
    PGconn *conn;
    if (!url)
        conn = connect_with_program_params(lib, cfg, program, err, true);
    else if (hpq_connect_parse_url(lib, cfg, url, &url_params, err, sizeof err))
        conn = connect_with_program_params(lib, cfg, program, err, true);
    else if ((conn = open_conn(lib, cfg, program, &url_params, true)) != NULL) {
        hpq_conns_add(conn, url, cfg->config_var);
        if (lib->status(conn) != CONNECTION_BAD) { /* its outcome: hpq_reset_settled */
            hpq_conns_watch(conn, &(struct hpq_watch){.saved = PQERRORS_DEFAULT});
        } else {
            hpq_connect_learn(lib, conn, url);
            lib->set_error_verbosity(conn, PQERRORS_DEFAULT);
        }
    }
    hpq_params_clear(&url_params);
    hpq_free_secret(url);
    return conn;
}

static PGPing ping_url(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                       const struct hpq_params *program, const struct hpq_params *url)
{
    char *conninfo = rewritten(lib, cfg, program, url);
    PGPing result = conninfo ? lib->ping(conninfo) : PQPING_NO_ATTEMPT;
    hpq_free_secret(conninfo);
    return result;
}

PGPing hpq_ping(const struct hpq_libpq *lib, const struct hpq_config *process_cfg,
                const char *var, const struct hpq_params *program)
{
    struct hpq_config for_var = hpq_connect_for_var(process_cfg, var);
    const struct hpq_config *cfg = &for_var;
    char err[HPQ_ERR_MAX];
    char *url = hpq_cache_get(cfg, cfg->config_var, err, sizeof err);
    if (!url && cfg->strict)
        return PQPING_NO_ATTEMPT; /* the cause is already logged */
    if (!url)
        return ping_url(lib, cfg, program, NULL);
    PGPing result = PQPING_NO_ATTEMPT;
    /* A server that does not answer may have moved (failover): one fresh
     * resolve, and a second ping only if the URL changed. */
    for (int tries = 0; tries < 2; tries++) {
        struct hpq_params url_params = {0};
        if (hpq_connect_parse_url(lib, cfg, url, &url_params, err, sizeof err))
            break;
        result = ping_url(lib, cfg, program, &url_params);
        hpq_params_clear(&url_params);
        char *next = NULL;
        if (result != PQPING_NO_RESPONSE ||
            !retry_with(cfg, HPQ_UNREACHABLE, url, hpq_now_ms() + 1, 1, "no response", &next))
            break;
        hpq_free_secret(url);
        url = next;
    }
    hpq_free_secret(url);
    return result;
}
