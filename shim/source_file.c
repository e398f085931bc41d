/* source_file.c — see source_file.h. */
#include "source_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "source_text.h"

#define SETTLE_MS 1000 /* a last line without a line end counts once the file is this old */
#define FILE_VARS 16   /* file:DIR/: the vars whose files are remembered */

/* What identifies a file read (from fstat of the descriptor read). */
struct signature {
    bool known, present;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

/* The file last read for each var (file:PATH: one, under the name ""). */
static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char var[128];
    struct signature sig;
} last[FILE_VARS];
static unsigned n_last;

static struct signature signature_of(const struct stat *st)
{
    return (struct signature){.known = true, .present = true, .dev = st->st_dev,
                              .ino = st->st_ino, .size = st->st_size, .mtime = st->st_mtim};
}

static bool same(const struct signature *a, const struct signature *b)
{
    return a->present == b->present && (!a->present || (a->dev == b->dev && a->ino == b->ino &&
                                                        a->size == b->size &&
                                                        a->mtime.tv_sec == b->mtime.tv_sec &&
                                                        a->mtime.tv_nsec == b->mtime.tv_nsec));
}

void hpq_source_file_lock(void) { pthread_mutex_lock(&last_lock); }
void hpq_source_file_unlock(void) { pthread_mutex_unlock(&last_lock); }

static bool per_var(const struct hpq_config *cfg)
{
    size_t n = strlen(cfg->source_arg);
    return n > 0 && cfg->source_arg[n - 1] == '/';
}

/* The slot of key (under last_lock); a new one if there is room, else NULL. */
static struct signature *slot(const char *key)
{
    for (unsigned i = 0; i < n_last; i++)
        if (strcmp(last[i].var, key) == 0)
            return &last[i].sig;
    if (n_last == FILE_VARS || strlen(key) >= sizeof last[0].var)
        return NULL;
    snprintf(last[n_last].var, sizeof last[0].var, "%s", key);
    last[n_last].sig = (struct signature){0};
    return &last[n_last++].sig;
}

static void remember(const char *key, struct signature sig)
{
    pthread_mutex_lock(&last_lock);
    struct signature *s = slot(key);
    if (s)
        *s = sig;
    pthread_mutex_unlock(&last_lock);
}

/* The file for var: PATH, or DIR/var for file:DIR/. 0, or -1 with the reason. */
static int path_for(const struct hpq_config *cfg, const char *var, char *path, size_t len,
                    char *err, size_t errlen)
{
    if (!per_var(cfg)) {
        snprintf(path, len, "%s", cfg->source_arg);
        return 0;
    }
    if (!var || !*var || var[0] == '.' || strchr(var, '/')) {
        snprintf(err, errlen, "config var %s cannot name a file in %s (HEROKUPQ_SOURCE)",
                 var ? var : "(none)", cfg->source_arg);
        return -1;
    }
    if ((size_t)snprintf(path, len, "%s%s", cfg->source_arg, var) >= len) {
        snprintf(err, errlen, "the file for %s in %s (HEROKUPQ_SOURCE): path too long", var,
                 cfg->source_arg);
        return -1;
    }
    return 0;
}

static const char *key_for(const struct hpq_config *cfg, const char *var)
{
    return per_var(cfg) && var ? var : "";
}

bool hpq_source_file_changed(const struct hpq_config *cfg, const char *var)
{
    int saved_errno = errno;
    char path[4096], err[8];
    struct stat st;
    struct signature now = {.known = true};
    if (path_for(cfg, var, path, sizeof path, err, sizeof err) == 0 && stat(path, &st) == 0)
        now = signature_of(&st);
    pthread_mutex_lock(&last_lock);
    struct signature *s = slot(key_for(cfg, var));
    bool changed = !s || (s->known && !same(s, &now));
    pthread_mutex_unlock(&last_lock);
    errno = saved_errno;
    return changed;
}

