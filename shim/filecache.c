/* filecache.c — see filecache.h. */
#include "filecache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "netrc.h"

#define RECORD_MAGIC "herokupq-cache 1"

/* Is the opened fd something we may use: owned by us, no group or world
 * access, and a directory or a regular file as wanted? Logs the refusal. */
static bool acceptable(int fd, const char *name, bool want_dir)
{
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st) != 0)
        why = "cannot be examined";
    else if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
        why = want_dir ? "is not a directory" : "is not a regular file";
    else if (st.st_uid != geteuid())
        why = "is owned by another user";
    else if (st.st_mode & 077)
        why = want_dir ? "is open to other users (it must be 0700)"
                       : "is open to other users (it must be 0600)";
    if (why)
        hpq_log(HPQ_WARN, "cache %s %s %s: not using it (the in-process cache still works)",
                want_dir ? "directory" : "file", name, why);
    return why == NULL;
}

static void refused_open(const char *what, const char *name, int err)
{
    if (err == ELOOP)
        hpq_log(HPQ_WARN, "cache %s %s is a symbolic link: not following it (the in-process "
                          "cache still works)", what, name);
    else if (err == ENOTDIR)
        hpq_log(HPQ_WARN, "cache %s %s is not a directory: not using it (the in-process "
                          "cache still works)", what, name);
    else
        hpq_log(HPQ_WARN, "cache %s %s cannot be opened: %s (the in-process cache still works)",
                what, name, strerror(err));
}

int hpq_filecache_open_dir(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        refused_open("directory", path, errno);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        struct stat st; /* only to word the refusal: O_DIRECTORY says ENOTDIR for a link too */
        if (err == ENOTDIR && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
            err = ELOOP;
        refused_open("directory", path, err);
        return -1;
    }
    if (!acceptable(fd, path, true)) {
        close(fd);
        return -1;
    }
    return fd;
}

void hpq_filecache_name(const char *api_url, const char *app, const char *var, const char *token,
                        const char *netrc, char out[HPQ_SHA256_HEX])
{
    char *key = NULL, from_netrc[1024] = "";
    if (!token) /* the token libcurl will send from netrc: the same name as from HEROKU_API_KEY */
        hpq_netrc_token(netrc, api_url, from_netrc, sizeof from_netrc);
    const char *value = token ? token : from_netrc;
    int n = asprintf(&key, "%s\n%s\n%s\n%s%s", api_url ? api_url : "", app ? app : "",
                     var ? var : "", value[0] ? "token:" : "no token", value);
    explicit_bzero(from_netrc, sizeof from_netrc);
    out[0] = '\0'; /* no name: the caller keeps no file */
    if (n < 0)
        return;
    hpq_sha256_hex(key, (size_t)n, out); /* "" when libcrypto fails (logged once) */
    explicit_bzero(key, (size_t)n); /* it holds the token */
    free(key);
}

static void identify(const struct stat *st, struct hpq_file_id *id)
{
    id->dev = st->st_dev;
    id->ino = st->st_ino;
    id->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    id->size = st->st_size;
}

bool hpq_filecache_changed(int dirfd, const char *name, const struct hpq_file_id *seen)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return seen->ino != 0;
    struct hpq_file_id now;
    identify(&st, &now);
    return memcmp(&now, seen, sizeof now) != 0;
}

void hpq_record_clear(struct hpq_record *rec)
{
    if (rec->url) {
        explicit_bzero(rec->url, strlen(rec->url));
        free(rec->url);
    }
    memset(rec, 0, sizeof *rec);
}

/* One "key value" line of a record into rec; false if it is not one. */
static bool parse_line(char *line, struct hpq_record *rec)
{
    char *value = strchr(line, ' ');
    if (!value)
        return false;
    *value++ = '\0';
    if (strcmp(line, "url") == 0)
        return !rec->url && (rec->url = strdup(value)) != NULL;
    if (strcmp(line, "etag") == 0)
        return snprintf(rec->etag, sizeof rec->etag, "%s", value) < (int)sizeof rec->etag;
    char *end;
    long long n = strtoll(value, &end, 10);
    if (*end || n < 0)
        return false;
    if (strcmp(line, "fetched") == 0)
        rec->fetched_ms = n;
    else if (strcmp(line, "next") == 0)
        rec->next_fetch_ms = n;
    else if (strcmp(line, "step") == 0)
        rec->step = n > 100 ? 100 : (unsigned)n;
    else if (strcmp(line, "stale") == 0)
        rec->stale = n != 0;
    else if (strcmp(line, "confirmed") == 0)
        rec->confirmed = n != 0;
    return true; /* an unknown key is a later version's: ignored */
}

