/* connect.c — see connect.h. */
#include "connect.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "conns.h"
#include "creds.h"
#include "log.h"
#include "seen.h"
#include "secret.h"

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

/* Each SQLSTATE in a VERBOSE message follows "<severity>:  " as "XXXXX: ". */
static bool next_sqlstate(const char **cursor, char code[6])
{
    const char *p;
    while ((p = strstr(*cursor, ":  ")) != NULL) {
        *cursor = p + 3;
        bool ok = true;
        for (int i = 0; i < 5 && ok; i++)
            ok = isdigit((unsigned char)p[3 + i]) || isupper((unsigned char)p[3 + i]);
        if (ok && p[8] == ':') {
            memcpy(code, p + 3, 5);
            code[5] = '\0';
            return true;
        }
    }
    return false;
}

bool hpq_has_sqlstate(const char *message, const char *sqlstate)
{
    const char *cursor = message ? message : "";
    char code[6];
    while (next_sqlstate(&cursor, code))
        if (strcmp(code, sqlstate) == 0)
            return true;
    return false;
}

enum hpq_outcome hpq_classify(ConnStatusType status, const char *message)
{
    if (status == CONNECTION_OK)
        return HPQ_CONNECTED;
    const char *cursor = message ? message : "";
    char code[6];
    bool any = false;
    while (next_sqlstate(&cursor, code)) {
        any = true;
        /* 28P01 bad password, 28000 role gone or not allowed, 3D000 no database */
        if (strcmp(code, "28P01") == 0 || strcmp(code, "28000") == 0 ||
            strcmp(code, "3D000") == 0)
            return HPQ_STALE;
    }
    return any ? HPQ_REFUSED : HPQ_UNREACHABLE;
}

/* A connection that failed before reaching any server, whose PQerrorMessage
 * says why: libpq reports an unknown option by name, and the name is ours. */
static PGconn *failed_conn(const struct hpq_libpq *lib, const char *cause)
{
    char raw[HPQ_ERR_MAX + 64], option[HPQ_ERR_MAX + 64];
    snprintf(raw, sizeof raw, "herokupq: %s", cause);
    hpq_log_scrub(raw, option, sizeof option); /* an API message may echo the token */
    const char *const keywords[] = {option, NULL};
    const char *const values[] = {"1", NULL};
    return lib->connectdb_params(keywords, values, 0);
}

/* A URL or conninfo string: it holds a password. */

/* libpq 13 and later know ssl_min_protocol_version; an older one would reject
 * the whole connection string for naming it. */
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

/* Whether this libpq knows ssl_min_protocol_version (13 and later). Asked once
 * per copy of libpq, not per connection: a PQconninfoParse costs about 18,000
 * instructions. Each slot holds (uintptr_t)lib | answer, lock-free (the
 * struct is aligned, so bit 0 is free), so fork needs nothing here. */
#define TLS_MEMO_SLOTS 4
static uintptr_t tls_memo[TLS_MEMO_SLOTS];

static bool knows_tls_floor(const struct hpq_libpq *lib)
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
        (!knows_tls_floor(lib) || hpq_tls_floor(program, min_protocol, &params) == 0))
        conninfo = hpq_params_to_conninfo(&params);
    hpq_params_clear(&params);
    return conninfo;
}

struct rewrite_key {
    const struct hpq_libpq *lib;
    const char *var, *sslmode, *min_protocol;
    const struct hpq_params *program, *url;
};
static char *kept_rewrite_get(const struct rewrite_key *k);
static void kept_rewrite_put(const struct rewrite_key *k, const char *conninfo);

