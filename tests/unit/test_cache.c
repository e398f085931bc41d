/* test_cache.c — the URL cache (shim/cache.c) with its clock and its fetch
 * injected: single flight, TTL, back-off, staleness, 304, 429/Retry-After,
 * several config vars, and the protocol between processes (two caches over
 * one temporary directory, and a real forked process holding the lock). The
 * fake clock moves only when the cache sleeps, so the tests take milliseconds. */
#include "unit.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache.h"
#include "capture.h"
#include "filecache.h"
#include "log.h"
#include "sha256.h"

#define U1 "postgres://u:one@db.example:5432/d"
#define U2 "postgres://u:two@db.example:5432/d"
#define T0 1700000000000LL /* the fake wall clock's start */

/* The fake API and clock one or more caches share. */
struct fake {
    long long mono, wall;
    int calls;
    long status;      /* what the API answers: 200, or an error status */
    const char *url;  /* the config var's value */
    long remaining;   /* RateLimit-Remaining */
    long retry_after; /* on errors */
    int change_at;    /* at this call (1-based) url becomes url_later; 0: never */
    const char *url_later;
    char sent_etag[HPQ_ETAG_MAX];
    int not_modified; /* 304s answered */
    bool hold;        /* a fetch blocks until released (threads) */
    int real_us_per_ms; /* sleeps also take this much real time (another thread must run) */
    pthread_mutex_t m;
    pthread_cond_t cv;
};

static struct fake F;

static long long f_mono(void *ctx) { return ((struct fake *)ctx)->mono; }
static long long f_wall(void *ctx) { return ((struct fake *)ctx)->wall; }
static unsigned f_random(void *ctx)
{
    (void)ctx;
    return 0; /* no jitter: the schedule exactly */
}

static void f_sleep(void *ctx, long ms)
{
    struct fake *f = ctx;
    pthread_mutex_lock(&f->m);
    f->mono += ms;
    f->wall += ms;
    int real_us = f->real_us_per_ms * (int)ms;
    pthread_mutex_unlock(&f->m);
    if (real_us)
        usleep((useconds_t)real_us);
}

static void etag_of(const char *url, char *out, size_t n)
{
    char hex[HPQ_SHA256_HEX];
    hpq_sha256_hex(url, strlen(url), hex);
    snprintf(out, n, "\"%.16s\"", hex);
}

static int f_fetch(void *ctx, const struct hpq_config *cfg, const char *var, const char *etag,
                   struct hpq_answer *out, char *err, size_t errlen)
{
    (void)cfg;
    (void)var;
    struct fake *f = ctx;
    *out = (struct hpq_answer){.remaining = -1, .retry_after_s = -1};
    pthread_mutex_lock(&f->m);
    while (f->hold)
        pthread_cond_wait(&f->cv, &f->m);
    f->calls++;
    if (f->change_at && f->calls >= f->change_at)
        f->url = f->url_later;
    snprintf(f->sent_etag, sizeof f->sent_etag, "%s", etag);
    out->status = f->status;
    out->remaining = f->remaining;
    out->retry_after_s = f->status == 200 ? -1 : f->retry_after;
    int rc = 0;
    if (f->status == 200) {
        etag_of(f->url, out->etag, sizeof out->etag);
        if (etag[0] && strcmp(etag, out->etag) == 0) {
            out->status = 304;
            f->not_modified++;
        } else {
            out->url = strdup(f->url);
        }
    } else {
        snprintf(err, errlen, "Heroku API answered %ld", f->status);
        rc = -1;
    }
    pthread_mutex_unlock(&f->m);
    return rc;
}

static const struct hpq_cache_ops OPS = {f_mono, f_wall, f_sleep, f_random, f_fetch, &F};

static char dir_root[64];
static char cache_dir[96];
static char app[] = "app", var[] = "DATABASE_URL", var2[] = "FOLLOWER_URL", api[] = "https://api.heroku.com",
            token[] = "tok";
static struct hpq_config cfg;
static struct hpq_cache *A, *B;
static char err[256];

