/* proxy.c — herokupq proxy: a local PgBouncer kept on the app's current
 * database URL (options, the private directory, lifecycle, signals, --check).
 *
 * Two threads. The main one supervises PgBouncer: its log lines (shown
 * through the log's scrubber and redaction), our signals, the drain. The
 * resolver asks the cache (the library's: same sources, TTL with the ETag,
 * single flight, back-off, shared entry) every second, and at once when
 * PgBouncer logs a failed server login or on SIGHUP; when the URL changes it
 * rewrites PgBouncer's configuration and reloads it (SIGHUP), never restarts
 * it, so open sessions stay up. While a failed login is being resolved
 * PgBouncer is paused (SIGUSR1): new clients wait in its queue instead of
 * failing fast; it resumes (SIGUSR2) after the answer. */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "../cache.h"
#include "../clock.h"
#include "../log.h"
#include "../secret.h"
#include "pgbouncer.h"

#define READY_TIMEOUT_MS 15000

struct proxy_opts {
    char dir[PATH_MAX];
    int port, listen_port;
    char listen_host[256];
    bool listen, listen_trust, check;
    const char *pool_mode;
    int max_client_conn, pool_size;
    long drain_timeout_s;
};

struct proxy {
    struct hpq_config cfg;
    struct hpq_bouncer b;
    struct hpq_bouncer_opts bo;
    struct proxy_opts o;
    char *url;          /* the URL PgBouncer is configured with (the resolver's) */
    struct hpq_params params;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool kick_failed, kick_now, confirm, stop, draining, ready;
    bool kick_check; /* server connections were closed by the server: check the credentials */
    bool held;       /* PgBouncer paused by us until the check (or the resolve) is done */
    bool made_dir;
    char socket_link[PATH_MAX]; /* DIR/.s.PGSQL.PORT when PgBouncer's socket has another port */
    char password_file[PATH_MAX];
};

static int signal_pipe[2] = {-1, -1};

/* ---- options ----------------------------------------------------------------------------- */

static const struct option options[] = {
    {"app", required_argument, NULL, 'a'},       {"var", required_argument, NULL, 'v'},
    {"dir", required_argument, NULL, 'd'},       {"port", required_argument, NULL, 'p'},
    {"listen", required_argument, NULL, 'l'},    {"listen-trust", no_argument, NULL, 't'},
    {"pool-mode", required_argument, NULL, 'm'}, {"max-client-conn", required_argument, NULL, 'c'},
    {"pool-size", required_argument, NULL, 's'}, {"drain-timeout", required_argument, NULL, 'T'},
    {"check", no_argument, NULL, 'C'},           {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char proxy_usage[] =
    "usage: herokupq proxy [-a APP] [--var VAR] [--dir DIR] [--port N]\n"
    "                      [--listen HOST:PORT] [--listen-trust]\n"
    "                      [--pool-mode session|transaction] [--max-client-conn N]\n"
    "                      [--pool-size N] [--drain-timeout SECONDS] [--check]\n"
    "A local PgBouncer on the app's current database: clients connect to the socket\n"
    "DIR/.s.PGSQL.PORT (default port 6432) with no password. See herokupq(1).\n";

static bool parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_listen(struct proxy_opts *o, const char *arg)
{
    const char *colon = strrchr(arg, ':');
    long port;
    if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof o->listen_host ||
        !parse_int(colon + 1, 1, 65535, &port))
        return false;
    snprintf(o->listen_host, sizeof o->listen_host, "%.*s", (int)(colon - arg), arg);
    if (o->listen_host[0] == '[') { /* [::1]:7000 */
        size_t n = strlen(o->listen_host);
        if (n < 3 || o->listen_host[n - 1] != ']')
            return false;
        memmove(o->listen_host, o->listen_host + 1, n - 2);
        o->listen_host[n - 2] = '\0';
    }
    o->listen_port = (int)port;
    o->listen = true;
    return true;
}

static bool parse_one(struct proxy_opts *o, int c, const char *arg)
{
    long v;
    switch (c) {
    case 'a': return setenv("HEROKU_APP", arg, 1) == 0;
    case 'v': return setenv("HEROKUPQ_CONFIG_VAR", arg, 1) == 0;
    case 'd': return arg[0] == '/' && snprintf(o->dir, sizeof o->dir, "%s", arg) < (int)sizeof o->dir;
    case 'p': return parse_int(arg, 1, 65535, &v) && (o->port = (int)v);
    case 'l': return parse_listen(o, arg);
    case 't': o->listen_trust = true; return true;
    case 'm':
        o->pool_mode = strcmp(arg, "session") == 0 ? "session"
                       : strcmp(arg, "transaction") == 0 ? "transaction" : NULL;
        return o->pool_mode != NULL;
    case 'c': return parse_int(arg, 1, 100000, &v) && (o->max_client_conn = (int)v);
    case 's': return parse_int(arg, 1, 10000, &v) && (o->pool_size = (int)v);
    case 'T': return parse_int(arg, 0, 86400, &o->drain_timeout_s);
    case 'C': o->check = true; return true;
    default: return false;
    }
}

static void default_dir(struct proxy_opts *o)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    /* root's PgBouncer runs as another user, who cannot enter root's runtime dir */
    if (xdg && xdg[0] == '/' && geteuid() != 0)
        snprintf(o->dir, sizeof o->dir, "%s/herokupq-proxy", xdg);
    else
        snprintf(o->dir, sizeof o->dir, "/tmp/herokupq-proxy-%u", (unsigned)geteuid());
}

