/* cache.c — see cache.h. All state below is guarded by cache.lock. */
#include "cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "source.h"

/* Milliseconds to wait before the next fetch, after each fetch that brought
 * nothing new: quick at first (a rotation's config var lags by seconds), then
 * slowly (an API outage or a deleted database must not drain the account's
 * rate limit of 4,500 requests, refilled at 75 a minute). */
static const int backoff_ms[] = {250, 500, 1000, 1000, 1000, 1000, 2000, 4000, 8000, 16000, 30000};
#define BACKOFF_STEPS (sizeof backoff_ms / sizeof backoff_ms[0])
#define BACKOFF_FORGET_MS 60000 /* a quiet minute starts the schedule again */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t done; /* broadcast when a fetch ends */
    char *url;           /* last good URL, or NULL */
    bool stale;          /* a connection to url failed as if its credentials were stale */
    long long fetched_at;
    bool fetching;
    unsigned long fetches; /* completed fetches: lets waiters see one has ended */
    long long next_fetch_at;
    unsigned backoff_step;
    bool fetch_failed; /* the last fetch failed, for the reason in error */
    char error[256];
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t cond_once = PTHREAD_ONCE_INIT;

static void init_cond(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cache.done, &attr);
    pthread_condattr_destroy(&attr);
}

long long hpq_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool fresh(const struct hpq_config *cfg, long long now)
{
    return cache.url && !cache.stale && now - cache.fetched_at < cfg->ttl_s * 1000;
}

static char *copy_or_error(char *err, size_t errlen)
{
    char *url = cache.url ? strdup(cache.url) : NULL;
    if (!url)
        snprintf(err, errlen, "%s", cache.url ? "out of memory" : cache.error);
    return url;
}

static void back_off(long long now)
{
    if (now > cache.next_fetch_at + BACKOFF_FORGET_MS)
        cache.backoff_step = 0;
    unsigned step = cache.backoff_step < BACKOFF_STEPS ? cache.backoff_step : BACKOFF_STEPS - 1;
    cache.next_fetch_at = now + backoff_ms[step];
    cache.backoff_step++;
}

/* Store a fetched URL. Getting a URL known to be stale back again is no
 * progress, and backs off. */
static void store(char *url, long long now)
{
    bool changed = !cache.url || strcmp(cache.url, url) != 0;
    if (changed && cache.url)
        hpq_log(HPQ_DEBUG, "the database URL of the app has changed");
    if (cache.url) {
        memset(cache.url, 0, strlen(cache.url));
        free(cache.url);
    }
    cache.url = url;
    cache.fetched_at = now;
    if (changed) {
        cache.stale = false;
        cache.backoff_step = 0;
        cache.next_fetch_at = now;
    } else if (cache.stale) {
        back_off(now);
    } else {
        cache.backoff_step = 0;
        cache.next_fetch_at = now;
    }
}

/* One fetch, with the lock released while it runs. */
static void fetch_locked(const struct hpq_config *cfg)
{
    char err[sizeof cache.error];
    cache.fetching = true;
    pthread_mutex_unlock(&cache.lock);
    char *url = hpq_source_fetch(cfg, err, sizeof err);
    pthread_mutex_lock(&cache.lock);
    long long now = hpq_now_ms();
    cache.fetch_failed = !url;
    if (url) {
        store(url, now);
    } else {
        snprintf(cache.error, sizeof cache.error, "%s", err);
        hpq_log(HPQ_ERROR, "%s", err);
        back_off(now);
    }
    cache.fetching = false;
    cache.fetches++;
    pthread_cond_broadcast(&cache.done);
}

static void wait_for_fetch(void)
{
    unsigned long seen = cache.fetches;
    while (cache.fetching && cache.fetches == seen)
        pthread_cond_wait(&cache.done, &cache.lock);
}

char *hpq_cache_get(const struct hpq_config *cfg, char *err, size_t errlen)
{
    pthread_once(&cond_once, init_cond);
    pthread_mutex_lock(&cache.lock);
    long long now = hpq_now_ms();
    if (!fresh(cfg, now)) {
        bool fetched_here = false;
        if (cache.fetching) {
            wait_for_fetch();
        } else if (now >= cache.next_fetch_at) {
            fetch_locked(cfg);
            fetched_here = true;
        } else {
            hpq_log(HPQ_DEBUG, "not asking the API again for %lld ms (back-off)",
                    cache.next_fetch_at - now);
        }
        /* Said once per failed fetch, by the thread that made it. */
        if (fetched_here && cache.fetch_failed && cache.url)
            hpq_log(HPQ_WARN, "using the last good database URL until the API answers");
    }
    char *url = copy_or_error(err, errlen);
    pthread_mutex_unlock(&cache.lock);
    return url;
}

/* Sleep until ms (monotonic) or until a fetch ends, whichever comes first. */
static void wait_until(long long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    unsigned long seen = cache.fetches;
    while (cache.fetches == seen && hpq_now_ms() < ms)
        if (pthread_cond_timedwait(&cache.done, &cache.lock, &ts) != 0)
            break;
}

char *hpq_cache_refresh(const struct hpq_config *cfg, const char *failed_url,
                        long long deadline_ms, char *err, size_t errlen)
{
    pthread_once(&cond_once, init_cond);
    pthread_mutex_lock(&cache.lock);
    unsigned long start = cache.fetches;
    char *url = NULL;
    if (cache.url && strcmp(cache.url, failed_url) == 0)
        cache.stale = true;
    for (;;) {
        if (cache.url && strcmp(cache.url, failed_url) != 0)
            break; /* someone already has a newer URL */
        if (cache.fetches != start)
            break; /* a fetch ended since we asked: its answer is ours */
        if (cache.fetching) {
            wait_for_fetch();
        } else if (hpq_now_ms() < cache.next_fetch_at) {
            if (cache.next_fetch_at > deadline_ms) {
                snprintf(err, errlen, "no new database URL within HEROKUPQ_RETRY_MS");
                pthread_mutex_unlock(&cache.lock);
                return NULL;
            }
            wait_until(cache.next_fetch_at);
        } else {
            fetch_locked(cfg);
        }
    }
    url = copy_or_error(err, errlen);
    pthread_mutex_unlock(&cache.lock);
    return url;
}

static void mark(const char *url, bool stale)
{
    pthread_mutex_lock(&cache.lock);
    if (cache.url && strcmp(cache.url, url) == 0)
        cache.stale = stale;
    pthread_mutex_unlock(&cache.lock);
}

void hpq_cache_invalidate(const char *url) { mark(url, true); }

void hpq_cache_confirm(const char *url) { mark(url, false); }

void hpq_cache_lock(void) { pthread_mutex_lock(&cache.lock); }

void hpq_cache_unlock(void) { pthread_mutex_unlock(&cache.lock); }

/* In a child after fork: the thread that was fetching does not exist here. */
void hpq_cache_after_fork_child(void)
{
    cache.fetching = false;
    init_cond(); /* waiters' state in the old condition variable is meaningless here */
    pthread_mutex_unlock(&cache.lock);
}
