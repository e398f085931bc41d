/* pgbouncer.c — PgBouncer as the proxy's child: its configuration files, the
 * process, its log stream (see pgbouncer.h). No PostgreSQL protocol here:
 * PgBouncer speaks it, this file only writes what it reads and reads what it
 * writes. */
#include "pgbouncer.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../secret.h"

#define CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static const char *const written_files[] = {"pgbouncer.ini", "users.txt", "hba.conf", NULL};

/* ---- finding the program and its user ---------------------------------------------------- */

static bool executable(const char *path) { return access(path, X_OK) == 0; }

static bool search_path(char *out, size_t len)
{
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        size_t n = strcspn(p, ":");
        if (n > 0 && (size_t)snprintf(out, len, "%.*s/pgbouncer", (int)n, p) < len && executable(out))
            return true;
        p += n + (p[n] == ':');
    }
    return false;
}

int hpq_bouncer_find(struct hpq_bouncer *b, char *err, size_t errlen)
{
    const char *env = getenv("HEROKUPQ_PGBOUNCER");
    if (env && *env) {
        snprintf(b->binary, sizeof b->binary, "%s", env);
        if (executable(b->binary))
            return 0;
    } else if (search_path(b->binary, sizeof b->binary)) {
        return 0;
    } else {
        /* Debian puts it in /usr/sbin, which a user's PATH often lacks. */
        snprintf(b->binary, sizeof b->binary, "/usr/sbin/pgbouncer");
        if (executable(b->binary))
            return 0;
    }
    snprintf(err, errlen, "pgbouncer not found (%s): install it (apt-get install pgbouncer)",
             env && *env ? "HEROKUPQ_PGBOUNCER" : "PATH, /usr/sbin");
    return -1;
}

int hpq_bouncer_pick_user(struct hpq_bouncer *b, char *err, size_t errlen)
{
    b->drop = geteuid() == 0;
    b->uid = geteuid();
    b->gid = getegid();
    if (!b->drop)
        return 0;
    const char *name = getenv("HEROKUPQ_PROXY_USER");
    struct passwd *pw = name && *name ? getpwnam(name) : getpwnam("herokupq-proxy");
    if (!pw && !(name && *name))
        pw = getpwnam("nobody");
    if (!pw || pw->pw_uid == 0) {
        snprintf(err, errlen, "no unprivileged user for pgbouncer (%s): set HEROKUPQ_PROXY_USER",
                 name && *name ? name : "herokupq-proxy, nobody");
        return -1;
    }
    b->uid = pw->pw_uid;
    b->gid = pw->pw_gid;
    return 0;
}

/* ---- the configuration ------------------------------------------------------------------- */

/* Whether a value can stand in a connect string and an ini line as it is:
 * printable, no blank, no quote or backslash, not empty. */
static bool plain_value(const char *v)
{
    if (!v || !*v)
        return false;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == '\'' || *p == '"' || *p == '\\')
            return false;
    return true;
}

static const char *server_sslmode(const struct hpq_params *url)
{
    /* require at least; the URL may ask for more, never for less */
    return hpq_sslmode_max("require", hpq_params_get(url, "sslmode"));
}

static char *databases_section(const struct hpq_params *url)
{
    const char *keys[] = {"host", "port", "dbname", "user", "password"};
    const char *vals[5];
    for (int i = 0; i < 5; i++) {
        vals[i] = hpq_params_get(url, keys[i]);
        if (i == 1 && (!vals[i] || !*vals[i]))
            vals[i] = "5432";
        if (!plain_value(vals[i]))
            return NULL;
    }
    /* Each database name a client gives is a pool of its own (PgBouncer's
     * "*" entry); the one herokupq's own checks use holds one connection. */
    char *out;
    char *line;
    if (asprintf(&line, "host='%s' port='%s' dbname='%s' user='%s' password='%s'", vals[0], vals[1], vals[2], vals[3], vals[4]) < 0)
        return NULL;
    int n = asprintf(&out, "[databases]\n" HPQ_PROXY_USER " = %s pool_size=1\n* = %s\n", line, line);
    hpq_free_secret(line);
    return n < 0 ? NULL : out;
}

static char *auth_lines(const struct hpq_bouncer_opts *o)
{
    char *out;
    int n;
    if (!o->listen_host || o->listen_trust)
        n = asprintf(&out, "auth_type = any\n");
    else
        n = asprintf(&out, "auth_type = hba\nauth_hba_file = %s/hba.conf\nauth_file = %s/users.txt\n",
                     o->dir, o->dir);
    return n < 0 ? NULL : out;
}

