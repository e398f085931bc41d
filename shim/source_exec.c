/* source_exec.c — see source_exec.h. */
#include "source_exec.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "source_text.h"

extern char **environ;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the command left on its two pipes. */
struct capture {
    char out[HPQ_MAX_OUTPUT + 1];
    size_t out_len;
    char errbuf[4096];
    size_t err_len;
    bool err_cut; /* stderr went on past errbuf: its last line there is partial */
};

static int spawn(char *const argv[], char *const envp[], int out_w, int err_w, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_w, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, err_w, STDERR_FILENO);
    posix_spawnattr_init(&attr);
    /* Its own process group, so a timeout can kill everything it started; the
     * default signal dispositions, whatever the program set. */
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    int rc = posix_spawnp(pid, argv[0], &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return rc;
}

/* Append what one pipe has to its buffer (*cut when it did not all fit);
 * false at its end. */
static bool drain(int fd, char *buf, size_t cap, size_t *len, bool *cut)
{
    char chunk[4096];
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (r <= 0)
        return false;
    size_t room = cap - *len;
    size_t n = (size_t)r < room ? (size_t)r : room;
    *cut |= n < (size_t)r;
    memcpy(buf + *len, chunk, n);
    *len += n;
    return true;
}

/* Whether the command itself has ended (not reaped: its zombie keeps its pid,
 * and so its process group's id, from being reused). A program that reaps
 * its children itself (SIG_IGN, its own handler) leaves nothing: ended too. */
static bool command_ended(pid_t pid)
{
    siginfo_t info = {0};
    int r = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT);
    return r != 0 ? errno != EINTR : info.si_pid == pid;
}

/* Read both pipes until both end or the deadline passes. True if they ended.
 * Once the command has ended, what it left behind (a child still holding a
 * pipe) is killed with its group: the output is complete then, so nothing
 * waits for the leftover nor for the timeout. */
static bool collect(pid_t pid, int out_r, int err_r, long long deadline, struct capture *c)
{
    struct pollfd p[2] = {{.fd = out_r, .events = POLLIN}, {.fd = err_r, .events = POLLIN}};
    bool ended = false;
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return false;
        int slice = ended ? 1000 : 20; /* how soon the command's end is noticed */
        int n = poll(p, 2, (int)(left < slice ? left : slice));
        if (n < 0 && errno != EINTR)
            return false;
        if (p[0].fd >= 0 && p[0].revents &&
            !drain(out_r, c->out, HPQ_MAX_OUTPUT + 1, &c->out_len, &(bool){false}))
            p[0].fd = -1;
        if (p[1].fd >= 0 && p[1].revents &&
            !drain(err_r, c->errbuf, sizeof c->errbuf - 1, &c->err_len, &c->err_cut))
            p[1].fd = -1;
        if (!ended && command_ended(pid)) {
            ended = true;
            kill(-pid, SIGKILL); /* its leftovers: their pipe ends close, EOF follows */
        }
    }
    return true;
}

/* Reap the child, waiting for it at most until the deadline; then kill its
 * whole group, so nothing it started outlives the fetch (before reaping: the
 * zombie keeps the group's id from being reused). The program may reap it
 * first (its own SIGCHLD handler, or SIG_IGN): then the status is unknown
 * (-1). *timed_out says if it overstayed. */