/* The whole file (at most cap bytes) from an open descriptor. */
static ssize_t read_all(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    return (ssize_t)n;
}

/* Whether the URL's line (the first one not blank) ends in a line end. */
static bool line_ended(const char *buf, size_t n)
{
    size_t i = 0;
    while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    return memchr(buf + i, '\n', n - i) != NULL;
}

/* Whether the file read through fd, and the file path names now, are still
 * the one described by before (same inode, size and modification time). */
static bool unchanged(const char *path, int fd, const struct signature *before)
{
    struct stat a, b;
    if (fstat(fd, &a) != 0 || stat(path, &b) != 0)
        return false;
    struct signature sa = signature_of(&a), sb = signature_of(&b);
    return same(before, &sa) && same(before, &sb);
}

/* Whether the file has stood still for SETTLE_MS since it was last modified:
 * waited for when it is younger, if the timeout allows, then checked again.
 * (A writer that pauses between the bytes of a line leaves no other sign.) */
static bool settled(const char *path, int fd, const struct signature *before, long timeout_ms)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long age = (long long)(now.tv_sec - before->mtime.tv_sec) * 1000 +
                    (now.tv_nsec - before->mtime.tv_nsec) / 1000000;
    long long wait = SETTLE_MS - (age < 0 ? 0 : age); /* a future time: a full wait */
    if (wait <= 0)
        return true;
    if (wait > timeout_ms)
        return false;
    struct timespec ts = {.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return unchanged(path, fd, before);
}

/* The URL in the open file, read whole: it did not change while read, and its
 * line ends in a line end or at an end of file that stood still. *torn says
 * that it was being written. */
static char *url_in(const struct hpq_config *cfg, const char *path, int fd,
                    const struct signature *before, const char *origin, bool *torn, char *err,
                    size_t errlen)
{
    char *buf = malloc(HPQ_MAX_FILE + 1);
    ssize_t n = buf ? read_all(fd, buf, HPQ_MAX_FILE + 1) : -1;
    char *url = NULL;
    *torn = false;
    if (n < 0)
        snprintf(err, errlen, "cannot read %s", origin);
    else if (n > HPQ_MAX_FILE)
        snprintf(err, errlen, "%s is larger than %d bytes", origin, HPQ_MAX_FILE);
    else if ((*torn = !unchanged(path, fd, before) ||
                      (!line_ended(buf, (size_t)n) &&
                       !settled(path, fd, before, cfg->api_timeout_ms))))
        snprintf(err, errlen, "%s is being written (it changed while read, or its line has no "
                 "line end yet); not used", origin);
    else
        url = hpq_url_from_text(buf, (size_t)n, origin, err, errlen);
    if (buf) {
        explicit_bzero(buf, n > 0 ? (size_t)n : 0);
        free(buf);
    }
    return url;
}

static char *fetch(const struct hpq_config *cfg, const char *var, char *err, size_t errlen)
{
    char path[4096], origin[4200];
    if (path_for(cfg, var, path, sizeof path, err, errlen) != 0)
        return NULL;
    snprintf(origin, sizeof origin, "the file %s (HEROKUPQ_SOURCE)", path);
    /* Non-blocking: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "cannot read %s: %s", origin,
                 fd < 0 ? strerror(errno) : "not a regular file");
        remember(key_for(cfg, var), (struct signature){.known = true});
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    struct signature before = signature_of(&st);
    bool torn;
    char *url = url_in(cfg, path, fd, &before, origin, &torn, err, errlen);
    close(fd);
    if (!torn) /* else it stays "changed": read again (after the back-off) */
        remember(key_for(cfg, var), before);
    return url;
}

char *hpq_source_file_fetch(const struct hpq_config *cfg, const char *var, char *err,
                            size_t errlen)
{
    int saved_errno = errno;
    char *url = fetch(cfg, var, err, errlen);
    errno = saved_errno;
    return url;
}