static char *pgbouncer_section(const struct hpq_bouncer_opts *o, const struct hpq_params *url)
{
    const char *mode = server_sslmode(url);
    bool verify = strncmp(mode, "verify", 6) == 0;
    char *auth = auth_lines(o), *out;
    if (!auth)
        return NULL;
    int n = asprintf(&out,
                     "[pgbouncer]\nlisten_addr = %s\nlisten_port = %d\nunix_socket_dir = %s\n"
                     "unix_socket_mode = 0600\n%spool_mode = %s\nmax_client_conn = %d\nlisten_backlog = %d\n"
                     "default_pool_size = %d\nserver_tls_sslmode = %s\n%s%s%s"
                     "server_login_retry = 1\nquery_wait_timeout = 120\n"
                     "ignore_startup_parameters = extra_float_digits\n"
                     "stats_users = " HPQ_PROXY_USER "\nsyslog = 0\nlog_connections = 1\n",
                     o->listen_host ? o->listen_host : "", o->listen_host ? o->listen_port : o->port,
                     o->dir, auth, o->pool_mode, o->max_client_conn, o->max_client_conn, o->pool_size, mode,
                     verify ? "server_tls_ca_file = " : "", verify ? CA_BUNDLE : "",
                     verify ? "\n" : "");
    free(auth);
    return n < 0 ? NULL : out;
}

char *hpq_bouncer_ini(const struct hpq_bouncer_opts *o, const struct hpq_params *url)
{
    char *db = databases_section(url), *bouncer = db ? pgbouncer_section(o, url) : NULL, *out = NULL;
    if (db && bouncer && asprintf(&out, "; written by herokupq proxy; rewritten on every change\n%s%s",
                                  db, bouncer) < 0)
        out = NULL;
    hpq_free_secret(db);
    free(bouncer);
    return out;
}

/* Zero a file's bytes in place (it held a password), if it is ours to zero. */
static void wipe_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0)
        return;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        char zeros[4096] = {0};
        for (off_t done = 0; done < st.st_size;) {
            size_t n = (size_t)(st.st_size - done) < sizeof zeros ? (size_t)(st.st_size - done) : sizeof zeros;
            ssize_t w = write(fd, zeros, n);
            if (w <= 0)
                break;
            done += w;
        }
    }
    close(fd);
}

static int write_all(int fd, const char *text)
{
    for (size_t done = 0, len = strlen(text); done < len;) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}

/* DIR/name := text, 0600, owned by uid:gid: a new file renamed over the old
 * one, which is wiped first. */
static int replace_file(const struct hpq_bouncer *b, const char *dir, const char *name,
                        const char *text, char *err, size_t errlen)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.new", dir, name);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write_all(fd, text) == 0 && (!b->drop || fchown(fd, b->uid, b->gid) == 0);
    int e = errno;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok) {
        wipe_file(path);
        ok = rename(tmp, path) == 0;
        e = errno;
    }
    if (!ok) {
        wipe_file(tmp);
        unlink(tmp);
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
    }
    return ok ? 0 : -1;
}

static int write_auth_files(const struct hpq_bouncer *b, const struct hpq_bouncer_opts *o,
                            const struct hpq_params *url, char *err, size_t errlen)
{
    /* The socket (trust) accepts the names in users.txt: ours for TCP and a
     * few a client picks by default; TCP only ours, with SCRAM. */
    const char *user = hpq_params_get(url, "user");
    char *users, *hba;
    int n1 = asprintf(&users, "\"%s\" \"%s\"\n\"%s\" \"\"\n\"postgres\" \"\"\n\"%s\" \"\"\n",
                      HPQ_PROXY_USER, o->local_password, o->login_name, user ? user : "postgres");
    int n2 = asprintf(&hba, "local all all trust\nhost all %s 0.0.0.0/0 scram-sha-256\n"
                            "host all %s ::/0 scram-sha-256\n", HPQ_PROXY_USER, HPQ_PROXY_USER);
    int rc = n1 < 0 || n2 < 0 ? -1 : 0;
    if (rc == 0)
        rc = replace_file(b, o->dir, "users.txt", users, err, errlen);
    if (rc == 0)
        rc = replace_file(b, o->dir, "hba.conf", hba, err, errlen);
    if (n1 >= 0)
        hpq_free_secret(users);
    if (n2 >= 0)
        free(hba);
    return rc;
}