/* 0, 1 for --help, -1 (usage printed) on a bad option. */
static int parse_options(int argc, char **argv, struct proxy_opts *o)
{
    *o = (struct proxy_opts){.port = 6432, .pool_mode = "session", .max_client_conn = 500,
                             .pool_size = 15, .drain_timeout_s = 25};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "a:h", options, NULL)) != -1) {
        if (c == 'h') {
            fputs(proxy_usage, stdout);
            return 1;
        }
        if (!parse_one(o, c, optarg ? optarg : "")) {
            if (c != '?')
                fprintf(stderr, "herokupq: proxy: bad value for --%s: %s\n",
                        c == 'd' ? "dir (an absolute path)" : "an option", optarg ? optarg : "");
            fputs(proxy_usage, stderr);
            return -1;
        }
    }
    if (optind != argc || (o->listen_trust && !o->listen)) {
        fputs(o->listen_trust && !o->listen ? "herokupq: proxy: --listen-trust needs --listen\n"
                                            : proxy_usage, stderr);
        return -1;
    }
    if (!o->dir[0])
        default_dir(o);
    return 0;
}

/* ---- errors ------------------------------------------------------------------------------ */

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    char raw[1200], line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    hpq_log_scrub(raw, line, sizeof line);
    fprintf(stderr, "herokupq: error: proxy: %s\n", line);
    return 1;
}

/* ---- the directory, the ports ------------------------------------------------------------ */

/* DIR exists (made 0700 if it did not), is a directory, not a link, owned by
 * us (or by PgBouncer's user, as root) with no group or world access. */
static int prepare_dir(struct proxy *p)
{
    const char *dir = p->o.dir;
    if (strlen(dir) + sizeof "/.s.PGSQL.65535" > sizeof ((struct sockaddr_un *)0)->sun_path)
        return fail("%s is too long for a Unix socket's path (%zu bytes at most)", dir,
                    sizeof ((struct sockaddr_un *)0)->sun_path - sizeof "/.s.PGSQL.65535");
    if (mkdir(dir, 0700) == 0)
        p->made_dir = true;
    else if (errno != EEXIST)
        return fail("cannot create %s: %s", dir, strerror(errno));
    struct stat st;
    if (lstat(dir, &st) != 0)
        return fail("%s: %s", dir, strerror(errno));
    bool owner_ok = st.st_uid == geteuid() || (p->b.drop && st.st_uid == p->b.uid);
    if (!S_ISDIR(st.st_mode) || !owner_ok || (st.st_mode & 077))
        return fail("%s is not private (%s, owner uid %u, mode %04o): it must be a directory of "
                    "yours with mode 0700; give another with --dir", dir,
                    S_ISDIR(st.st_mode) ? "a directory" : "not a directory", (unsigned)st.st_uid,
                    (unsigned)(st.st_mode & 07777));
    if (p->b.drop && chown(dir, p->b.uid, p->b.gid) != 0)
        return fail("cannot give %s to pgbouncer's user: %s", dir, strerror(errno));
    return 0;
}

