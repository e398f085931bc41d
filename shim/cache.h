/* cache.h — the app's current database URLs: one entry per config var,
 * shared by every thread of the process and, through the file cache
 * (filecache.h, HEROKUPQ_CACHE_DIR), by the user's processes on the host.
 *
 * An entry is fresh while younger than HEROKUPQ_TTL (its age is the time since
 * the API last answered for it, in any process: a 304 renews it) and not
 * stale. A fresh entry is served with no request and without loading
 * libcurl. An entry is stale once a connection to its URL failed as if the
 * credentials were stale, in any process: the host's next connection asks the
 * API regardless of the TTL.
 *
 * Single flight: at most one request per entry is in flight on the host. The
 * threads of a process wait for their fetching thread; the processes wait on
 * the entry's lock file for the process holding it, and take its answer.
 * Every wait is bounded by HEROKUPQ_RETRY_MS; a process that dies holding the
 * lock releases it.
 *
 * Back-off, shared by the host's processes (it is kept in the entry's file):
 * after a fetch that brought nothing new while the URL is stale, the next
 * one waits 0.25 s (twelve times, so that a config var that lags the database
 * by seconds is seen within about 0.3 s of its change), then 0.5, 1, 2, 4, 8,
 * 16 and 30 s; after an API failure, 1, 2, 4, 8, 16 and 30 s, or the
 * answer's Retry-After if longer (at most 10 minutes). Each wait is stretched
 * by up to 20% at random, so hosts do not ask in step. The schedule restarts
 * when the URL changes or after a quiet minute. While the API fails
 * (stale-if-error), is rate limited (429), or reports fewer than 100 requests
 * left (then it is asked at most every 30 s), the last good URL is served.
 *
 * Requests carry If-None-Match with the entry's ETag; a 304 renews the entry.
 *
 * Fork: the prepare handler (fork.c) waits for the API requests in flight in
 * other threads (libcurl, OpenSSL, or the command of HEROKUPQ_SOURCE=exec:)
 * to end and their answers to be stored, and starts no new one meanwhile: the
 * child inherits the answer, never a request's half-changed library state
 * (OpenSSL's locks held by a thread it does not have). The fetching thread
 * returns to the program only after the fork. The wait is bounded by each
 * request's own timeout, HEROKUPQ_API_TIMEOUT_MS, plus HPQ_FORK_GRACE_MS; a
 * child forked past it (a request that waits for the forking thread itself)
 * makes no request: its fetches fail, said in the error, and it uses the
 * cached URL if there is one. With no request in flight a fork waits for
 * nothing, and nothing is paid for this before a fork.
 *
 * Every function keeps errno as it found it. */
#ifndef HPQ_CACHE_H
#define HPQ_CACHE_H

#include <stddef.h>

#include "config.h"
#include "source.h"

#define HPQ_CACHE_VARS 8 /* config vars one process can resolve */
#define HPQ_FORK_GRACE_MS 1000 /* a fork's wait past a request's own timeout */

/* The URL of config var var to connect to (malloc'd): the cached one while
 * fresh, else a fresh fetch; if that fails (or must wait for the back-off),
 * the last good URL. NULL, with the reason in err, when there is none. */
char *hpq_cache_get(const struct hpq_config *cfg, const char *var, char *err, size_t errlen);

/* A connection to failed_url (var's) failed as if stale: mark it stale (for
 * the host) and return a URL worth another attempt: one other than
 * failed_url, or failed_url itself when it never connected and a fetch made
 * after this call brought it again (the database may lag the config var). A
 * URL that did connect before is not tried again until the config var
 * changes. Waits for the back-off and for other processes' fetches, but never
 * past deadline_ms (hpq_now_ms clock): NULL, with the reason in err, if no
 * such URL came by then. */
char *hpq_cache_refresh(const struct hpq_config *cfg, const char *var, const char *failed_url,
                        long long deadline_ms, char *err, size_t errlen);

/* A connection to url failed as if it were stale (seen where the shim could not
 * retry: PQconnectPoll, PQreset): the host's next connection fetches again. */
void hpq_cache_invalidate(const char *url);

/* A connection to url succeeded: it is not stale (any more). */
void hpq_cache_confirm(const char *url);

/* Fork handlers: hold the cache across fork; repair it in the child. */
void hpq_cache_lock(void);
void hpq_cache_unlock(void);
void hpq_cache_after_fork_child(void);

/* ---- A cache of its own, with its clock and fetch injected (unit tests). */

struct hpq_cache_ops {
    long long (*mono_ms)(void *ctx);      /* monotonic: deadlines */
    long long (*wall_ms)(void *ctx);      /* wall clock: entry times, shared with other processes */
    void (*sleep_ms)(void *ctx, long ms); /* called without the cache's lock held */
    unsigned (*random)(void *ctx);        /* jitter */
    int (*fetch)(void *ctx, const struct hpq_config *cfg, const char *var, const char *etag,
                 struct hpq_answer *out, char *err, size_t errlen); /* as hpq_source_fetch */
    void *ctx;
};

struct hpq_cache;

struct hpq_cache *hpq_cache_new(const struct hpq_cache_ops *ops);
void hpq_cache_free(struct hpq_cache *c);
char *hpq_cache_get_in(struct hpq_cache *c, const struct hpq_config *cfg, const char *var,
                       char *err, size_t errlen);
char *hpq_cache_refresh_in(struct hpq_cache *c, const struct hpq_config *cfg, const char *var,
                           const char *failed_url, long long deadline_ms, char *err,
                           size_t errlen);
void hpq_cache_invalidate_in(struct hpq_cache *c, const char *url);
void hpq_cache_confirm_in(struct hpq_cache *c, const char *url);

#endif
