/* cache.c — see cache.h. A cache's state is guarded by its lock; the lock is
 * released around every request, sleep and wait for another process. */
#include "cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "filecache.h"
#include "log.h"
#include "source_file.h"

/* After a fetch that brought a stale URL back: quick at first (a rotation's
 * config var lags the database by seconds), then slowly. After an API
 * failure: slowly from the start (an outage must not drain the account's
 * 4,500 requests, refilled at 75 a minute). */
static const int progress_ms[] = {250, 250, 250, 250, 250,  250,   250,   250,  250,
                                  250, 250, 250, 500, 1000, 2000, 4000, 8000, 16000, 30000};
static const int failure_ms[] = {1000, 2000, 4000, 8000, 16000, 30000};
#define FORGET_MS 60000           /* a quiet minute starts the schedule again */
#define RETRY_AFTER_MAX_S 600     /* a longer Retry-After is not believed */
#define LOW_REMAINING 100         /* fewer requests left than this: ask at most ... */
#define LOW_REMAINING_MS 30000    /* ... this often */
#define SKEW_MS 60000             /* a record from further in the future is expired */
#define LOCK_POLL_MS 5            /* waiting for another process's request */
#define BACKOFF_POLL_MS 25        /* waiting out a back-off: also watching the file */

enum dir_state { DIR_UNOPENED, DIR_OPEN, DIR_OFF };

struct entry {
    char *var;
    struct hpq_record rec; /* url, etag, times, back-off: what the file shares */
    bool fetching;         /* a thread of this process is fetching for this entry */
    unsigned long fetches; /* completed fetches: lets waiters see one has ended */
    bool fetch_failed;     /* the last fetch failed, for the reason in error */
    bool limited;          /* rate limited: said once, until the API is fine again */
    char error[256];
    char file[HPQ_SHA256_HEX]; /* the entry's file name; "" when it has none */
    struct hpq_file_id seen;   /* the file as last read or written */
    int lock_fd;               /* the host lock, while this process holds it */
};

struct hpq_cache {
    pthread_mutex_t lock;
    pthread_cond_t done; /* broadcast when a fetch ends */
    const struct hpq_cache_ops *ops;
    /* a fork waits for the requests in flight (cache.h) */
    unsigned requests;          /* in flight */
    long long requests_bound;   /* mono: when the last one's own timeout has passed */
    bool fork_pending;          /* between a fork's prepare and parent handlers */
    unsigned long forks;        /* forks made by this process */
    pthread_cond_t fork_ended;  /* broadcast by the parent handler */
    bool forked_mid_request;    /* this process was forked past that bound: no request here */
    enum dir_state dir_state;
    int dirfd;
    unsigned n;
    struct entry entries[HPQ_CACHE_VARS];
};

/* ---- clocks and the real fetch ---------------------------------------------------------- */

static long long real_mono(void *ctx)
{
    (void)ctx;
    return hpq_now_ms();
}