static int reap(pid_t pid, long long deadline, bool *timed_out)
{
    *timed_out = false;
    while (!command_ended(pid)) {
        if (now_ms() >= deadline) {
            *timed_out = true;
            break;
        }
        usleep(5000);
    }
    kill(-pid, SIGKILL);
    int status = 0;
    pid_t r;
    while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    if (r != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Each whole line the command wrote to stderr, redacted (every known secret
 * and every password-like value masked). A line that did not all fit is
 * dropped, not shown in part: its cut could fall inside a password. */
static void log_stderr(const char *program, struct capture *c)
{
    c->errbuf[c->err_len] = '\0';
    char *last_end = strrchr(c->errbuf, '\n');
    if (c->err_cut) {
        *(last_end ? last_end : c->errbuf) = '\0';
        hpq_log(HPQ_DEBUG, "%s (HEROKUPQ_SOURCE) wrote more than %zu bytes on stderr; "
                           "the rest is not shown", program, sizeof c->errbuf - 1);
    }
    for (char *line = c->errbuf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char shown[1024];
        if (*line)
            hpq_log(HPQ_WARN, "%s (HEROKUPQ_SOURCE) on stderr: %s", program,
                    hpq_log_shown(hpq_redact_text, line, shown, sizeof shown));
    }
}

static void remember_secret(const char *secret, void *ctx)
{
    (void)ctx;
    hpq_log_secret(secret);
}

/* Start argv with its stdout and stderr on two O_CLOEXEC pipes. */
static int start(char *const argv[], char *const envp[], int out[2], int errp[2], pid_t *pid)
{
    if (pipe2(out, O_CLOEXEC) != 0)
        return errno;
    if (pipe2(errp, O_CLOEXEC) != 0) {
        int e = errno;
        close(out[0]);
        close(out[1]);
        return e;
    }
    int rc = spawn(argv, envp, out[1], errp[1], pid);
    close(out[1]);
    close(errp[1]);
    if (rc) {
        close(out[0]);
        close(errp[0]);
    }
    return rc;
}

/* What the run means: the URL, or why not. */
static char *outcome(const char *program, struct capture *c, bool timed_out, int status,
                     long timeout_ms, char *err, size_t errlen)
{
    char origin[300];
    snprintf(origin, sizeof origin, "the command %s (HEROKUPQ_SOURCE)", program);
    if (timed_out) {
        snprintf(err, errlen, "%s did not finish within %ld ms (HEROKUPQ_API_TIMEOUT_MS); killed",
                 origin, timeout_ms);
        return NULL;
    }
    if (status > 0) {
        snprintf(err, errlen, "%s failed (exit status %d)", origin, status);
        return NULL;
    }
    if (c->out_len > HPQ_MAX_OUTPUT) {
        snprintf(err, errlen, "%s printed more than %d bytes", origin, HPQ_MAX_OUTPUT);
        return NULL;
    }
    return hpq_url_from_text(c->out, c->out_len, origin, err, errlen);
}

/* The URL from the captured output, and only then its stderr: the URL's
 * passwords are known secrets by the time any stderr line is logged (a
 * `set -x` trace shows them bare). */
static char *conclude(const char *program, struct capture *c, bool timed_out, int status,
                      long timeout_ms, char *err, size_t errlen)
{
    char *url = outcome(program, c, timed_out, status, timeout_ms, err, errlen);
    /* Every URL it printed, used or not (a second line, a mysql:// one). */
    size_t n = c->out_len < sizeof c->out ? c->out_len : sizeof c->out;
    hpq_text_passwords(c->out, n, remember_secret, NULL);
    log_stderr(program, c);
    return url;
}

static char *run(char *const argv[], char *const envp[], long timeout_ms, char *err,
                 size_t errlen)
{
    int out[2], errp[2];
    pid_t pid;
    int rc = start(argv, envp, out, errp, &pid);
    if (rc) {
        snprintf(err, errlen, "cannot run the command %s (HEROKUPQ_SOURCE): %s", argv[0],
                 strerror(rc));
        return NULL;
    }
    struct capture *c = calloc(1, sizeof *c);
    long long deadline = now_ms() + timeout_ms;
    bool ended = c && collect(pid, out[0], errp[0], deadline, c);
    close(out[0]);
    close(errp[0]);
    bool timed_out;
    int status = reap(pid, ended ? deadline : 0, &timed_out);
    char *url = NULL;
    if (!c) {
        snprintf(err, errlen, "out of memory");
    } else {
        url = conclude(argv[0], c, timed_out, status, timeout_ms, err, errlen);
        explicit_bzero(c, sizeof *c);
    }
    free(c);
    return url;
}

/* ---- the command's environment ------------------------------------------------------------ */

/* The shim's own file (dev, inode), to find it in LD_PRELOAD; false when this
 * code is not a preloaded library's (the herokupq command) or cannot say. */
static bool own_file(struct stat *st)
{
    Dl_info info;
    return dladdr((void *)own_file, &info) && info.dli_fname && info.dli_fname[0] == '/' &&
           stat(info.dli_fname, st) == 0;
}

static bool is_shim(const char *path, size_t n, const struct stat *shim)
{
    char copy[4096];
    struct stat st;
    if (n >= sizeof copy)
        return false;
    memcpy(copy, path, n);
    copy[n] = '\0';
    return stat(copy, &st) == 0 && st.st_dev == shim->st_dev && st.st_ino == shim->st_ino;
}

/* "LD_PRELOAD=" + value without the shim's entries (':' or ' ' separate
 * them, as the loader reads them); NULL when nothing is left. */
static char *preload_without_shim(const char *value, const struct stat *shim)
{
    size_t len = strlen(value);
    char *kept = malloc(len + sizeof "LD_PRELOAD=");
    if (!kept)
        return NULL;
    size_t k = (size_t)sprintf(kept, "LD_PRELOAD="), start = k;
    for (const char *p = value; *p;) {
        size_t n = strcspn(p, ": ");
        if (n && !is_shim(p, n, shim)) {
            if (k > start)
                kept[k++] = ':';
            memcpy(kept + k, p, n);
            k += n;
        }
        p += n + (p[n] != '\0');
    }
    kept[k] = '\0';
    if (k > start)
        return kept;
    free(kept);
    return NULL;
}

struct command_env {
    char **vars;   /* what the command gets: NULL-terminated */
    char *preload; /* the new LD_PRELOAD entry (malloc'd) or NULL */
    char *var;     /* HEROKUPQ_CONFIG_VAR=var (malloc'd) */
};

/* The program's environment for the command, without the shim: its entry of
 * LD_PRELOAD and every HEROKUPQ_* setting are left out (a command built on
 * libpq must not run the source again, and again), the rest kept (HEROKU_API_KEY,
 * HEROKU_APP, HOME for a netrc: what `heroku config:get` needs); then
 * HEROKUPQ_CONFIG_VAR names the config var wanted. 0, or -1 (out of memory). */
static int command_env_make(struct command_env *e, const char *var)
{
    struct stat shim;
    bool known = own_file(&shim);
    size_t n = 0;
    while (environ[n])
        n++;
    *e = (struct command_env){.vars = calloc(n + 3, sizeof *e->vars)};
    if (!e->vars || asprintf(&e->var, "HEROKUPQ_CONFIG_VAR=%s", var) < 0) {
        e->var = NULL; /* asprintf leaves it undefined */
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n && environ[i]; i++) {
        const char *v = environ[i];
        if (strncmp(v, "HEROKUPQ_", 9) == 0)
            continue;
        if (known && strncmp(v, "LD_PRELOAD=", 11) == 0 && !e->preload) {
            if ((e->preload = preload_without_shim(v + 11, &shim)))
                e->vars[k++] = e->preload;
            continue;
        }
        e->vars[k++] = (char *)v;
    }
    e->vars[k++] = e->var;
    e->vars[k] = NULL;
    return 0;
}

static void command_env_free(struct command_env *e)
{
    free(e->vars);
    free(e->preload);
    free(e->var);
}

char *hpq_source_exec_fetch(const struct hpq_config *cfg, const char *var, char *err,
                            size_t errlen)
{
    int saved_errno = errno;
    char words[4096];
    char *argv[HPQ_MAX_WORDS];
    char *url = NULL;
    struct command_env env;
    if (command_env_make(&env, var ? var : cfg->config_var) != 0)
        snprintf(err, errlen, "out of memory");
    else if (hpq_split_words(cfg->source_arg, words, sizeof words, argv, HPQ_MAX_WORDS, err,
                             errlen) > 0)
        url = run(argv, env.vars, cfg->api_timeout_ms, err, errlen);
    command_env_free(&env);
    explicit_bzero(words, sizeof words);
    errno = saved_errno;
    return url;
}
