/* source_exec.c — see source_exec.h. */
#include "source_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
};

static int spawn(char *const argv[], int out_w, int err_w, pid_t *pid)
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
    int rc = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return rc;
}

/* Append what one pipe has to its buffer; false at its end. */
static bool drain(int fd, char *buf, size_t cap, size_t *len)
{
    char chunk[4096];
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (r <= 0)
        return false;
    size_t room = cap - *len;
    size_t n = (size_t)r < room ? (size_t)r : room;
    memcpy(buf + *len, chunk, n);
    *len += n;
    return true;
}

/* Read both pipes until both end or the deadline passes. True if they ended. */
static bool collect(int out_r, int err_r, long long deadline, struct capture *c)
{
    struct pollfd p[2] = {{.fd = out_r, .events = POLLIN}, {.fd = err_r, .events = POLLIN}};
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return false;
        int n = poll(p, 2, (int)(left < 60000 ? left : 60000));
        if (n < 0 && errno != EINTR)
            return false;
        if (p[0].fd >= 0 && p[0].revents &&
            !drain(out_r, c->out, HPQ_MAX_OUTPUT + 1, &c->out_len))
            p[0].fd = -1;
        if (p[1].fd >= 0 && p[1].revents &&
            !drain(err_r, c->errbuf, sizeof c->errbuf - 1, &c->err_len))
            p[1].fd = -1;
    }
    return true;
}

/* Reap the child, waiting for it at most until the deadline; past it, kill
 * its whole group first (before reaping: the zombie keeps the pid from being
 * reused). The program may reap it first (its own SIGCHLD handler, or
 * SIG_IGN): then the status is unknown (-1). *timed_out says if it was killed. */
static int reap(pid_t pid, long long deadline, bool *timed_out)
{
    int status = 0;
    pid_t r;
    *timed_out = false;
    while ((r = waitpid(pid, &status, WNOHANG)) == 0 || (r < 0 && errno == EINTR)) {
        if (r == 0 && now_ms() >= deadline) {
            *timed_out = true;
            kill(-pid, SIGKILL);
            while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
                ;
            break;
        }
        if (r == 0)
            usleep(5000);
    }
    if (r != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Each line the command wrote to stderr, redacted (its passwords masked). */
static void log_stderr(const char *program, struct capture *c)
{
    c->errbuf[c->err_len] = '\0';
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

/* Start argv with its stdout and stderr on two O_CLOEXEC pipes. */
static int start(char *const argv[], int out[2], int errp[2], pid_t *pid)
{
    if (pipe2(out, O_CLOEXEC) != 0)
        return errno;
    if (pipe2(errp, O_CLOEXEC) != 0) {
        int e = errno;
        close(out[0]);
        close(out[1]);
        return e;
    }
    int rc = spawn(argv, out[1], errp[1], pid);
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

static char *run(char *const argv[], long timeout_ms, char *err, size_t errlen)
{
    int out[2], errp[2];
    pid_t pid;
    int rc = start(argv, out, errp, &pid);
    if (rc) {
        snprintf(err, errlen, "cannot run the command %s (HEROKUPQ_SOURCE): %s", argv[0],
                 strerror(rc));
        return NULL;
    }
    struct capture *c = calloc(1, sizeof *c);
    long long deadline = now_ms() + timeout_ms;
    bool ended = c && collect(out[0], errp[0], deadline, c);
    close(out[0]);
    close(errp[0]);
    bool timed_out;
    int status = reap(pid, ended ? deadline : 0, &timed_out);
    char *url = NULL;
    if (!c) {
        snprintf(err, errlen, "out of memory");
    } else {
        log_stderr(argv[0], c);
        url = outcome(argv[0], c, timed_out, status, timeout_ms, err, errlen);
        explicit_bzero(c, sizeof *c);
    }
    free(c);
    return url;
}

char *hpq_source_exec_fetch(const struct hpq_config *cfg, char *err, size_t errlen)
{
    int saved_errno = errno;
    char words[4096];
    char *argv[HPQ_MAX_WORDS];
    char *url = NULL;
    if (hpq_split_words(cfg->source_arg, words, sizeof words, argv, HPQ_MAX_WORDS, err, errlen) > 0)
        url = run(argv, cfg->api_timeout_ms, err, errlen);
    explicit_bzero(words, sizeof words);
    errno = saved_errno;
    return url;
}