/* rewrite_now's answer, or a copy of the last one when made from the same. */
static char *rewritten(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                       const struct hpq_params *program,
                       const struct hpq_params *url)
{
    struct rewrite_key key = {lib, cfg->config_var, getenv("PGSSLMODE"),
                              getenv("PGSSLMINPROTOCOLVERSION"), program, url};
    char *conninfo = kept_rewrite_get(&key);
    if (!conninfo &&
        (conninfo = rewrite_now(lib, cfg, program, url, key.sslmode, key.min_protocol)) != NULL)
        kept_rewrite_put(&key, conninfo);
    char shown[512];
    if (conninfo && hpq_log_enabled(HPQ_DEBUG)) /* redacting is work: only for a line shown */
        hpq_log(HPQ_DEBUG, "connecting with %s", hpq_log_shown(hpq_redact, conninfo, shown, sizeof shown));
    return conninfo;
}

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
        return failed_conn(lib, why);
    hpq_log(HPQ_WARN, "connecting with the program's own parameters (sslmode at least require)");
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

/* The last program conninfo and the last URL parsed, with their parameters:
 * a warm process connects with the same ones every time, and libpq's
 * PQconninfoParse (about 18,000 instructions each) was most of what the shim
 * added to a warm connection. kept_lock is a leaf: nothing else is locked or
 * logged under it. */
enum { KEPT_PROGRAM, KEPT_URL, KEPT_SLOTS };
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kept {
    const struct hpq_libpq *lib; /* whose PQconninfoParse parsed it */
    char *text;
    struct hpq_params params;
} kept[KEPT_SLOTS];

void hpq_connect_lock(void) { pthread_mutex_lock(&kept_lock); }
void hpq_connect_unlock(void) { pthread_mutex_unlock(&kept_lock); }

static bool kept_get(unsigned slot, const struct hpq_libpq *lib, const char *text,
                     struct hpq_params *out)
{
    bool hit = false;
    pthread_mutex_lock(&kept_lock);
    const struct kept *k = &kept[slot];
    if (k->text && k->lib == lib && strcmp(k->text, text) == 0)
        hit = hpq_params_copy(out, &k->params) == 0;
    pthread_mutex_unlock(&kept_lock);
    if (!hit)
        hpq_params_clear(out); /* a copy cut short by malloc */
    return hit;
}

static void kept_put(unsigned slot, const struct hpq_libpq *lib, const char *text,
                     const struct hpq_params *params)
{
    struct kept fresh = {lib, strdup(text), {0}};
    if (!fresh.text || hpq_params_copy(&fresh.params, params) != 0) {
        hpq_free_secret(fresh.text);
        hpq_params_clear(&fresh.params);
        return; /* out of memory: the next connection parses again */
    }
    pthread_mutex_lock(&kept_lock);
    struct kept old = kept[slot];
    kept[slot] = fresh;
    pthread_mutex_unlock(&kept_lock);
    hpq_free_secret(old.text);
    hpq_params_clear(&old.params);
}

/* The last conninfo rewritten and what it was made from (guarded by
 * kept_lock too): a warm process makes the same one for every connection,
 * and making it was about 9,000 instructions of each. */
static struct kept_rewrite {
    const struct hpq_libpq *lib;
    char *var, *sslmode, *min_protocol; /* "" for an unset variable */
    bool has_url;
    struct hpq_params program, url;
    char *conninfo;
} kept_rw;

static bool same_text(const char *kept_text, const char *s)
{
    return strcmp(kept_text, s ? s : "") == 0;
}

static bool kept_rewrite_matches(const struct kept_rewrite *k, const struct rewrite_key *key)
{
    return k->conninfo && k->lib == key->lib && same_text(k->var, key->var) &&
           same_text(k->sslmode, key->sslmode) && same_text(k->min_protocol, key->min_protocol) &&
           k->has_url == (key->url != NULL) && hpq_params_equal(&k->program, key->program) &&
           (!key->url || hpq_params_equal(&k->url, key->url));
}

static char *kept_rewrite_get(const struct rewrite_key *key)
{
    pthread_mutex_lock(&kept_lock);
    char *copy = kept_rewrite_matches(&kept_rw, key) ? strdup(kept_rw.conninfo) : NULL;
    pthread_mutex_unlock(&kept_lock);
    return copy;
}

