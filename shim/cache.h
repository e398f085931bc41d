/* cache.h — the app's current database URL, shared by every thread.
 *
 * One process has one configuration, so one entry: the (API, app, config var,
 * token) key is fixed for the process's life. At most one fetch is in flight;
 * threads that need the URL meanwhile wait for that fetch's result.
 *
 * Fetches that bring nothing new (a failure, or the same URL when it is known
 * to be stale) back off, however many threads ask: the next fetch waits
 * 0.25, 0.5, 1, 1, 1, 1, 2, 4, 8, 16, then 30 s. The schedule restarts when
 * the URL changes or after a minute without fetches. */
#ifndef HPQ_CACHE_H
#define HPQ_CACHE_H

#include <stddef.h>

#include "config.h"

/* The URL to connect to (malloc'd): the cached one while younger than
 * HEROKUPQ_TTL, else a fresh fetch; if that fails, the last good URL. NULL,
 * with the reason in err, when there is none. */
char *hpq_cache_get(const struct hpq_config *cfg, char *err, size_t errlen);

/* A connection to failed_url failed as if it were stale. Return the newest
 * URL known after at least one fetch that started after this call (it may
 * still equal failed_url: the config var changes after the database does), or
 * a different URL another thread already found. Waits for the backoff
 * schedule, but never past deadline_ms (hpq_now_ms clock): returns NULL if no
 * fetch could be made in time. */
char *hpq_cache_refresh(const struct hpq_config *cfg, const char *failed_url,
                        long long deadline_ms, char *err, size_t errlen);

/* A connection to url failed as if it were stale (seen where the shim could not
 * retry: PQconnectPoll, PQreset): the next connection fetches again. */
void hpq_cache_invalidate(const char *url);

/* A connection to url succeeded: it is not stale (any more). */
void hpq_cache_confirm(const char *url);

/* Fork handlers: hold the cache across fork; repair it in the child. */
void hpq_cache_lock(void);
void hpq_cache_unlock(void);
void hpq_cache_after_fork_child(void);

/* Monotonic milliseconds. */
long long hpq_now_ms(void);

#endif