static int unix_connectable(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Whether HOST:PORT can be bound now (PgBouncer binds it next). */
static int tcp_free(const char *host, int port, char *why, size_t len)
{
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    bool v6 = strchr(host, ':') != NULL;
    if (strcmp(host, "*") == 0)
        s4.sin_addr.s_addr = htonl(INADDR_ANY);
    else if (v6 ? inet_pton(AF_INET6, host, &s6.sin6_addr) != 1 : inet_pton(AF_INET, host, &s4.sin_addr) != 1) {
        snprintf(why, len, "--listen wants a numeric address (127.0.0.1, ::1, *), not %s", host);
        return 0;
    }
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc = fd >= 0 && (v6 ? bind(fd, (struct sockaddr *)&s6, sizeof s6)
                            : bind(fd, (struct sockaddr *)&s4, sizeof s4)) == 0;
    if (!rc)
        snprintf(why, len, "port in use: cannot listen on %s:%d (%s)", host, port, strerror(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}

static int check_ports(struct proxy *p)
{
    char path[PATH_MAX + 32], why[300];
    snprintf(path, sizeof path, "%s/.s.PGSQL.%d", p->o.dir, p->o.port);
    if (unix_connectable(path))
        return fail("port in use: %s already accepts connections (another proxy?); give another "
                    "--port or --dir", path);
    if (p->o.listen && !tcp_free(p->o.listen_host, p->o.listen_port, why, sizeof why))
        return fail("%s", why);
    return 0;
}

/* ---- the local password (--listen) ------------------------------------------------------- */

static int make_local_password(struct proxy *p, char *out, size_t len)
{
    unsigned char raw[24];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return fail("getrandom: %s", strerror(errno));
    for (size_t i = 0; i < sizeof raw && 2 * i + 2 < len; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    hpq_wipe(raw, sizeof raw);
    snprintf(p->password_file, sizeof p->password_file, "%s/password", p->o.dir);
    unlink(p->password_file);
    int fd = open(p->password_file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && dprintf(fd, "%s\n", out) > 0;
    if (fd >= 0)
        close(fd);
    return ok ? 0 : fail("cannot write %s: %s", p->password_file, strerror(errno));
}

/* ---- SELECT 1 through the socket (--check, and warming the pool) ------------------------- */

/* 0 when SELECT 1 through DIR/.s.PGSQL.PORT answers 1; else -1, why says why. */
static int probe(const char *dir, int port, char *why, size_t len)
{
    char conninfo[PATH_MAX + 200];
    snprintf(conninfo, sizeof conninfo, "host='%s' port=%d dbname=%s user=%s connect_timeout=5",
             dir, port, HPQ_PROXY_USER, HPQ_PROXY_USER);
    PGconn *conn = PQconnectdb(conninfo);
    PGresult *res = PQstatus(conn) == CONNECTION_OK ? PQexec(conn, "SELECT 1") : NULL;
    bool ok = res && PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, 0), "1") == 0;
    snprintf(why, len, "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
    why[strcspn(why, "\n")] = '\0';
    PQclear(res);
    PQfinish(conn);
    return ok ? 0 : -1;
}

static int check_proxy(const struct proxy_opts *o)
{
    char why[400];
    if (probe(o->dir, o->port, why, sizeof why) == 0)
        return 0;
    return fail("check: SELECT 1 through %s/.s.PGSQL.%d failed: %s", o->dir, o->port, why);
}

/* One login with the current configuration, so that PgBouncer holds the
 * server's welcome (after a reload it has none, and a failed login then fails
 * every client waiting for one, where it otherwise keeps them waiting). In a
 * thread of its own: a database that does not answer must not hold the
 * resolver. */
static void *warm_main(void *arg)
{
    struct proxy *p = arg;
    char why[400];
    if (probe(p->o.dir, p->o.port, why, sizeof why) != 0)
        hpq_log(HPQ_WARN, "proxy: a first connection through the proxy failed: %s", why);
    return NULL;
}

static void warm(struct proxy *p)
{
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, warm_main, p) != 0)
        hpq_log(HPQ_DEBUG, "proxy: no thread for a first connection");
    pthread_attr_destroy(&attr);
}

/* ---- applying a URL ---------------------------------------------------------------------- */

/* "host, password": the parts of the URL that changed. */
static void describe_change(const struct hpq_params *a, const struct hpq_params *b, char *out, size_t len)
{
    const char *keys[] = {"host", "port", "dbname", "user", "password", "sslmode"};
    out[0] = '\0';
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const char *x = hpq_params_get(a, keys[i]), *y = hpq_params_get(b, keys[i]);
        if ((x || y) && (!x || !y || strcmp(x, y) != 0))
            snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? ", " : "", keys[i]);
    }
    if (!out[0])
        snprintf(out, len, "nothing PgBouncer uses");
}

