/* filecache.h — the URL cache shared by one user's processes on one host.
 *
 * A directory (HEROKUPQ_CACHE_DIR) holds, per entry, a record file and a lock
 * file. An entry is named by the SHA-256 of its key: API URL, app, config
 * var and the token's value, wherever it comes from (HEROKU_API_KEY, or the
 * netrc entry libcurl will send), never a path: another $HOME whose netrc
 * holds another token gets another entry. The token itself is never written
 * anywhere.
 *
 * Nothing found there is trusted: the directory must be owned by the user
 * and have no group or world access (0700), every file must be a regular
 * file owned by the user with no group or world access (0600). Anything else
 * (another owner, a wider mode, a symlink, a FIFO, a device) is refused with
 * one log line and never followed: files are opened relative to the opened
 * directory, with O_NOFOLLOW and O_NONBLOCK, and checked with fstat on the
 * opened descriptor. Every descriptor is O_CLOEXEC.
 *
 * Records are written whole (a temporary file renamed over the record), so a
 * reader sees the old or the new record, never a mix; they are read with a
 * bounded size. The lock file serialises the processes that change a record:
 * flock(2), released when its holder unlocks, closes it or dies.
 *
 * Pure I/O, no state: the caller (cache.c) decides what to do with it. */
#ifndef HPQ_FILECACHE_H
#define HPQ_FILECACHE_H

#include <stdbool.h>
#include <sys/types.h>

#include "sha256.h"
#include "source.h" /* HPQ_ETAG_MAX */

#define HPQ_RECORD_MAX (64 * 1024) /* a record file larger than this is refused */

/* What a record file holds. Times are wall-clock milliseconds (the processes
 * sharing it have no other common clock). */
struct hpq_record {
    char *url;               /* malloc'd, or NULL */
    char etag[HPQ_ETAG_MAX]; /* the API's ETag for url's answer, "" if none */
    long long fetched_ms;    /* the last answer (200 or 304) for url; 0: never */
    long long next_fetch_ms; /* no API request before this (the host's back-off) */
    unsigned step;           /* back-off step */
    bool stale;              /* a connection to url failed as if its credentials were stale */
    bool confirmed;          /* a connection to url succeeded */
};

/* Enough of a record file's identity to see that it changed, without reading it. */
struct hpq_file_id {
    dev_t dev;
    ino_t ino;
    long long mtime_ns;
    off_t size;
};

/* Create (0700) and open the directory; -1 if it cannot be used (one log line). */
int hpq_filecache_open_dir(const char *path);

/* The entry's file name: hex SHA-256 of its key. token may be NULL: then the
 * token of the netrc file (netrc, NULL: ~/.netrc; netrc.h), read now.
 * "" when there is none (out of memory, libcrypto failing: sha256.h): the
 * entry is then kept in the process only. */
void hpq_filecache_name(const char *api_url, const char *app, const char *var, const char *token,
                        const char *netrc, char out[HPQ_SHA256_HEX]);

/* Whether the record file is not the one described by seen (changed, or gone). */
bool hpq_filecache_changed(int dirfd, const char *name, const struct hpq_file_id *seen);

/* Read the record: 1, with *id set; 0 if there is none (or it is not a
 * record: it will be replaced); -1 if refused (logged). */
int hpq_filecache_read(int dirfd, const char *name, struct hpq_record *out,
                       struct hpq_file_id *id);

/* Replace the record; 0, with *id set, or -1 (logged at debug). */
int hpq_filecache_write(int dirfd, const char *name, const struct hpq_record *rec,
                        struct hpq_file_id *id);

/* Try to take the entry's lock without waiting: its descriptor (>= 0); -1 if
 * another process holds it; -2 if the lock file is refused (logged). */
int hpq_filecache_trylock(int dirfd, const char *name);
void hpq_filecache_unlock(int lockfd);

/* Free and wipe a record's URL (it holds a password) and zero the rest. */
void hpq_record_clear(struct hpq_record *rec);

#endif