int hpq_bouncer_write(const struct hpq_bouncer *b, const struct hpq_bouncer_opts *o,
                      const struct hpq_params *url, char *err, size_t errlen)
{
    char *ini = hpq_bouncer_ini(o, url);
    if (!ini) {
        snprintf(err, errlen, "the URL holds a value pgbouncer's configuration cannot carry "
                              "(empty, a blank, a quote, a backslash or a control character)");
        return -1;
    }
    int rc = 0;
    if (o->listen_host && !o->listen_trust)
        rc = write_auth_files(b, o, url, err, errlen);
    if (rc == 0)
        rc = replace_file(b, o->dir, "pgbouncer.ini", ini, err, errlen);
    hpq_free_secret(ini);
    return rc;
}

void hpq_bouncer_remove_files(const struct hpq_bouncer_opts *o)
{
    char path[4096];
    for (int i = 0; written_files[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", o->dir, written_files[i]);
        wipe_file(path);
        unlink(path);
    }
}

/* ---- the process ------------------------------------------------------------------------- */

/* In the child: drop to the unprivileged user, die with the parent, exec
 * with an empty environment (the API token stays with us). Never returns. */
static void child_exec(const struct hpq_bouncer *b, const char *ini, int out_fd)
{
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        _exit(126);
    close_range(3, ~0U, 0); /* nothing of ours, nor what we inherited, goes on */
    setpgid(0, 0); /* a terminal's ^C reaches herokupq, which drains */
    if (b->drop && (setgroups(0, NULL) != 0 || setgid(b->gid) != 0 || setuid(b->uid) != 0))
        _exit(126);
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* after setuid, which clears it */
    if (getppid() == 1)
        _exit(126);
    char *const argv[] = {(char *)"pgbouncer", (char *)ini, NULL};
    char *const envp[] = {(char *)"LC_ALL=C", NULL};
    execve(b->binary, argv, envp);
    dprintf(2, "FATAL cannot run %s: %s\n", b->binary, strerror(errno));
    _exit(127);
}

int hpq_bouncer_start(struct hpq_bouncer *b, const struct hpq_bouncer_opts *o, char *err,
                      size_t errlen)
{
    char ini[4096];
    int fds[2];
    snprintf(ini, sizeof ini, "%s/pgbouncer.ini", o->dir);
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0)
        child_exec(b, ini, fds[1]);
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    b->pid = pid;
    b->log_fd = fds[0];
    b->used = 0;
    return 0;
}

void hpq_bouncer_signal(const struct hpq_bouncer *b, int sig)
{
    if (b->pid > 0)
        kill(b->pid, sig);
}

bool hpq_bouncer_reaped(struct hpq_bouncer *b, int *status)
{
    if (b->pid <= 0)
        return true;
    if (waitpid(b->pid, status, WNOHANG) != b->pid)
        return false;
    b->pid = 0;
    return true;
}

/* "2026-12-06 11:45:23.434 UTC [2711] LOG text" -> "LOG text". */
static const char *without_prefix(const char *line)
{
    const char *bracket = strstr(line, "] ");
    return bracket && line[0] >= '0' && line[0] <= '9' ? bracket + 2 : line;
}

static void emit_lines(struct hpq_bouncer *b, void (*line)(void *ctx, const char *text), void *ctx)
{
    char *start = b->buf, *nl;
    while ((nl = memchr(start, '\n', b->used - (size_t)(start - b->buf)))) {
        *nl = '\0';
        line(ctx, without_prefix(start));
        start = nl + 1;
    }
    size_t rest = b->used - (size_t)(start - b->buf);
    if (rest == sizeof b->buf - 1) { /* a line longer than the buffer: show it cut */
        b->buf[rest] = '\0';
        line(ctx, without_prefix(b->buf));
        rest = 0;
    }
    memmove(b->buf, start, rest);
    b->used = rest;
}

int hpq_bouncer_read(struct hpq_bouncer *b, void (*line)(void *ctx, const char *text), void *ctx)
{
    ssize_t n = read(b->log_fd, b->buf + b->used, sizeof b->buf - 1 - b->used);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0) {
        if (b->used) { /* a last line without its newline */
            b->buf[b->used] = '\0';
            line(ctx, without_prefix(b->buf));
            b->used = 0;
        }
        return -1;
    }
    b->used += (size_t)n;
    emit_lines(b, line, ctx);
    return 0;
}
