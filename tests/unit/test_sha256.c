/* test_sha256.c — when libcrypto fails (shim/sha256.c), for real: this
 * process's OpenSSL configuration (OPENSSL_CONF, set in main before libcrypto
 * reads one) activates only OpenSSL's null provider, which has no algorithm,
 * so fetching SHA-256 fails as it would with a broken or too narrow system
 * configuration. The shim must then name no file (the cache shared between
 * processes is off for this process, the in-process cache works), say so in
 * one log line, and leave the program's OpenSSL error queue as it was. The
 * digest's known answers: test_filecache.c. */
#include "unit.h"

#include <dirent.h>
#include <openssl/err.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cache.h"
#include "capture.h"
#include "filecache.h"
#include "log.h"
#include "sha256.h"

#define U1 "postgres://u:one@db.example:5432/d"
#define LINE "no SHA-256 from libcrypto.so.3 (unsupported): the cache shared between processes is off"

static char root[64];
static char conf[96];

static void digest_fails_with_one_line_and_the_queue_left_alone(void **state)
{
    (void)state;
    ERR_raise(ERR_LIB_USER, 42); /* the program's own error, waiting on its queue */
    char hex[HPQ_SHA256_HEX] = "x", name[HPQ_SHA256_HEX] = "x";
    capture_start();
    bool first = hpq_sha256_hex("abc", 3, hex);
    bool second = hpq_sha256_hex("", 0, hex);
    hpq_filecache_name("https://api.heroku.com", "app", "DATABASE_URL", "tok", NULL, name);
    const char *log = capture_end();
    assert_false(first);
    assert_false(second);
    assert_string_equal(hex, "");
    assert_string_equal(name, "");
    assert_int_equal(lines_with(log, "herokupq: warn: "), 1);
    assert_int_equal(lines_with(log, LINE), 1);
    unsigned long e = ERR_get_error();
    assert_int_equal(ERR_GET_LIB(e), ERR_LIB_USER);
    assert_int_equal(ERR_GET_REASON(e), 42);
    assert_int_equal(ERR_peek_error(), 0); /* nothing of the shim's is left behind */
}

/* ---- the cache over a directory, with no name for its entries --------------------------- */

static long long clock_ms = 1000;
static int fetches;

static long long f_clock(void *ctx) { return (void)ctx, clock_ms; }
static void f_sleep(void *ctx, long ms) { (void)ctx, clock_ms += ms; }
static unsigned f_random(void *ctx) { return (void)ctx, 0; }

static int f_fetch(void *ctx, const struct hpq_config *cfg, const char *var, const char *etag,
                   struct hpq_answer *out, char *err, size_t errlen)
{
    (void)ctx, (void)cfg, (void)var, (void)etag, (void)err, (void)errlen;
    fetches++;
    *out = (struct hpq_answer){.status = 200, .url = strdup(U1), .remaining = -1,
                               .retry_after_s = -1};
    return 0;
}

static const struct hpq_cache_ops OPS = {f_clock, f_clock, f_sleep, f_random, f_fetch, NULL};

static int files_in(const char *path)
{
    int n = 0;
    DIR *d = opendir(path);
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d));)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static void get(struct hpq_cache *c, const struct hpq_config *cfg)
{
    char err[256];
    char *url = hpq_cache_get_in(c, cfg, "DATABASE_URL", err, sizeof err);
    if (!url)
        fail_msg("no URL: %s", err);
    assert_string_equal(url, U1);
    free(url);
}

static void cache_keeps_its_entries_in_the_process(void **state)
{
    (void)state;
    char dir[96], app[] = "app", var[] = "DATABASE_URL", api[] = "https://api.heroku.com",
                  token[] = "tok";
    snprintf(dir, sizeof dir, "%s/cache", root);
    struct hpq_config cfg = {.enabled = true, .app = app, .api_url = api, .token = token,
                             .config_var = var, .cache_dir = dir, .ttl_s = 60,
                             .retry_ms = 10000, .api_timeout_ms = 1000};
    struct hpq_cache *a = hpq_cache_new(&OPS), *b = hpq_cache_new(&OPS);
    assert_true(a && b);
    get(a, &cfg);
    get(a, &cfg); /* within the TTL: from the process's own cache */
    assert_int_equal(fetches, 1);
    get(b, &cfg); /* another process of the host: nothing shared, its own request */
    assert_int_equal(fetches, 2);
    assert_int_equal(files_in(dir), 0);
    hpq_cache_free(a);
    hpq_cache_free(b);
}

/* An OpenSSL configuration whose only provider is the null one. */
static void write_conf(void)
{
    snprintf(root, sizeof root, "/tmp/hpq-unit-sha.XXXXXX");
    assert_non_null(mkdtemp(root));
    snprintf(conf, sizeof conf, "%s/openssl.cnf", root);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fputs("openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n"
          "[provider_sect]\nnull = null_sect\n[null_sect]\nactivate = 1\n", f);
    assert_int_equal(fclose(f), 0);
}

int main(void)
{
    hpq_log_set_level(HPQ_WARN);
    write_conf();
    setenv("OPENSSL_CONF", conf, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(digest_fails_with_one_line_and_the_queue_left_alone),
        cmocka_unit_test(cache_keeps_its_entries_in_the_process),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    return remove_tree(root) == 0 ? failed : 1;
}