static void kept_rewrite_clear(struct kept_rewrite *k)
{
    free(k->var);
    free(k->sslmode);
    free(k->min_protocol);
    hpq_params_clear(&k->program);
    hpq_params_clear(&k->url);
    hpq_free_secret(k->conninfo); /* it holds the password */
}

static void kept_rewrite_put(const struct rewrite_key *key, const char *conninfo)
{
    struct kept_rewrite fresh = {key->lib, strdup(key->var ? key->var : ""),
                                 strdup(key->sslmode ? key->sslmode : ""),
                                 strdup(key->min_protocol ? key->min_protocol : ""),
                                 key->url != NULL, {0}, {0}, strdup(conninfo)};
    bool ok = fresh.var && fresh.sslmode && fresh.min_protocol && fresh.conninfo &&
              hpq_params_copy(&fresh.program, key->program) == 0 &&
              (!key->url || hpq_params_copy(&fresh.url, key->url) == 0);
    if (ok) {
        pthread_mutex_lock(&kept_lock);
        struct kept_rewrite old = kept_rw;
        kept_rw = fresh;
        pthread_mutex_unlock(&kept_lock);
        fresh = old;
    }
    kept_rewrite_clear(&fresh); /* the one replaced, or the one not kept (out of memory) */
}

typedef int parse_fn(const struct hpq_libpq *lib, const char *text, struct hpq_params *out,
                     char *err, size_t errlen);

/* parse(text), or a copy of its result from the last time. */
static int parse_kept(unsigned slot, parse_fn *parse, const struct hpq_libpq *lib,
                      const char *text, struct hpq_params *out, char *err, size_t errlen)
{
    if (kept_get(slot, lib, text, out))
        return 0;
    if (parse(lib, text, out, err, errlen) != 0)
        return -1;
    kept_put(slot, lib, text, out);
    return 0;
}