/* Configure PgBouncer with url (taken: freed here or kept). 0, or -1 (logged
 * or, at start, returned in err) with the old configuration kept. */
static int apply_url(struct proxy *p, char *url, char *err, size_t errlen)
{
    struct hpq_params next = {0};
    if (hpq_url_parse(hpq_cmd_libpq(), url, &next, err, errlen) != 0 ||
        hpq_bouncer_write(&p->b, &p->bo, &next, err, errlen) != 0) {
        hpq_params_clear(&next);
        hpq_free_secret(url);
        return -1;
    }
    hpq_log_secret(hpq_params_get(&next, "password"));
    if (p->url) {
        char what[128];
        describe_change(&p->params, &next, what, sizeof what);
        hpq_bouncer_signal(&p->b, SIGHUP);
        hpq_log(HPQ_INFO, "proxy: credentials changed (%s); pgbouncer reloaded, sessions kept%s", what,
                strstr(what, "host") || strstr(what, "port") ? " (new ones go to the new host)" : "");
    }
    hpq_params_clear(&p->params);
    p->params = next;
    hpq_free_secret(p->url);
    p->url = url;
    return 0;
}

/* ---- the resolver thread ----------------------------------------------------------------- */

static char *resolve(struct proxy *p, bool failed, bool now, char *err, size_t errlen)
{
    const char *var = p->cfg.config_var;
    if (failed)
        return hpq_cache_refresh(&p->cfg, var, p->url, hpq_now_ms() + p->cfg.retry_ms, err, errlen);
    if (now)
        hpq_cache_invalidate(p->url); /* SIGHUP: ask the API, whatever the TTL */
    return hpq_cache_get(&p->cfg, var, err, errlen);
}

/* Whether a direct login with url works now (libpq, TLS as PgBouncer's). A
 * config var may change before the database does: the URL PgBouncer has
 * keeps working until then, and a reload to a URL that does not work yet
 * would fail the clients waiting for its first login. */
static bool url_works(const char *url)
{
    struct hpq_params params = {0}, conn = {0};
    char err[256];
    bool ok = false;
    if (hpq_url_parse(hpq_cmd_libpq(), url, &params, err, sizeof err) == 0 &&
        hpq_params_copy(&conn, &params) == 0 &&
        hpq_params_set(&conn, "sslmode", hpq_sslmode_max("require", hpq_params_get(&params, "sslmode"))) == 0 &&
        hpq_params_set(&conn, "connect_timeout", "5") == 0) {
        char *conninfo = hpq_params_to_conninfo(&conn);
        PGconn *c = conninfo ? PQconnectdb(conninfo) : NULL;
        ok = c && PQstatus(c) == CONNECTION_OK;
        PQfinish(c);
        hpq_free_secret(conninfo);
    }
    hpq_params_clear(&params);
    hpq_params_clear(&conn);
    return ok;
}