static int setup(void **state)
{
    (void)state;
    hpq_log_set_level(getenv("HPQ_UNIT_LOG") ? HPQ_DEBUG : HPQ_OFF);
    pthread_mutex_destroy(&F.m);
    memset(&F, 0, sizeof F);
    pthread_mutex_init(&F.m, NULL);
    pthread_cond_init(&F.cv, NULL);
    F.mono = 1000;
    F.wall = T0;
    F.status = 200;
    F.url = U1;
    F.remaining = 4000;
    F.retry_after = -1;
    snprintf(dir_root, sizeof dir_root, "/tmp/hpq-unit-cache.XXXXXX");
    assert_non_null(mkdtemp(dir_root));
    snprintf(cache_dir, sizeof cache_dir, "%s/c", dir_root);
    cfg = (struct hpq_config){.enabled = true, .app = app, .api_url = api, .token = token,
                              .config_var = var, .cache_dir = cache_dir, .ttl_s = 60,
                              .retry_ms = 10000, .api_timeout_ms = 1000};
    A = hpq_cache_new(&OPS);
    B = hpq_cache_new(&OPS); /* another process on the same host */
    return A && B ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    hpq_cache_free(A);
    hpq_cache_free(B);
    return remove_tree(dir_root) == 0 ? 0 : -1;
}

static void assert_get(struct hpq_cache *c, const char *v, const char *want)
{
    char *url = hpq_cache_get_in(c, &cfg, v, err, sizeof err);
    if (!url)
        fail_msg("no URL: %s", err);
    assert_string_equal(url, want);
    free(url);
}

static void advance(long long ms) { f_sleep(&F, (long)ms); }

/* ---- one process ------------------------------------------------------------------------ */

static void fresh_entry_is_served_without_a_request(void **state)
{
    (void)state;
    assert_get(A, var, U1);
    advance(59000);
    assert_get(A, var, U1);
    assert_int_equal(F.calls, 1);
}

static void expired_entry_asks_with_its_etag_and_a_304_renews_it(void **state)
{
    (void)state;
    assert_get(A, var, U1);
    advance(60000);
    assert_get(A, var, U1);
    assert_int_equal(F.calls, 2);
    assert_int_equal(F.not_modified, 1);
    assert_true(F.sent_etag[0]);
    advance(59000); /* the 304 renewed the age */
    assert_get(A, var, U1);
    assert_int_equal(F.calls, 2);
}

static void api_failure_serves_the_last_url_and_backs_off(void **state)
{
    (void)state;
    assert_get(A, var, U1);
    advance(60000);
    F.status = 503;
    assert_get(A, var, U1); /* stale-if-error */
    assert_int_equal(F.calls, 2);
    advance(900);
    assert_get(A, var, U1); /* within the first 1 s back-off: no request */
    assert_int_equal(F.calls, 2);
    advance(200);
    assert_get(A, var, U1);
    assert_int_equal(F.calls, 3);
    advance(1900); /* the second wait is 2 s */
    assert_get(A, var, U1);
    assert_int_equal(F.calls, 3);
}

static void no_url_at_all_is_an_error_with_the_reason(void **state)
{
    (void)state;
    F.status = 401;
    char *url = hpq_cache_get_in(A, &cfg, var, err, sizeof err);
    assert_null(url);
    assert_string_equal(err, "Heroku API answered 401");
}

static void rate_limit_429_honours_retry_after_and_says_so_once(void **state)
{
    (void)state;
    hpq_log_set_level(HPQ_WARN);
    assert_get(A, var, U1);
    advance(60000);
    F.status = 429;
    F.retry_after = 20;
    capture_start();
    for (int i = 0; i < 5; i++) {
        char *url = hpq_cache_get_in(A, &cfg, var, err, sizeof err);
        free(url);
        advance(3000);
    }
    const char *out = capture_end();
    assert_int_equal(F.calls, 2); /* one 429, then nothing for Retry-After's 20 s */
    assert_int_equal(lines_with(out, "herokupq:"), 1);
    assert_int_equal(lines_with(out, "rate limit is used up (429): using the cached"), 1);
    advance(6000);
    assert_get(A, var, U1);
    assert_int_equal(F.calls, 3);
}