static bool parse_record(char *text, struct hpq_record *rec)
{
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    if (!line || strcmp(line, RECORD_MAGIC) != 0)
        return false;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL)
        if (!parse_line(line, rec))
            return false;
    return rec->url != NULL;
}

/* The whole of a checked record file, NUL-terminated (malloc'd), or NULL. */
static char *slurp(int fd, size_t size)
{
    char *buf = malloc(size + 1);
    size_t got = 0;
    while (buf && got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (buf)
        buf[got] = '\0';
    return buf;
}

int hpq_filecache_read(int dirfd, const char *name, struct hpq_record *out,
                       struct hpq_file_id *id)
{
    memset(out, 0, sizeof *out);
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        refused_open("file", name, errno);
        return -1;
    }
    struct stat st;
    int result = -1;
    if (acceptable(fd, name, false) && fstat(fd, &st) == 0) {
        result = 0;
        char *text = st.st_size <= HPQ_RECORD_MAX ? slurp(fd, (size_t)st.st_size) : NULL;
        if (text && parse_record(text, out)) {
            identify(&st, id);
            result = 1;
        } else {
            hpq_record_clear(out);
        }
        if (text) {
            explicit_bzero(text, strlen(text));
            free(text);
        }
    }
    close(fd);
    return result;
}

static char *format_record(const struct hpq_record *rec, size_t *len)
{
    char *text = NULL;
    int n = asprintf(&text,
                     RECORD_MAGIC "\nfetched %lld\nnext %lld\nstep %u\nstale %d\nconfirmed %d\n"
                                  "%s%s%surl %s\n",
                     rec->fetched_ms, rec->next_fetch_ms, rec->step, rec->stale, rec->confirmed,
                     rec->etag[0] ? "etag " : "", rec->etag, rec->etag[0] ? "\n" : "", rec->url);
    *len = n < 0 ? 0 : (size_t)n;
    return n < 0 ? NULL : text;
}

static bool write_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        text += n;
        len -= (size_t)n;
    }
    return true;
}

/* A new temporary file in the directory, 0600, never an existing one. */
static int create_temp(int dirfd, const char *name, char *tmp, size_t tmplen)
{
    static unsigned serial; /* not rand(): the program's sequence is its own */
    for (unsigned i = 0; i < 8; i++) {
        snprintf(tmp, tmplen, ".%.16s.%ld.%u", name, (long)getpid(),
                 __atomic_fetch_add(&serial, 1, __ATOMIC_RELAXED));
        int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

static bool writable(const struct hpq_record *rec)
{
    return rec->url && !strpbrk(rec->url, "\r\n") && !strpbrk(rec->etag, "\r\n") &&
           strlen(rec->url) < HPQ_RECORD_MAX - 512;
}

int hpq_filecache_write(int dirfd, const char *name, const struct hpq_record *rec,
                        struct hpq_file_id *id)
{
    size_t len = 0;
    char *text = writable(rec) ? format_record(rec, &len) : NULL;
    char tmp[128];
    int fd = text ? create_temp(dirfd, name, tmp, sizeof tmp) : -1;
    struct stat st;
    bool ok = fd >= 0 && write_all(fd, text, len) && fstat(fd, &st) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && renameat(dirfd, tmp, dirfd, name) == 0) {
        identify(&st, id);
    } else {
        if (fd >= 0)
            unlinkat(dirfd, tmp, 0);
        hpq_log(HPQ_DEBUG, "could not write the cache file %s", name);
        ok = false;
    }
    if (text) {
        explicit_bzero(text, len);
        free(text);
    }
    return ok ? 0 : -1;
}

int hpq_filecache_trylock(int dirfd, const char *name)
{
    char lockname[HPQ_SHA256_HEX + 8];
    snprintf(lockname, sizeof lockname, "%s.lock", name);
    int fd = openat(dirfd, lockname, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0) {
        refused_open("file", lockname, errno);
        return -2;
    }
    if (!acceptable(fd, lockname, false)) {
        close(fd);
        return -2;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void hpq_filecache_unlock(int lockfd)
{
    if (lockfd < 0)
        return;
    flock(lockfd, LOCK_UN); /* explicitly: a forked child may hold a copy of the descriptor */
    close(lockfd);
}