/* Take url if it is new (and, unless PgBouncer's logins fail already,
 * works). Frees url. Whether PgBouncer was reloaded. */
static bool take_url(struct proxy *p, char *url, bool failed)
{
    char err[512];
    if (strcmp(url, p->url) == 0 || (!failed && !url_works(url))) {
        if (strcmp(url, p->url) != 0)
            hpq_log(HPQ_DEBUG, "proxy: the config var changed, the database not yet: waiting");
        hpq_free_secret(url);
        return false;
    }
    if (apply_url(p, url, err, sizeof err) == 0)
        return true;
    hpq_log(HPQ_WARN, "proxy: the new URL is not used: %s", err);
    return false;
}

/* Resume PgBouncer after a pause of ours (not while it drains: SIGUSR2
 * would undo its safe shutdown's pause). */
static void resume(struct proxy *p)
{
    pthread_mutex_lock(&p->mu);
    bool draining = p->draining;
    p->held = false;
    pthread_mutex_unlock(&p->mu);
    if (!draining)
        hpq_bouncer_signal(&p->b, SIGUSR2);
}

/* The failed logins logged so far were the old URL's (the reload dropped
 * those under way): refreshing again for them would wait for a URL newer
 * than the new one, paused, up to HEROKUPQ_RETRY_MS. */
static void forget_failures(struct proxy *p)
{
    pthread_mutex_lock(&p->mu);
    p->kick_failed = false;
    pthread_mutex_unlock(&p->mu);
}

static void resolve_once(struct proxy *p, bool failed, bool now)
{
    char err[512];
    if (failed)
        hpq_bouncer_signal(&p->b, SIGUSR1); /* pause: new clients queue, not fail */
    char *url = resolve(p, failed, now, err, sizeof err);
    bool got = url != NULL, changed = got && take_url(p, url, failed);
    if (!got)
        hpq_log(failed ? HPQ_WARN : HPQ_DEBUG, "proxy: no new URL yet: %s", err);
    if (now && got && !failed)
        hpq_cache_confirm(p->url); /* SIGHUP's invalidate: the URL we serve is not stale */
    if (failed) {
        usleep(50 * 1000); /* let the reload (SIGHUP) be taken before the resume */
        if (changed)
            forget_failures(p);
        resume(p);
    }
    pthread_mutex_lock(&p->mu);
    bool draining = p->draining;
    pthread_mutex_unlock(&p->mu);
    if (changed && !draining)
        warm(p);
}

/* PgBouncer is paused (hold): server connections were closed by the server,
 * as Heroku does when it rotates the credentials. One direct login says
 * whether the URL still works: then resume at once; if not, stay paused and
 * resolve (the failed path), so that no client sees a login with the old
 * password fail (PgBouncer >= 1.22 fails every waiting client on it). */
static void check_held(struct proxy *p)
{
    if (url_works(p->url)) {
        hpq_log(HPQ_DEBUG, "proxy: server connections closed, the credentials still work: resumed");
        resume(p);
        return;
    }
    hpq_log(HPQ_INFO, "proxy: server connections closed and the credentials fail: clients wait while "
                      "the new URL is resolved");
    resolve_once(p, true, false);
}