static void retry_after_is_bounded(void **state)
{
    (void)state;
    assert_get(A, var, U1);
    advance(60000);
    F.status = 429;
    F.retry_after = 86400;
    assert_get(A, var, U1);
    advance(600 * 1000 + 1);
    assert_get(A, var, U1);
    assert_int_equal(F.calls, 3);
}

static void low_remaining_budget_slows_requests(void **state)
{
    (void)state;
    cfg.ttl_s = 0; /* every connection would ask */
    F.remaining = 50;
    assert_get(A, var, U1);
    advance(10000);
    assert_get(A, var, U1);
    assert_int_equal(F.calls, 1);
    advance(20001);
    assert_get(A, var, U1);
    assert_int_equal(F.calls, 2);
}

/* ---- staleness and rotation --------------------------------------------------------------- */

static void stale_confirmed_url_waits_for_the_change(void **state)
{
    (void)state;
    assert_get(A, var, U1);
    hpq_cache_confirm_in(A, U1);
    F.change_at = 6; /* the config var changes 5 requests later */
    F.url_later = U2;
    long long t0 = F.mono;
    char *url = hpq_cache_refresh_in(A, &cfg, var, U1, F.mono + 10000, err, sizeof err);
    assert_non_null(url);
    assert_string_equal(url, U2); /* U1 was never handed back */
    free(url);
    assert_int_equal(F.calls, 6); /* the first at once, then every 250 ms */
    assert_int_equal(F.mono - t0, 4 * 250);
}

static void stale_unconfirmed_url_is_tried_again_after_a_fetch(void **state)
{
    (void)state;
    assert_get(A, var, U1); /* never connected: the database may lag the var */
    char *url = hpq_cache_refresh_in(A, &cfg, var, U1, F.mono + 10000, err, sizeof err);
    assert_non_null(url);
    assert_string_equal(url, U1);
    free(url);
    assert_int_equal(F.calls, 2);
}

static void refresh_gives_up_at_the_deadline(void **state)
{
    (void)state;
    assert_get(A, var, U1);
    hpq_cache_confirm_in(A, U1);
    long long deadline = F.mono + 1000;
    char *url = hpq_cache_refresh_in(A, &cfg, var, U1, deadline, err, sizeof err);
    assert_null(url);
    assert_string_equal(err, "no new database URL within HEROKUPQ_RETRY_MS");
    assert_true(F.mono <= deadline);
    assert_int_equal(F.calls, 1 + 4); /* the get's, then at 0, 250, 500 and 750 ms */
}

static void invalidate_makes_the_next_get_ask_regardless_of_ttl(void **state)
{
    (void)state;
    assert_get(A, var, U1);
    F.url = U2;
    hpq_cache_invalidate_in(A, U1);
    assert_get(A, var, U2);
    assert_int_equal(F.calls, 2);
}

static void confirm_ends_staleness(void **state)
{
    (void)state;
    assert_get(A, var, U1);
    hpq_cache_invalidate_in(A, U1);
    hpq_cache_confirm_in(A, U1);
    assert_get(A, var, U1);
    assert_int_equal(F.calls, 1);
}

static void config_vars_have_entries_of_their_own(void **state)
{
    (void)state;
    assert_get(A, var, U1);
    assert_get(A, var2, U1);
    assert_int_equal(F.calls, 2);
    F.url = U2;
    hpq_cache_confirm_in(A, U1);
    char *url = hpq_cache_refresh_in(A, &cfg, var, U1, F.mono + 10000, err, sizeof err);
    assert_string_equal(url, U2);
    free(url);
    assert_get(A, var, U2);
    assert_get(A, var2, U1); /* var2's entry is its own: untouched, no request */
    assert_int_equal(F.calls, 3);
}

/* ---- threads: single flight --------------------------------------------------------------- */

static void *getter(void *arg)
{
    char e[256];
    return hpq_cache_get_in(arg, &cfg, var, e, sizeof e);
}