int hpq_connect_program_conninfo(const struct hpq_libpq *lib, const char *conninfo,
                                 struct hpq_params *out, char *err, size_t errlen)
{
    return parse_kept(KEPT_PROGRAM, hpq_params_from_conninfo, lib, conninfo ? conninfo : "",
                      out, err, errlen);
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

/* The URL's parameters: a copy of the last parse, or a new parse, which also
 * names the keys the URL may not set (warned about once per URL). */
static int parse_url_kept(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                          const char *url, struct hpq_params *out, char *why, size_t whylen)
{
    if (kept_get(KEPT_URL, lib, url, out))
        return 0;
    char dropped[HPQ_ERR_MAX];
    if (hpq_url_parse_dropping(lib, url, out, dropped, sizeof dropped, why, whylen) != 0)
        return -1;
    warn_dropped(cfg, url, dropped);
    kept_put(KEPT_URL, lib, url, out);
    return 0;
}

static int parse_url(const struct hpq_libpq *lib, const struct hpq_config *cfg, const char *url,
                     struct hpq_params *out, char *err, size_t errlen)
{
    char why[HPQ_ERR_MAX];
    if (parse_url_kept(lib, cfg, url, out, why, sizeof why) == 0) {
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

static const char *outcome_name(enum hpq_outcome outcome)
{
    return outcome == HPQ_STALE ? "the credentials or database are gone"
                                : "the server did not answer";
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
            outcome_name(outcome), why);
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
    if (own_db && outcome == HPQ_STALE && hpq_has_sqlstate(why, "3D000"))
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

/* The configuration with var as its config var: below, cfg->config_var is
 * always the var of the connection at hand. */
static struct hpq_config with_var(const struct hpq_config *cfg, const char *var)
{
    struct hpq_config for_var = *cfg;
    for_var.config_var = (char *)var;
    return for_var;
}

PGconn *hpq_connect(const struct hpq_libpq *lib, const struct hpq_config *process_cfg,
                    const char *var, const struct hpq_params *program)
{
    struct hpq_config for_var = with_var(process_cfg, var);
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
        if (parse_url(lib, cfg, url, &url_params, err, sizeof err)) {
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
    struct hpq_config for_var = with_var(process_cfg, var);
    const struct hpq_config *cfg = &for_var;
    char err[HPQ_ERR_MAX];
    char *url = hpq_cache_get(cfg, cfg->config_var, err, sizeof err);
    struct hpq_params url_params = {0};
    PGconn *conn;
    if (!url)
        conn = connect_with_program_params(lib, cfg, program, err, true);
    else if (parse_url(lib, cfg, url, &url_params, err, sizeof err))
        conn = connect_with_program_params(lib, cfg, program, err, true);
    else if ((conn = open_conn(lib, cfg, program, &url_params, true)) != NULL) {
        hpq_conns_add(conn, url, cfg->config_var);
        hpq_conns_watch(conn, &(struct hpq_watch){.saved = PQERRORS_DEFAULT});
        if (lib->status(conn) == CONNECTION_BAD)
            hpq_connect_settled(lib, cfg, conn, PGRES_POLLING_FAILED);
    }
    hpq_params_clear(&url_params);
    hpq_free_secret(url);
    return conn;
}

/* What a failure the shim could not retry teaches: stale credentials or a
 * vanished server make the next connection fetch the URL again. */
static void remember_outcome(const struct hpq_libpq *lib, PGconn *conn, const char *url)
{
    enum hpq_outcome outcome = hpq_classify(lib->status(conn), lib->error_message(conn));
    if (outcome == HPQ_CONNECTED) {
        hpq_cache_confirm(url);
    } else if (outcome == HPQ_STALE || outcome == HPQ_UNREACHABLE) {
        hpq_cache_invalidate(url);
        hpq_log(HPQ_INFO, "a connection failed, %s: the next one will fetch the current URL",
                outcome_name(outcome));
    }
}

/* A reset of conn failed: is it stale, with time left to repair it? */
static bool reset_stale(const struct hpq_libpq *lib, PGconn *conn, unsigned attempt,
                        long long deadline)
{
    const char *why = lib->error_message(conn);
    if (hpq_classify(lib->status(conn), why) != HPQ_STALE || hpq_now_ms() >= deadline)
        return false;
    hpq_log(attempt == 1 ? HPQ_INFO : HPQ_DEBUG,
            "reset attempt %u failed, the credentials are gone: %s; asking the API for the "
            "current URL", attempt, why);
    return true;
}

/* Write next's credentials into conn, rewritten to url (see creds.h). */
static bool renewed_in_place(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                             PGconn *conn, const char *url, const char *next)
{
    struct hpq_params old_params = {0}, new_params = {0};
    char err[HPQ_ERR_MAX];
    bool ok = parse_url(lib, cfg, url, &old_params, err, sizeof err) == 0 &&
              parse_url(lib, cfg, next, &new_params, err, sizeof err) == 0;
    if (ok && hpq_creds_update(lib, conn, &old_params, &new_params, err, sizeof err) != 0) {
        hpq_log(HPQ_WARN, "a reset connection cannot take the new credentials in place (%s): "
                "it fails as libpq reports it; new connections get the new URL", err);
        ok = false;
    }
    hpq_params_clear(&old_params);
    hpq_params_clear(&new_params);
    if (ok) {
        hpq_conns_add(conn, next, cfg->config_var);
        hpq_log(HPQ_INFO, "the reset connection now holds the new credentials");
    }
    return ok;
}

/* conn, rewritten to *url, failed a reset as stale: ask for the current URL
 * and, if it is new, bring conn's credentials up to date. true: reset again
 * (*url is then the URL conn holds; the same one while the config var lags). */
static bool renew(const struct hpq_libpq *lib, const struct hpq_config *cfg, PGconn *conn,
                  char **url, long long deadline)
{
    char err[HPQ_ERR_MAX];
    char *next = hpq_cache_refresh(cfg, cfg->config_var, *url, deadline, err, sizeof err);
    if (!next) {
        hpq_log(HPQ_DEBUG, "the reset is not repaired: %s", err);
        return false;
    }
    if (strcmp(next, *url) != 0 && !renewed_in_place(lib, cfg, conn, *url, next)) {
        hpq_free_secret(next);
        return false;
    }
    hpq_free_secret(*url);
    *url = next;
    return true;
}

/* PQresetPoll failed on a reset the shim may repair: renew the credentials
 * and start the reset again. true if it is under way again (still watched). */
static bool restart_reset(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                          PGconn *conn, char **url, const struct hpq_watch *watch)
{
    if (!watch->repair_until || !reset_stale(lib, conn, watch->attempt, watch->repair_until) ||
        !renew(lib, cfg, conn, url, watch->repair_until) || !lib->reset_start(conn))
        return false;
    struct hpq_watch again = *watch;
    again.attempt++;
    return hpq_conns_watch(conn, &again);
}

PostgresPollingStatusType hpq_connect_settled(const struct hpq_libpq *lib,
                                              const struct hpq_config *cfg, PGconn *conn,
                                              PostgresPollingStatusType status)
{
    if (status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED)
        return status;
    char *url = NULL;
    const char *var = NULL;
    struct hpq_watch watch;
    if (!hpq_conns_unwatch(conn, &url, &var, &watch))
        return status;
    struct hpq_config for_var = with_var(cfg, var);
    if (status == PGRES_POLLING_FAILED && restart_reset(lib, &for_var, conn, &url, &watch)) {
        hpq_free_secret(url);
        return PGRES_POLLING_WRITING; /* as after PQresetStart: the program polls on */
    }
    remember_outcome(lib, conn, url);
    lib->set_error_verbosity(conn, watch.saved);
    hpq_free_secret(url);
    return status;
}

void hpq_connect_reset(const struct hpq_libpq *lib, const struct hpq_config *process_cfg,
                       PGconn *conn)
{
    const char *var = NULL;
    char *url = hpq_conns_url(conn, &var);
    if (!url) {
        lib->reset(conn);
        return;
    }
    struct hpq_config for_var = with_var(process_cfg, var);
    const struct hpq_config *cfg = &for_var;
    PGVerbosity saved = lib->set_error_verbosity(conn, PQERRORS_VERBOSE);
    long long deadline = hpq_now_ms() + cfg->retry_ms;
    lib->reset(conn);
    for (unsigned attempt = 1; reset_stale(lib, conn, attempt, deadline); attempt++) {
        if (!renew(lib, cfg, conn, &url, deadline))
            break;
        lib->reset(conn);
    }
    remember_outcome(lib, conn, url);
    lib->set_error_verbosity(conn, saved);
    hpq_free_secret(url);
}

int hpq_connect_reset_start(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                            PGconn *conn)
{
    const char *var = NULL;
    char *url = hpq_conns_url(conn, &var);
    if (!url)
        return lib->reset_start(conn);
    hpq_free_secret(url);
    struct hpq_watch watch = {
        .saved = lib->set_error_verbosity(conn, PQERRORS_VERBOSE),
        /* HEROKUPQ_ASYNC=start promises polls that never wait for the API */
        .repair_until = cfg->async_start ? 0 : hpq_now_ms() + cfg->retry_ms,
        .attempt = 1,
    };
    hpq_conns_watch(conn, &watch);
    int started = lib->reset_start(conn);
    if (!started)
        hpq_connect_settled(lib, cfg, conn, PGRES_POLLING_FAILED);
    return started;
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
    struct hpq_config for_var = with_var(process_cfg, var);
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
        if (parse_url(lib, cfg, url, &url_params, err, sizeof err))
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