static long long real_wall(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void real_sleep(void *ctx, long ms)
{
    (void)ctx;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static unsigned jitter_seed; /* guarded by the process cache's lock; 0: not seeded */

static unsigned real_random(void *ctx)
{
    (void)ctx;
    if (!jitter_seed)
        jitter_seed = (unsigned)getpid() ^ (unsigned)real_wall(NULL) ^ 0x9e3779b9u;
    return (unsigned)rand_r(&jitter_seed); /* not rand(): the program's sequence is its own */
}

static int real_fetch(void *ctx, const struct hpq_config *cfg, const char *var,
                      const char *etag, struct hpq_answer *out, char *err, size_t errlen)
{
    (void)ctx;
    return hpq_source_fetch(cfg, var, etag, out, err, errlen);
}

static const struct hpq_cache_ops real_ops = {real_mono, real_wall, real_sleep, real_random,
                                              real_fetch, NULL};

static struct hpq_cache process_cache = {.lock = PTHREAD_MUTEX_INITIALIZER,
                                         .done = PTHREAD_COND_INITIALIZER,
                                         .fork_ended = PTHREAD_COND_INITIALIZER,
                                         .ops = &real_ops,
                                         .dirfd = -1};

static long long wall(struct hpq_cache *c) { return c->ops->wall_ms(c->ops->ctx); }
static long long mono(struct hpq_cache *c) { return c->ops->mono_ms(c->ops->ctx); }

/* Sleep ms with the lock released. */
static void nap(struct hpq_cache *c, long ms)
{
    pthread_mutex_unlock(&c->lock);
    c->ops->sleep_ms(c->ops->ctx, ms);
    pthread_mutex_lock(&c->lock);
}

/* ---- entries and their files ------------------------------------------------------------ */

static void attach_file(struct hpq_cache *c, const struct hpq_config *cfg, struct entry *e)
{
    if (c->dir_state == DIR_UNOPENED) {
        c->dirfd = cfg->cache_dir ? hpq_filecache_open_dir(cfg->cache_dir) : -1;
        c->dir_state = c->dirfd >= 0 ? DIR_OPEN : DIR_OFF;
    }
    /* Only the API's answers are shared between processes: a file is as
     * cheap to read as the cache, and a command's answer is its own. */
    if (c->dir_state == DIR_OPEN && cfg->source == HPQ_SOURCE_HEROKU)
        hpq_filecache_name(cfg->api_url, cfg->app, e->var, cfg->token, cfg->netrc, e->file);
}

static struct entry *entry_for(struct hpq_cache *c, const struct hpq_config *cfg, const char *var)
{
    for (unsigned i = 0; i < c->n; i++)
        if (strcmp(c->entries[i].var, var) == 0)
            return &c->entries[i];
    if (c->n == HPQ_CACHE_VARS)
        return NULL;
    struct entry *e = &c->entries[c->n];
    memset(e, 0, sizeof *e);
    e->lock_fd = -1;
    if (!(e->var = strdup(var)))
        return NULL;
    c->n++;
    attach_file(c, cfg, e);
    return e;
}

static bool same_url(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* Take a record read from the file: it is newer than ours. What this process
 * learnt about the same URL (stale, confirmed) is kept. */
static void adopt(struct entry *e, struct hpq_record *rec)
{
    if (same_url(e->rec.url, rec->url)) {
        rec->stale |= e->rec.stale;
        rec->confirmed |= e->rec.confirmed;
    } else if (e->rec.url) {
        hpq_log(HPQ_DEBUG, "the database URL of the app has changed (found in the cache)");
    }
    hpq_record_clear(&e->rec);
    e->rec = *rec;
}

/* Catch up with what other processes wrote (one fstatat when nothing changed). */
static void sync_in(struct hpq_cache *c, struct entry *e)
{
    if (!e->file[0] || !hpq_filecache_changed(c->dirfd, e->file, &e->seen))
        return;
    struct hpq_record rec;
    struct hpq_file_id id;
    int got = hpq_filecache_read(c->dirfd, e->file, &rec, &id);
    if (got < 0)
        e->file[0] = '\0'; /* refused (logged): this entry stays in-process */
    if (got <= 0)
        return;
    adopt(e, &rec);
    e->seen = id;
}

static void sync_out(struct hpq_cache *c, struct entry *e)
{
    if (e->file[0] && e->rec.url)
        hpq_filecache_write(c->dirfd, e->file, &e->rec, &e->seen);
}

/* Change the shared record with fn, if the host lock is free right now (if
 * it is not, another process is fetching and will write its own answer). */
static void update_shared(struct hpq_cache *c, struct entry *e, const char *url,
                          void (*fn)(struct entry *e))
{
    fn(e);
    if (!e->file[0] || e->lock_fd >= 0)
        return;
    int fd = hpq_filecache_trylock(c->dirfd, e->file);
    if (fd == -2)
        e->file[0] = '\0';
    if (fd < 0)
        return;
    sync_in(c, e);
    if (same_url(e->rec.url, url)) {
        fn(e);
        sync_out(c, e);
    }
    hpq_filecache_unlock(fd);
}

static void set_stale(struct entry *e) { e->rec.stale = true; }

static void set_confirmed(struct entry *e)
{
    e->rec.stale = false;
    e->rec.confirmed = true;
}

/* ---- what an answer does to an entry ---------------------------------------------------- */

static long long jittered(struct hpq_cache *c, long long ms)
{
    return ms + ms * (long long)(c->ops->random(c->ops->ctx) % 201) / 1000;
}

static void back_off(struct hpq_cache *c, struct entry *e, bool failure, long retry_after_s)
{
    long long now = wall(c);
    struct hpq_record *r = &e->rec;
    if (now > r->next_fetch_ms + FORGET_MS)
        r->step = 0;
    const int *table = failure ? failure_ms : progress_ms;
    unsigned n = failure ? sizeof failure_ms / sizeof *failure_ms
                         : sizeof progress_ms / sizeof *progress_ms;
    long long ms = jittered(c, table[r->step < n ? r->step : n - 1]);
    r->step++;
    if (retry_after_s > 0) {
        long long asked = (retry_after_s < RETRY_AFTER_MAX_S ? retry_after_s : RETRY_AFTER_MAX_S);
        ms = asked * 1000 > ms ? asked * 1000 : ms;
    }
    r->next_fetch_ms = now + ms;
}

/* The API answered for the entry's URL (a 200 with the same URL, or a 304). */
static void renewed(struct hpq_cache *c, struct entry *e)
{
    e->rec.fetched_ms = wall(c);
    if (e->rec.stale) {
        back_off(c, e, false, -1); /* the stale URL again: no progress */
    } else {
        e->rec.step = 0;
        e->rec.next_fetch_ms = 0;
    }
}

static void took_url(struct hpq_cache *c, struct entry *e, struct hpq_answer *ans)
{
    if (same_url(e->rec.url, ans->url)) {
        renewed(c, e);
    } else {
        if (e->rec.url)
            hpq_log(HPQ_DEBUG, "the database URL of the app has changed");
        if (e->rec.url) {
            explicit_bzero(e->rec.url, strlen(e->rec.url)); /* it holds a password */
            free(e->rec.url);
        }
        e->rec.url = ans->url;
        ans->url = NULL;
        e->rec.stale = e->rec.confirmed = false;
        e->rec.step = 0;
        e->rec.next_fetch_ms = 0;
        e->rec.fetched_ms = wall(c);
    }
    snprintf(e->rec.etag, sizeof e->rec.etag, "%s", ans->etag);
}

static void failed(struct hpq_cache *c, struct entry *e, const struct hpq_answer *ans,
                   const char *err)
{
    snprintf(e->error, sizeof e->error, "%s", err);
    back_off(c, e, true, ans->retry_after_s);
    if (ans->status != 429 || !e->rec.url) {
        hpq_log(HPQ_ERROR, "%s", err);
        return;
    }
    long long in_s = (e->rec.next_fetch_ms - wall(c) + 999) / 1000;
    hpq_log(e->limited ? HPQ_DEBUG : HPQ_WARN,
            "the Heroku API's rate limit is used up (429): using the cached database URL; "
            "the next request in %lld s",
            in_s);
    e->limited = true;
}

/* A successful answer that says the account's budget is nearly spent. */
static void watch_budget(struct hpq_cache *c, struct entry *e, long remaining)
{
    if (remaining < 0 || remaining >= LOW_REMAINING) {
        e->limited = false;
        return;
    }
    long long until = wall(c) + jittered(c, LOW_REMAINING_MS);
    if (e->rec.next_fetch_ms < until)
        e->rec.next_fetch_ms = until;
    hpq_log(e->limited ? HPQ_DEBUG : HPQ_WARN,
            "only %ld requests left in the account's Heroku API rate limit: asking at most "
            "every %d s",
            remaining, LOW_REMAINING_MS / 1000);
    e->limited = true;
}

static void store(struct hpq_cache *c, struct entry *e, int rc, struct hpq_answer *ans,
                  const char *sent_etag, const char *err)
{
    e->fetch_failed = rc != 0;
    if (rc != 0) {
        failed(c, e, ans, err);
        return;
    }
    if (ans->url)
        took_url(c, e, ans);
    else if (e->rec.url && strcmp(e->rec.etag, sent_etag) == 0)
        renewed(c, e); /* 304 Not Modified */
    watch_budget(c, e, ans->remaining);
}

/* ---- fetching, once for the host ---------------------------------------------------------- */

/* A request starts: counted, with its bound, for a fork to wait for. */
static bool take_off(struct hpq_cache *c, const struct hpq_config *cfg)
{
    if (c->forked_mid_request)
        return false;
    c->requests++;
    long long bound = mono(c) + cfg->api_timeout_ms + HPQ_FORK_GRACE_MS;
    c->requests_bound = bound > c->requests_bound ? bound : c->requests_bound;
    return true;
}

/* A request has ended and its answer is stored. A fork that waited for it
 * happens first: this thread goes back to the program (libpq's own start-up,
 * which a fork must not cut in half either) only after it. */
static void land(struct hpq_cache *c)
{
    if (--c->requests == 0)
        pthread_cond_broadcast(&c->done);
    for (unsigned long gen = c->forks; c->fork_pending && c->forks == gen;)
        pthread_cond_wait(&c->fork_ended, &c->lock);
}

static int request(struct hpq_cache *c, const struct hpq_config *cfg, struct entry *e,
                   const char *etag, struct hpq_answer *ans, char *err, size_t errlen)
{
    if (!take_off(c, cfg)) {
        snprintf(err, errlen, "this process was forked while another thread's request to the "
                              "API outlived HEROKUPQ_API_TIMEOUT_MS: it makes none");
        return -1;
    }
    pthread_mutex_unlock(&c->lock);
    int rc = c->ops->fetch(c->ops->ctx, cfg, e->var, etag, ans, err, errlen);
    pthread_mutex_lock(&c->lock);
    return rc;
}

/* One request, with the lock released while it runs. */
static void fetch_now(struct hpq_cache *c, const struct hpq_config *cfg, struct entry *e)
{
    char etag[HPQ_ETAG_MAX], err[sizeof e->error];
    snprintf(etag, sizeof etag, "%s", e->rec.url ? e->rec.etag : "");
    struct hpq_answer ans = {0};
    bool flew = !c->forked_mid_request;
    int rc = request(c, cfg, e, etag, &ans, err, sizeof err);
    if (e->lock_fd < 0)
        sync_in(c, e); /* fetched without the host lock: others may have written */
    store(c, e, rc, &ans, etag, err);
    sync_out(c, e);
    hpq_answer_clear(&ans);
    if (flew)
        land(c);
}

/* Take the host lock, unless another process answers first (then true: its
 * answer, now ours, is in e). Bounded by deadline: then fetch without it. */
static bool wait_for_host(struct hpq_cache *c, struct entry *e, long long deadline)
{
    long long fetched0 = e->rec.fetched_ms, next0 = e->rec.next_fetch_ms;
    while (e->file[0]) {
        int fd = hpq_filecache_trylock(c->dirfd, e->file);
        if (fd == -2) {
            e->file[0] = '\0';
            break;
        }
        sync_in(c, e); /* the last holder may have written just before letting go */
        if (e->rec.fetched_ms != fetched0 || e->rec.next_fetch_ms != next0) {
            hpq_filecache_unlock(fd);
            return true;
        }
        if (fd >= 0) {
            e->lock_fd = fd;
            break;
        }
        if (mono(c) >= deadline) {
            hpq_log(HPQ_DEBUG, "another process holds the cache lock: asking the API anyway");
            break;
        }
        nap(c, LOCK_POLL_MS);
    }
    return false;
}

/* Make one fetch for the host, or take the answer of a process that did. */
static void fetch_shared(struct hpq_cache *c, const struct hpq_config *cfg, struct entry *e,
                         long long deadline)
{
    e->fetching = true;
    if (!wait_for_host(c, e, deadline))
        fetch_now(c, cfg, e);
    else
        e->fetch_failed = false;
    if (e->lock_fd >= 0) {
        hpq_filecache_unlock(e->lock_fd);
        e->lock_fd = -1;
    }
    e->fetching = false;
    e->fetches++;
    pthread_cond_broadcast(&c->done);
}

static void wait_for_fetch(struct hpq_cache *c, struct entry *e)
{
    unsigned long seen = e->fetches;
    while (e->fetching && e->fetches == seen)
        pthread_cond_wait(&c->done, &c->lock);
}

static bool in_backoff(struct hpq_cache *c, const struct entry *e)
{
    long long now = wall(c);
    long long left = e->rec.next_fetch_ms - now;
    return left > 0 && left <= (long long)RETRY_AFTER_MAX_S * 1000 + SKEW_MS;
}

static bool fresh(struct hpq_cache *c, const struct hpq_config *cfg, const struct entry *e)
{
    long long age = wall(c) - e->rec.fetched_ms;
    /* A file source is read again as soon as the file changes (one stat). */
    bool file_changed = cfg->source == HPQ_SOURCE_FILE && hpq_source_file_changed(cfg, e->var);
    return e->rec.url && !e->rec.stale && age >= -SKEW_MS && age < cfg->ttl_s * 1000 &&
           !file_changed;
}

static char *copy_or_error(const struct entry *e, char *err, size_t errlen)
{
    char *url = e->rec.url ? strdup(e->rec.url) : NULL;
    if (!url)
        snprintf(err, errlen, "%s",
                 e->rec.url   ? "out of memory"
                 : e->error[0] ? e->error
                               : "no answer from the Heroku API yet (back-off)");
    return url;
}

/* ---- the contract ------------------------------------------------------------------------- */

static void resolve(struct hpq_cache *c, const struct hpq_config *cfg, struct entry *e)
{
    bool fetched_here = false;
    if (e->fetching) {
        wait_for_fetch(c, e);
    } else if (in_backoff(c, e)) {
        hpq_log(HPQ_DEBUG, "not asking the API again for %lld ms (back-off)",
                e->rec.next_fetch_ms - wall(c));
    } else {
        fetch_shared(c, cfg, e, mono(c) + cfg->retry_ms);
        fetched_here = true;
    }
    /* Said once per failed fetch, by the thread that made it. */
    if (fetched_here && e->fetch_failed && e->rec.url && !e->limited)
        hpq_log(HPQ_WARN, "using the last good database URL until the %s answers",
                cfg->source == HPQ_SOURCE_HEROKU ? "API" : "source");
}

/* var's entry, caught up with the file; NULL, the reason in err, if the table is full. */
static struct entry *entry_synced(struct hpq_cache *c, const struct hpq_config *cfg,
                                  const char *var, char *err, size_t errlen)
{
    struct entry *e = entry_for(c, cfg, var);
    if (e)
        sync_in(c, e);
    else
        snprintf(err, errlen, "more than %d config vars in one process", HPQ_CACHE_VARS);
    return e;
}

static char *get_locked(struct hpq_cache *c, const struct hpq_config *cfg, const char *var,
                        char *err, size_t errlen)
{
    struct entry *e = entry_synced(c, cfg, var, err, errlen);
    if (!e)
        return NULL;
    if (!fresh(c, cfg, e))
        resolve(c, cfg, e);
    return copy_or_error(e, err, errlen);
}

char *hpq_cache_get_in(struct hpq_cache *c, const struct hpq_config *cfg, const char *var,
                       char *err, size_t errlen)
{
    int saved = errno;
    pthread_mutex_lock(&c->lock);
    char *url = get_locked(c, cfg, var, err, errlen);
    pthread_mutex_unlock(&c->lock);
    errno = saved;
    return url;
}

/* Until e holds a URL worth trying after failed (see cache.h), or deadline. */
static bool find_other(struct hpq_cache *c, const struct hpq_config *cfg, struct entry *e,
                       const char *failed, long long deadline)
{
    long long fetched0 = e->rec.fetched_ms;
    unsigned long fetches0 = e->fetches;
    for (bool fetched = false;;) {
        sync_in(c, e);
        if (e->rec.url && !same_url(e->rec.url, failed))
            return true;
        bool answered = e->fetches != fetches0 || e->rec.fetched_ms != fetched0;
        if (e->rec.url && answered && !e->fetch_failed && !e->rec.confirmed)
            return true; /* new, never connected: the database may lag the config var */
        if (e->fetching) {
            wait_for_fetch(c, e);
            continue;
        }
        if (in_backoff(c, e)) {
            long long left = e->rec.next_fetch_ms - wall(c);
            if (mono(c) + left > deadline)
                return false;
            nap(c, left < BACKOFF_POLL_MS ? (long)left : BACKOFF_POLL_MS);
            continue;
        }
        if (fetched && mono(c) >= deadline)
            return false;
        fetch_shared(c, cfg, e, deadline);
        fetched = true;
    }
}

static char *refresh_locked(struct hpq_cache *c, const struct hpq_config *cfg, const char *var,
                            const char *failed_url, long long deadline_ms, char *err,
                            size_t errlen)
{
    struct entry *e = entry_synced(c, cfg, var, err, errlen);
    if (!e)
        return NULL;
    if (same_url(e->rec.url, failed_url))
        update_shared(c, e, failed_url, set_stale);
    if (find_other(c, cfg, e, failed_url, deadline_ms))
        return copy_or_error(e, err, errlen);
    snprintf(err, errlen, "no new database URL within HEROKUPQ_RETRY_MS");
    return NULL;
}

char *hpq_cache_refresh_in(struct hpq_cache *c, const struct hpq_config *cfg, const char *var,
                           const char *failed_url, long long deadline_ms, char *err,
                           size_t errlen)
{
    int saved = errno;
    pthread_mutex_lock(&c->lock);
    char *url = refresh_locked(c, cfg, var, failed_url, deadline_ms, err, errlen);
    pthread_mutex_unlock(&c->lock);
    errno = saved;
    return url;
}

/* Apply fn to every entry whose URL is url (two config vars may hold one URL). */
static void mark(struct hpq_cache *c, const char *url, bool stale)
{
    int saved = errno;
    pthread_mutex_lock(&c->lock);
    for (unsigned i = 0; i < c->n; i++) {
        struct entry *e = &c->entries[i];
        if (!same_url(e->rec.url, url))
            continue;
        if (stale && !e->rec.stale)
            update_shared(c, e, url, set_stale);
        else if (!stale && (e->rec.stale || !e->rec.confirmed))
            update_shared(c, e, url, set_confirmed);
    }
    pthread_mutex_unlock(&c->lock);
    errno = saved;
}

void hpq_cache_invalidate_in(struct hpq_cache *c, const char *url) { mark(c, url, true); }
void hpq_cache_confirm_in(struct hpq_cache *c, const char *url) { mark(c, url, false); }

struct hpq_cache *hpq_cache_new(const struct hpq_cache_ops *ops)
{
    struct hpq_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->done, NULL);
    pthread_cond_init(&c->fork_ended, NULL);
    c->ops = ops;
    c->dirfd = -1;
    return c;
}

void hpq_cache_free(struct hpq_cache *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < c->n; i++) {
        hpq_record_clear(&c->entries[i].rec);
        free(c->entries[i].var);
    }
    if (c->dirfd >= 0)
        close(c->dirfd);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->done);
    pthread_cond_destroy(&c->fork_ended);
    free(c);
}