static void threads_on_a_cold_cache_make_one_request(void **state)
{
    (void)state;
    cfg.cache_dir = NULL; /* in-process only */
    pthread_t t[16];
    F.hold = true;
    for (int i = 0; i < 16; i++)
        assert_int_equal(pthread_create(&t[i], NULL, getter, A), 0);
    usleep(20000);
    pthread_mutex_lock(&F.m);
    F.hold = false;
    pthread_cond_broadcast(&F.cv);
    pthread_mutex_unlock(&F.m);
    for (int i = 0; i < 16; i++) {
        void *url;
        pthread_join(t[i], &url);
        assert_string_equal(url, U1);
        free(url);
    }
    assert_int_equal(F.calls, 1);
}

/* ---- processes: two caches over one directory ----------------------------------------------- */

static void second_process_reads_the_first_ones_answer(void **state)
{
    (void)state;
    assert_get(A, var, U1);
    assert_get(B, var, U1);
    assert_int_equal(F.calls, 1);
}

static void stale_mark_is_shared_and_one_refresh_serves_all(void **state)
{
    (void)state;
    assert_get(A, var, U1);
    assert_get(B, var, U1);
    hpq_cache_confirm_in(A, U1);
    F.url = U2;
    hpq_cache_invalidate_in(A, U1); /* a connection of process A failed */
    assert_get(B, var, U2);         /* B's next connection refreshes, within the TTL */
    assert_get(A, var, U2);         /* and A takes B's answer */
    assert_int_equal(F.calls, 2);
}

static void ttl_is_shared_and_304_renews_for_everyone(void **state)
{
    (void)state;
    assert_get(A, var, U1);
    advance(60000);
    assert_get(B, var, U1); /* B renews with a 304 */
    assert_int_equal(F.not_modified, 1);
    assert_get(A, var, U1);
    assert_int_equal(F.calls, 2);
}

static void backoff_is_shared(void **state)
{
    (void)state;
    assert_get(A, var, U1);
    advance(60000);
    F.status = 500;
    assert_get(A, var, U1);
    assert_get(B, var, U1); /* in A's back-off: served from the file, no request */
    assert_int_equal(F.calls, 2);
}

static void rotation_costs_one_schedule_per_host(void **state)
{
    (void)state;
    assert_get(A, var, U1);
    assert_get(B, var, U1);
    hpq_cache_confirm_in(A, U1);
    hpq_cache_confirm_in(B, U1);
    F.change_at = 5;
    F.url_later = U2;
    /* A waits for the change; B fails too a little later, and waits with it. */
    char *a = hpq_cache_refresh_in(A, &cfg, var, U1, F.mono + 500, err, sizeof err);
    assert_null(a); /* A's budget ends first */
    char *b = hpq_cache_refresh_in(B, &cfg, var, U1, F.mono + 10000, err, sizeof err);
    assert_string_equal(b, U2);
    free(b);
    assert_int_equal(F.calls, 5); /* not 5 each: the back-off is in the file */
    assert_get(A, var, U2);
    assert_int_equal(F.calls, 5);
}

/* Another process holds the lock and answers: we wait for it and take its
 * answer, with no request of our own. */
struct holder {
    int fd;
    const char *name;
};

static void *answer_later(void *arg)
{
    struct holder *h = arg;
    usleep(30000);
    struct hpq_record rec = {.url = (char *)U2, .fetched_ms = F.wall};
    struct hpq_file_id id;
    int dirfd = hpq_filecache_open_dir(cache_dir);
    hpq_filecache_write(dirfd, h->name, &rec, &id);
    hpq_filecache_unlock(h->fd);
    close(dirfd);
    return NULL;
}

static void entry_name(const char *v, char name[HPQ_SHA256_HEX])
{
    hpq_filecache_name(api, app, v, token, NULL, name);
}

