/* source_file.c — see source_file.h. */
#include "source_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source_text.h"

/* What identifies the file last read (from fstat of the descriptor read). */
struct signature {
    bool known, present;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;
static struct signature last;

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

static void remember(struct signature sig)
{
    pthread_mutex_lock(&last_lock);
    last = sig;
    pthread_mutex_unlock(&last_lock);
}

bool hpq_source_file_changed(const struct hpq_config *cfg)
{
    int saved_errno = errno;
    struct stat st;
    struct signature now = {.known = true};
    if (stat(cfg->source_arg, &st) == 0)
        now = signature_of(&st);
    pthread_mutex_lock(&last_lock);
    bool changed = last.known && !same(&last, &now);
    pthread_mutex_unlock(&last_lock);
    errno = saved_errno;
    return changed;
}

/* The whole file (at most HPQ_MAX_FILE bytes) from an open descriptor. */
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

static char *fetch(const struct hpq_config *cfg, char *err, size_t errlen)
{
    char origin[300];
    snprintf(origin, sizeof origin, "the file %s (HEROKUPQ_SOURCE)", cfg->source_arg);
    int fd = open(cfg->source_arg, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "cannot read %s: %s", origin,
                 fd < 0 ? strerror(errno) : "not a regular file");
        remember((struct signature){.known = true});
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char *buf = malloc(HPQ_MAX_FILE + 1);
    ssize_t n = buf ? read_all(fd, buf, HPQ_MAX_FILE + 1) : -1;
    close(fd);
    char *url = NULL;
    if (n < 0)
        snprintf(err, errlen, "cannot read %s", origin);
    else if (n > HPQ_MAX_FILE)
        snprintf(err, errlen, "%s is larger than %d bytes", origin, HPQ_MAX_FILE);
    else
        url = hpq_url_from_text(buf, (size_t)n, origin, err, errlen);
    if (buf) {
        explicit_bzero(buf, n > 0 ? (size_t)n : 0);
        free(buf);
    }
    remember(signature_of(&st));
    return url;
}

char *hpq_source_file_fetch(const struct hpq_config *cfg, char *err, size_t errlen)
{
    int saved_errno = errno;
    char *url = fetch(cfg, err, errlen);
    errno = saved_errno;
    return url;
}