static void *resolver_main(void *arg)
{
    struct proxy *p = arg;
    warm(p);
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        if (!p->kick_failed && !p->kick_now && !p->confirm && !p->kick_check) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&p->cv, &p->mu, &until);
        }
        bool failed = p->kick_failed, now = p->kick_now, confirm = p->confirm, check = p->kick_check;
        p->kick_failed = p->kick_now = p->confirm = p->kick_check = false;
        bool stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (confirm)
            hpq_cache_confirm(p->url);
        if (!stop && check && !failed)
            check_held(p);
        else if (!stop)
            resolve_once(p, failed, now);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void kick(struct proxy *p, bool *flag)
{
    pthread_mutex_lock(&p->mu);
    *flag = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* ---- PgBouncer's log lines --------------------------------------------------------------- */

static enum hpq_level line_level(const char *text)
{
    /* expected in a rotation, and handled here: not warnings for the operator */
    if (strstr(text, "login failed") || strstr(text, "from server when not linked"))
        return HPQ_INFO;
    if (strncmp(text, "WARNING", 7) == 0)
        return HPQ_WARN;
    if (strncmp(text, "ERROR", 5) == 0 || strncmp(text, "FATAL", 5) == 0)
        return HPQ_ERROR;
    return HPQ_DEBUG;
}

static char last_error[600]; /* the last ERROR/FATAL line, for a failed start */

/* A server connection ended by the server (pg_terminate_backend: an idle one
 * reads a FATAL "when not linked", a linked one's read fails). */
static bool closed_by_server(const char *text)
{
    return strstr(text, "from server when not linked") || strstr(text, "closing because: server conn crashed");
}

/* Pause PgBouncer now, from this thread (the sooner the fewer server logins
 * start with credentials that may be stale), and let the resolver check. */
static void hold(struct proxy *p)
{
    pthread_mutex_lock(&p->mu);
    if (p->ready && !p->held && !p->draining) {
        p->held = true;
        hpq_bouncer_signal(&p->b, SIGUSR1);
        hpq_log(HPQ_DEBUG, "proxy: the server closed a connection: pgbouncer paused while the "
                           "credentials are checked");
        p->kick_check = true;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
}

static void on_line(void *ctx, const char *text)
{
    struct proxy *p = ctx;
    enum hpq_level level = line_level(text);
    char shown[1024];
    if (level == HPQ_ERROR || !p->ready)
        hpq_log_shown(hpq_redact_text, text, last_error, sizeof last_error);
    if (hpq_log_enabled(level))
        hpq_log_line(level, "pgbouncer: %s", hpq_log_shown(hpq_redact_text, text, shown, sizeof shown));
    if (strstr(text, "process up:"))
        p->ready = true;
    else if (strstr(text, "login failed:") || strstr(text, "closing because: connect failed"))
        kick(p, &p->kick_failed); /* the credentials or the host changed: resolve now */
    else if (strstr(text, "new connection to server"))
        kick(p, &p->confirm);
    else if (closed_by_server(text))
        hold(p);
}

/* ---- signals ----------------------------------------------------------------------------- */

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    if (write(signal_pipe[1], &c, 1) < 0) { /* full: one is pending already */ }
    errno = saved;
}

static int install_signals(void)
{
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        if (sigaction(sigs[i], &sa, NULL) != 0)
            return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* ---- the supervisor loop ----------------------------------------------------------------- */

/* PgBouncer keeps accepting (queueing) while it drains: the socket's name
 * goes, so a new client is refused at once (PgBouncer keeps its listening
 * descriptor). TCP clients are queued and closed at the end. */
static void stop_accepting(struct proxy *p)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/.s.PGSQL.%d", p->o.dir, p->o.listen ? p->o.listen_port : p->o.port);
    unlink(path);
    if (p->socket_link[0])
        unlink(p->socket_link);
}

static void start_drain(struct proxy *p, long long *deadline)
{
    pthread_mutex_lock(&p->mu);
    bool already = p->draining;
    p->draining = true;
    pthread_mutex_unlock(&p->mu);
    if (already)
        return;
    hpq_log(HPQ_INFO, "proxy: stopping: no new clients; open ones may finish for up to %ld s",
            p->o.drain_timeout_s);
    stop_accepting(p);
    hpq_bouncer_signal(&p->b, SIGINT); /* PgBouncer's safe shutdown: PAUSE, then SHUTDOWN */
    *deadline = hpq_now_ms() + p->o.drain_timeout_s * 1000;
}

static void handle_signals(struct proxy *p, long long *deadline)
{
    unsigned char sigs[16];
    ssize_t n = read(signal_pipe[0], sigs, sizeof sigs);
    for (ssize_t i = 0; i < n; i++) {
        if (sigs[i] == SIGTERM || sigs[i] == SIGINT)
            start_drain(p, deadline);
        else if (sigs[i] == SIGHUP)
            kick(p, &p->kick_now);
    }
}

/* Until PgBouncer is gone. Returns our exit status. */
static int supervise(struct proxy *p)
{
    long long deadline = 0;
    int status = 0;
    bool log_open = true;
    while (!hpq_bouncer_reaped(&p->b, &status)) {
        struct pollfd fds[2] = {{.fd = signal_pipe[0], .events = POLLIN},
                                {.fd = log_open ? p->b.log_fd : -1, .events = POLLIN}};
        poll(fds, 2, 500);
        if (fds[0].revents)
            handle_signals(p, &deadline);
        if (fds[1].revents && hpq_bouncer_read(&p->b, on_line, p) < 0)
            log_open = false;
        if (deadline && hpq_now_ms() > deadline) {
            hpq_log(HPQ_WARN, "proxy: drain timeout (%ld s): closing the remaining clients",
                    p->o.drain_timeout_s);
            hpq_bouncer_signal(&p->b, SIGTERM);
            deadline = 0;
        }
    }
    while (log_open && hpq_bouncer_read(&p->b, on_line, p) == 0) {}
    if (p->draining) {
        hpq_log(HPQ_INFO, "proxy: stopped");
        return 0;
    }
    return fail("pgbouncer exited (%s %d)%s%s", WIFEXITED(status) ? "status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                last_error[0] ? ": " : "", last_error);
}

/* Read PgBouncer's lines until "process up" (ready), its exit, or a timeout. */
static int wait_ready(struct proxy *p)
{
    long long until = hpq_now_ms() + READY_TIMEOUT_MS;
    int status;
    while (!p->ready && hpq_now_ms() < until) {
        struct pollfd fd = {.fd = p->b.log_fd, .events = POLLIN};
        if (poll(&fd, 1, 200) > 0 && hpq_bouncer_read(&p->b, on_line, p) < 0)
            break;
    }
    if (p->ready)
        return 0;
    hpq_bouncer_signal(&p->b, SIGTERM);
    for (int i = 0; i < 50 && !hpq_bouncer_reaped(&p->b, &status); i++)
        usleep(100 * 1000);
    return fail("pgbouncer did not start%s%s", last_error[0] ? ": " : "", last_error);
}

/* ---- start and stop ---------------------------------------------------------------------- */

static void print_ready(struct proxy *p)
{
    char tcp[400] = "";
    if (p->o.listen)
        snprintf(tcp, sizeof tcp, ", tcp %s%s%s:%d%s", strchr(p->o.listen_host, ':') ? "[" : "",
                 p->o.listen_host, strchr(p->o.listen_host, ':') ? "]" : "", p->o.listen_port,
                 p->o.listen_trust ? " (no password)" : " (user " HPQ_PROXY_USER ", password in DIR/password)");
    fprintf(stderr, "herokupq: info: proxy ready: socket %s/.s.PGSQL.%d%s\n", p->o.dir, p->o.port, tcp);
}

/* PgBouncer's socket is named after its one port; --port names ours. */
static int link_socket(struct proxy *p)
{
    if (!p->o.listen || p->o.listen_port == p->o.port)
        return 0;
    char target[32];
    snprintf(target, sizeof target, ".s.PGSQL.%d", p->o.listen_port);
    snprintf(p->socket_link, sizeof p->socket_link, "%s/.s.PGSQL.%d", p->o.dir, p->o.port);
    unlink(p->socket_link);
    if (symlink(target, p->socket_link) != 0)
        return fail("cannot make %s: %s", p->socket_link, strerror(errno));
    return 0;
}

static void cleanup(struct proxy *p)
{
    hpq_bouncer_remove_files(&p->bo);
    if (p->password_file[0])
        unlink(p->password_file);
    if (p->socket_link[0])
        unlink(p->socket_link);
    if (p->made_dir)
        rmdir(p->o.dir);
    hpq_free_secret(p->url);
    p->url = NULL;
    hpq_params_clear(&p->params);
}

static void fill_bouncer_opts(struct proxy *p, const char *local_password)
{
    struct passwd *pw = getpwuid(geteuid());
    p->bo = (struct hpq_bouncer_opts){
        .dir = p->o.dir, .port = p->o.port, .listen_host = p->o.listen ? p->o.listen_host : NULL,
        .listen_port = p->o.listen_port, .listen_trust = p->o.listen_trust,
        .pool_mode = p->o.pool_mode, .max_client_conn = p->o.max_client_conn,
        .pool_size = p->o.pool_size, .local_password = local_password,
        .login_name = pw ? pw->pw_name : "root"};
}

/* Everything up to the ready line. 0, or our exit status. */
static int start(struct proxy *p, char *local_password, size_t len)
{
    char err[600];
    if (hpq_bouncer_find(&p->b, err, sizeof err) != 0 || hpq_bouncer_pick_user(&p->b, err, sizeof err) != 0)
        return fail("%s", err);
    int rc = prepare_dir(p);
    if (rc == 0)
        rc = check_ports(p);
    if (rc == 0 && p->o.listen && !p->o.listen_trust)
        rc = make_local_password(p, local_password, len);
    if (rc != 0)
        return rc;
    fill_bouncer_opts(p, local_password);
    /* The cache logs a failure itself; at start it is this one line's. */
    enum hpq_level level = p->cfg.log_level;
    hpq_log_set_level(HPQ_OFF);
    char *url = hpq_cache_get(&p->cfg, p->cfg.config_var, err, sizeof err);
    hpq_log_set_level(getenv("HEROKUPQ_LOG") ? level : HPQ_INFO);
    if (!url)
        return fail("%s", err);
    if (apply_url(p, url, err, sizeof err) != 0)
        return fail("%s", err);
    if (hpq_bouncer_start(&p->b, &p->bo, err, sizeof err) != 0)
        return fail("%s", err);
    if ((rc = wait_ready(p)) != 0 || (rc = link_socket(p)) != 0)
        return rc;
    if (p->o.listen_trust)
        hpq_log(HPQ_WARN, "proxy: --listen-trust: anyone who reaches %s:%d gets the database, with "
                          "no password", p->o.listen_host, p->o.listen_port);
    print_ready(p);
    return 0;
}

static int run_proxy(struct proxy *p)
{
    char local_password[64] = "";
    pthread_t resolver;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    int rc = install_signals() != 0 ? fail("signals: %s", strerror(errno))
                                    : start(p, local_password, sizeof local_password);
    if (rc == 0 && pthread_create(&resolver, NULL, resolver_main, p) != 0) {
        hpq_bouncer_signal(&p->b, SIGTERM);
        rc = fail("cannot start the resolver thread");
    } else if (rc == 0) {
        rc = supervise(p);
        kick(p, &p->stop);
        pthread_join(resolver, NULL);
    }
    int status;
    if (p->b.pid > 0) {
        hpq_bouncer_signal(&p->b, SIGTERM);
        waitpid(p->b.pid, &status, 0);
    }
    cleanup(p);
    hpq_wipe(local_password, sizeof local_password);
    return rc;
}

int hpq_cmd_proxy(int argc, char **argv)
{
    static struct proxy p; /* static: the signal handler's pipe and the threads outlive frames */
    int rc = parse_options(argc, argv, &p.o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (p.o.check)
        return check_proxy(&p.o);
    char warnings[2048];
    hpq_cmd_config(&p.cfg, warnings, sizeof warnings);
    fputs(warnings, stderr);
    if (!getenv("HEROKUPQ_LOG"))
        hpq_log_set_level(HPQ_INFO);
    if (!p.cfg.enabled)
        return fail("no app: give -a APP or set HEROKU_APP (and not HEROKUPQ_DISABLE=1)");
    rc = run_proxy(&p);
    hpq_config_release(&p.cfg);
    return rc;
}