static void waiter_takes_the_lock_holders_answer(void **state)
{
    (void)state;
    char name[HPQ_SHA256_HEX];
    entry_name(var, name);
    int dirfd = hpq_filecache_open_dir(cache_dir);
    struct holder h = {hpq_filecache_trylock(dirfd, name), name};
    assert_true(h.fd >= 0);
    F.real_us_per_ms = 100;
    pthread_t t;
    pthread_create(&t, NULL, answer_later, &h);
    assert_get(A, var, U2);
    pthread_join(t, NULL);
    close(dirfd);
    assert_int_equal(F.calls, 0);
}

static void lock_wait_is_bounded_by_the_retry_budget(void **state)
{
    (void)state;
    cfg.retry_ms = 100;
    char name[HPQ_SHA256_HEX];
    entry_name(var, name);
    int dirfd = hpq_filecache_open_dir(cache_dir);
    int fd = hpq_filecache_trylock(dirfd, name); /* held, and never answered */
    assert_true(fd >= 0);
    assert_get(A, var, U1);
    assert_int_equal(F.calls, 1);
    assert_true(F.mono >= 1000 + 100);
    hpq_filecache_unlock(fd);
    close(dirfd);
}

static void a_killed_lock_holder_does_not_block(void **state)
{
    (void)state;
    char name[HPQ_SHA256_HEX];
    entry_name(var, name);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    if (pid == 0) {
        int dirfd = hpq_filecache_open_dir(cache_dir);
        int fd = hpq_filecache_trylock(dirfd, name);
        char c = fd >= 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(ready[0]);
    close(ready[1]);
    long long before = F.mono;
    assert_get(A, var, U1);
    assert_int_equal(F.calls, 1);
    assert_true(F.mono - before < 100); /* no wait for the dead holder */
}

static void refused_directory_leaves_the_in_process_cache(void **state)
{
    (void)state;
    assert_int_equal(mkdir(cache_dir, 0755), 0);
    hpq_log_set_level(HPQ_WARN);
    capture_start();
    char *u1 = hpq_cache_get_in(A, &cfg, var, err, sizeof err);
    char *u2 = hpq_cache_get_in(A, &cfg, var, err, sizeof err);
    const char *out = capture_end();
    assert_string_equal(u1, U1);
    assert_string_equal(u2, U1);
    free(u1);
    free(u2);
    assert_int_equal(lines_with(out, "herokupq: warn: cache directory"), 1);
    assert_int_equal(F.calls, 1);
}

static void errno_is_kept(void **state)
{
    (void)state;
    errno = EINTR;
    assert_get(A, var, U1); /* mkdir, open, flock, rename... underneath */
    hpq_cache_confirm_in(A, U1);
    hpq_cache_invalidate_in(A, U1);
    char *url = hpq_cache_refresh_in(A, &cfg, var, U1, F.mono, err, sizeof err);
    free(url);
    assert_int_equal(errno, EINTR);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(fresh_entry_is_served_without_a_request),
        T(expired_entry_asks_with_its_etag_and_a_304_renews_it),
        T(api_failure_serves_the_last_url_and_backs_off),
        T(no_url_at_all_is_an_error_with_the_reason),
        T(rate_limit_429_honours_retry_after_and_says_so_once),
        T(retry_after_is_bounded),
        T(low_remaining_budget_slows_requests),
        T(stale_confirmed_url_waits_for_the_change),
        T(stale_unconfirmed_url_is_tried_again_after_a_fetch),
        T(refresh_gives_up_at_the_deadline),
        T(invalidate_makes_the_next_get_ask_regardless_of_ttl),
        T(confirm_ends_staleness),
        T(config_vars_have_entries_of_their_own),
        T(threads_on_a_cold_cache_make_one_request),
        T(second_process_reads_the_first_ones_answer),
        T(stale_mark_is_shared_and_one_refresh_serves_all),
        T(ttl_is_shared_and_304_renews_for_everyone),
        T(backoff_is_shared),
        T(rotation_costs_one_schedule_per_host),
        T(waiter_takes_the_lock_holders_answer),
        T(lock_wait_is_bounded_by_the_retry_budget),
        T(a_killed_lock_holder_does_not_block),
        T(refused_directory_leaves_the_in_process_cache),
        T(errno_is_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