/* ---- the process's cache -------------------------------------------------------------------- */

char *hpq_cache_get(const struct hpq_config *cfg, const char *var, char *err, size_t errlen)
{
    return hpq_cache_get_in(&process_cache, cfg, var, err, errlen);
}

char *hpq_cache_refresh(const struct hpq_config *cfg, const char *var, const char *failed_url,
                        long long deadline_ms, char *err, size_t errlen)
{
    return hpq_cache_refresh_in(&process_cache, cfg, var, failed_url, deadline_ms, err, errlen);
}

void hpq_cache_invalidate(const char *url) { hpq_cache_invalidate_in(&process_cache, url); }
void hpq_cache_confirm(const char *url) { hpq_cache_confirm_in(&process_cache, url); }
/* The prepare handler: no new request starts, and those in flight end (their
 * answers stored) first, unless they outlive their own timeout. */
void hpq_cache_lock(void)
{
    struct hpq_cache *c = &process_cache;
    pthread_mutex_lock(&c->lock);
    c->fork_pending = true;
    struct timespec bound = {.tv_sec = c->requests_bound / 1000,
                             .tv_nsec = (c->requests_bound % 1000) * 1000000L};
    while (c->requests > 0 &&
           pthread_cond_clockwait(&c->done, &c->lock, CLOCK_MONOTONIC, &bound) != ETIMEDOUT)
        ;
}

void hpq_cache_unlock(void)
{
    process_cache.fork_pending = false;
    process_cache.forks++;
    pthread_cond_broadcast(&process_cache.fork_ended);
    pthread_mutex_unlock(&process_cache.lock);
}

/* In a child after fork: the thread that was fetching does not exist here,
 * and the host lock it held is the parent's (the parent releases it). */
void hpq_cache_after_fork_child(void)
{
    struct hpq_cache *c = &process_cache;
    for (unsigned i = 0; i < c->n; i++) {
        struct entry *e = &c->entries[i];
        if (e->lock_fd >= 0)
            close(e->lock_fd); /* not unlocked: that would release the parent's lock */
        e->lock_fd = -1;
        e->fetching = false;
    }
    /* A request still running at the bound: libcurl's and OpenSSL's state,
     * half changed by a thread this process does not have, is never used. */
    c->forked_mid_request |= c->requests > 0;
    c->requests = 0;
    c->fork_pending = false;
    jitter_seed = 0; /* not the parent's jitter */
    pthread_cond_init(&c->done, NULL); /* waiters' state is meaningless here */
    pthread_cond_init(&c->fork_ended, NULL);
    pthread_mutex_unlock(&c->lock);
}
