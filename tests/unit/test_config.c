/* test_config.c — reading the environment (shim/config.c) through a fake
 * getenv over a static table. */
#include "unit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "capture.h"
#include "config.h"

/* The environment the next parse sees: "NAME=value" entries, NULL-ended. */
static const char *const *fake_env;

static const char *fake_getenv(const char *name)
{
    size_t n = strlen(name);
    for (const char *const *e = fake_env; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static struct hpq_config cfg;

static void parse_env(const char *const *env)
{
    fake_env = env;
    hpq_config_parse(&cfg, fake_getenv);
}

static int release(void **state)
{
    (void)state;
    hpq_config_release(&cfg);
    fake_env = NULL;
    return 0;
}

#define ENV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- enabled ----------------------------------------------------------- */

/* Whether the shim is on: HEROKU_APP set and non-empty, HEROKUPQ_DISABLE unset or 0. */
static void enabled_exactly_when_the_app_is_named_and_not_disabled(void **state)
{
    (void)state;
    static const struct {
        const char *app, *disable;
        bool enabled;
    } cases[] = {
        {NULL, NULL, false},     {"HEROKU_APP=", NULL, false},
        {"HEROKU_APP=my-app", NULL, true}, {"HEROKU_APP=my-app", "HEROKUPQ_DISABLE=1", false},
        {"HEROKU_APP=my-app", "HEROKUPQ_DISABLE=0", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const env[] = {"HEROKUPQ_LOG=off", "HEROKU_API_KEY=tok",
                                   cases[i].app ? cases[i].app : "UNRELATED=1",
                                   cases[i].disable ? cases[i].disable : "UNRELATED=2", NULL};
        parse_env(env);
        if (cfg.enabled != cases[i].enabled)
            fail_msg("case %zu (%s, %s): enabled is %d", i, env[2], env[3], cfg.enabled);
        if (cfg.enabled)
            assert_string_equal(cfg.app, "my-app");
        hpq_config_release(&cfg);
    }
}

/* ---- defaults and values ---------------------------------------------- */

static void defaults_when_only_the_app_is_set(void **state)
{
    (void)state;
    parse_env(ENV("HEROKU_APP=my-app"));
    assert_true(cfg.enabled);
    assert_string_equal(cfg.api_url, "https://api.heroku.com");
    assert_string_equal(cfg.config_var, "DATABASE_URL");
    assert_int_equal(cfg.ttl_s, 3600);
    assert_int_equal(cfg.retry_ms, 10000);
    assert_int_equal(cfg.api_timeout_ms, 10000);
    assert_false(cfg.strict);
    assert_true(cfg.target_all);
    assert_int_equal(cfg.n_targets, 0);
    assert_null(cfg.token);
    assert_null(cfg.netrc);
    assert_null(cfg.cafile);
}

static void values_are_read_from_the_environment(void **state)
{
    (void)state;
    parse_env(ENV("HEROKU_APP=my-app", "HEROKU_API_KEY=tok-123", "NETRC=/tmp/netrc",
                  "HEROKUPQ_CONFIG_VAR=HEROKU_POSTGRESQL_RED_URL", "HEROKUPQ_TTL=60",
                  "HEROKUPQ_RETRY_MS=2500", "HEROKUPQ_API_TIMEOUT_MS=3000",
                  "HEROKUPQ_STRICT=1"));
    assert_string_equal(cfg.token, "tok-123");
    assert_string_equal(cfg.netrc, "/tmp/netrc");
    assert_string_equal(cfg.config_var, "HEROKU_POSTGRESQL_RED_URL");
    assert_int_equal(cfg.ttl_s, 60);
    assert_int_equal(cfg.retry_ms, 2500);
    assert_int_equal(cfg.api_timeout_ms, 3000);
    assert_true(cfg.strict);
}

/* HEROKU_HOST: a bare domain means its api. host over HTTPS; a URL is kept,
 * without a trailing slash. */
static void heroku_host_gives_the_api_url(void **state)
{
    (void)state;
    static const struct {
        const char *host, *api;
    } cases[] = {
        {"example-domain.com", "https://api.example-domain.com"},
        {"https://127.0.0.1:5000/", "https://127.0.0.1:5000"},
        {"http://localhost:8080", "http://localhost:8080"},
        {"https://api.heroku.com/x@y", "https://api.heroku.com/x@y"}, /* '@' after the path */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char host[128];
        snprintf(host, sizeof host, "HEROKU_HOST=%s", cases[i].host);
        parse_env(ENV("HEROKU_APP=my-app", host));
        if (!cfg.api_url || strcmp(cfg.api_url, cases[i].api) != 0)
            fail_msg("%s gave %s, want %s", host, cfg.api_url ? cfg.api_url : "(none)", cases[i].api);
        hpq_config_release(&cfg);
    }
}

/* Defect 5: HEROKU_HOST=https://user:pass@host was printed as it is. Refused:
 * no API address, and the warning shows no credentials. */
static void heroku_host_with_userinfo_is_refused_without_showing_it(void **state)
{
    (void)state;
    capture_start();
    parse_env(ENV("HEROKU_APP=my-app", "HEROKU_HOST=https://me:hostpass-123@api.heroku.com"));
    const char *out = capture_end();
    assert_null(cfg.api_url);
    assert_null(strstr(out, "hostpass-123"));
    assert_null(strstr(out, "me:"));
    assert_non_null(strstr(out, "HEROKU_HOST=https://********@api.heroku.com"));
}

/* Found by fuzz_config: a value set to the token by mistake was echoed in its
 * warning before the token was known to the scrubber. */
static void token_is_never_echoed_by_a_config_warning(void **state)
{
    (void)state;
    capture_start();
    parse_env(ENV("HEROKUPQ_LOG=HRKU-echoed-token-1234", "HEROKU_APP=my-app",
                  "HEROKUPQ_TTL=HRKU-echoed-token-1234", "HEROKU_API_KEY=HRKU-echoed-token-1234"));
    const char *out = capture_end();
    assert_null(strstr(out, "echoed-token"));
    assert_non_null(strstr(out, "HEROKUPQ_TTL=********"));
}

/* Defect 7: the number parsing set errno = 0 and left it so. */
static void parsing_leaves_errno_alone(void **state)
{
    (void)state;
    errno = 4242;
    parse_env(ENV("HEROKU_APP=my-app", "HEROKUPQ_TTL=60", "HEROKUPQ_RETRY_MS=99999999999999999999",
                  "HEROKUPQ_API_TIMEOUT_MS=x", "HEROKUPQ_LOG=error"));
    assert_int_equal(errno, 4242);
    assert_int_equal(cfg.ttl_s, 60);
}

/* A number is taken only whole and in range; anything else is the default. */
static void a_number_not_whole_or_out_of_range_is_the_default(void **state)
{
    (void)state;
    static const char *const settings[] = {"HEROKUPQ_TTL= ", "HEROKUPQ_TTL=abc", "HEROKUPQ_TTL=-5",
                                           "HEROKUPQ_TTL=99999999999", "HEROKUPQ_TTL=60s"};
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        parse_env(ENV("HEROKU_APP=my-app", "HEROKUPQ_LOG=off", settings[i]));
        if (cfg.ttl_s != 3600)
            fail_msg("%s gave a TTL of %ld s, not the default 3600", settings[i], (long)cfg.ttl_s);
        hpq_config_release(&cfg);
    }
}

/* ---- targets ----------------------------------------------------------- */

static void target_list_is_trimmed_and_skips_empty_entries(void **state)
{
    (void)state;
    parse_env(ENV("HEROKU_APP=my-app", "HEROKUPQ_TARGET=heroku, other ,,"));
    assert_false(cfg.target_all);
    assert_int_equal(cfg.n_targets, 2);
    assert_string_equal(cfg.targets[0], "heroku");
    assert_string_equal(cfg.targets[1], "other");
}

static void target_all_means_every_host(void **state)
{
    (void)state;
    parse_env(ENV("HEROKU_APP=my-app", "HEROKUPQ_TARGET=all"));
    assert_true(cfg.target_all);
    assert_int_equal(cfg.n_targets, 0);
}

static void targets_host_matches_listed_hosts_only(void **state)
{
    (void)state;
    parse_env(ENV("HEROKU_APP=my-app", "HEROKUPQ_TARGET=heroku, other ,,"));
    assert_true(hpq_config_targets_host(&cfg, "heroku"));
    assert_true(hpq_config_targets_host(&cfg, "other"));
    assert_true(hpq_config_targets_host(&cfg, "HEROKU"));
    assert_false(hpq_config_targets_host(&cfg, "elsewhere"));
    assert_false(hpq_config_targets_host(&cfg, " other "));
    assert_false(hpq_config_targets_host(&cfg, ""));
    assert_false(hpq_config_targets_host(&cfg, NULL));
}

static void target_pairs_name_their_config_vars(void **state)
{
    (void)state;
    parse_env(ENV("HEROKU_APP=my-app", "HEROKUPQ_CONFIG_VAR=HEROKU_POSTGRESQL_RED_URL",
                  "HEROKUPQ_TARGET=heroku=DATABASE_URL, followers=HEROKU_POSTGRESQL_YELLOW_URL,bare"));
    assert_int_equal(cfg.n_targets, 3);
    assert_string_equal(hpq_config_var_for_host(&cfg, "heroku"), "DATABASE_URL");
    assert_string_equal(hpq_config_var_for_host(&cfg, "FOLLOWERS"), "HEROKU_POSTGRESQL_YELLOW_URL");
    assert_string_equal(hpq_config_var_for_host(&cfg, "bare"), "HEROKU_POSTGRESQL_RED_URL");
    assert_null(hpq_config_var_for_host(&cfg, "elsewhere"));
}

/* Found by fuzz_config: "heroku\t=VAR" kept the tab in the host name. */
static void blanks_around_a_target_pairs_equals_sign_are_not_part_of_it(void **state)
{
    (void)state;
    parse_env(ENV("HEROKU_APP=my-app", "HEROKUPQ_TARGET=heroku\t= DATABASE_URL ,  followers =FOLLOWER_URL"));
    assert_int_equal(cfg.n_targets, 2);
    assert_string_equal(cfg.targets[0], "heroku");
    assert_string_equal(hpq_config_var_for_host(&cfg, "heroku"), "DATABASE_URL");
    assert_string_equal(cfg.targets[1], "followers");
    assert_string_equal(hpq_config_var_for_host(&cfg, "followers"), "FOLLOWER_URL");
}

static void a_bad_target_pair_is_ignored_with_a_warning(void **state)
{
    (void)state;
    parse_env(ENV("HEROKU_APP=my-app", "HEROKUPQ_TARGET==DATABASE_URL,a=b c,ok=OK_URL,x="));
    assert_int_equal(cfg.n_targets, 1);
    assert_string_equal(hpq_config_var_for_host(&cfg, "ok"), "OK_URL");
}

static void targets_host_with_target_all_matches_anything(void **state)
{
    (void)state;
    parse_env(ENV("HEROKU_APP=my-app"));
    assert_true(hpq_config_targets_host(&cfg, "anything.example"));
}

/* ---- HEROKUPQ_CACHE_DIR ------------------------------------------------ */

static void cache_dir_defaults_to_the_runtime_dir(void **state)
{
    (void)state;
    parse_env(ENV("HEROKU_APP=my-app", "XDG_RUNTIME_DIR=/run/user/1000"));
    assert_string_equal(cfg.cache_dir, "/run/user/1000/herokupq");
}

static void cache_dir_without_runtime_dir_is_per_uid_under_tmp(void **state)
{
    (void)state;
    char want[64];
    snprintf(want, sizeof want, "/tmp/herokupq-%u", (unsigned)geteuid());
    parse_env(ENV("HEROKU_APP=my-app", "XDG_RUNTIME_DIR=relative/not/used"));
    assert_string_equal(cfg.cache_dir, want);
}

static void cache_dir_is_read_and_off_turns_it_off(void **state)
{
    (void)state;
    parse_env(ENV("HEROKU_APP=my-app", "HEROKUPQ_CACHE_DIR=/var/cache/hpq"));
    assert_string_equal(cfg.cache_dir, "/var/cache/hpq");
    hpq_config_release(&cfg);
    parse_env(ENV("HEROKU_APP=my-app", "HEROKUPQ_CACHE_DIR=off"));
    assert_null(cfg.cache_dir);
}

static void relative_cache_dir_uses_the_default(void **state)
{
    (void)state;
    parse_env(ENV("HEROKU_APP=my-app", "HEROKUPQ_LOG=off", "HEROKUPQ_CACHE_DIR=cache",
                  "XDG_RUNTIME_DIR=/run/user/7"));
    assert_string_equal(cfg.cache_dir, "/run/user/7/herokupq");
}

static void source_other_than_heroku_alone_turns_it_on(void **state)
{
    (void)state;
    parse_env(ENV("HEROKUPQ_SOURCE=file:/run/secrets/url"));
    assert_true(cfg.enabled);
    assert_int_equal(cfg.source, HPQ_SOURCE_FILE);
    assert_string_equal(cfg.source_arg, "/run/secrets/url");
    char origin[64];
    assert_string_equal(hpq_config_origin(&cfg, origin, sizeof origin), "file /run/secrets/url");
}

static void exec_source_origin_names_only_the_program(void **state)
{
    (void)state;
    parse_env(ENV("HEROKUPQ_SOURCE=exec:vault read -field=url -token=s3cr3t db"));
    assert_int_equal(cfg.source, HPQ_SOURCE_EXEC);
    char origin[64];
    assert_string_equal(hpq_config_origin(&cfg, origin, sizeof origin), "command vault");
}

static void source_heroku_still_needs_the_app(void **state)
{
    (void)state;
    parse_env(ENV("HEROKUPQ_SOURCE=heroku"));
    assert_false(cfg.enabled);
}

static void source_not_valid_means_heroku(void **state)
{
    (void)state;
    parse_env(ENV("HEROKU_APP=my-app", "HEROKUPQ_SOURCE=file:", "HEROKUPQ_LOG=off"));
    assert_true(cfg.enabled);
    assert_int_equal(cfg.source, HPQ_SOURCE_HEROKU);
}

static void disable_beats_a_source(void **state)
{
    (void)state;
    parse_env(ENV("HEROKUPQ_SOURCE=exec:cat f", "HEROKUPQ_DISABLE=1"));
    assert_false(cfg.enabled);
}

/* file:PATH holds one URL: a placeholder mapped to another var is refused
 * (one line) and left untargeted; file:DIR/ and exec: can name the var. */
static void a_mapping_plain_file_cannot_serve_is_refused(void **state)
{
    (void)state;
    capture_start();
    parse_env(ENV("HEROKUPQ_SOURCE=file:/run/url",
                  "HEROKUPQ_TARGET=heroku=DATABASE_URL,followers=HEROKU_POSTGRESQL_YELLOW_URL,bare"));
    const char *out = capture_end();
    assert_int_equal(cfg.n_targets, 2);
    assert_string_equal(hpq_config_var_for_host(&cfg, "heroku"), "DATABASE_URL");
    assert_null(hpq_config_var_for_host(&cfg, "followers"));
    assert_string_equal(hpq_config_var_for_host(&cfg, "bare"), "DATABASE_URL");
    assert_non_null(strstr(out, "HEROKUPQ_TARGET maps followers to HEROKU_POSTGRESQL_YELLOW_URL, "
                                "which HEROKUPQ_SOURCE=file:/run/url cannot serve"));
    assert_null(strchr(strchr(out, '\n') + 1, '\n')); /* one line */
    hpq_config_release(&cfg);
    const char *served[] = {"HEROKUPQ_SOURCE=file:/run/secrets/", "HEROKUPQ_SOURCE=exec:cat x"};
    for (unsigned i = 0; i < 2; i++) {
        parse_env(ENV(served[i], "HEROKUPQ_TARGET=heroku=DATABASE_URL,followers=YELLOW_URL"));
        assert_string_equal(hpq_config_var_for_host(&cfg, "followers"), "YELLOW_URL");
        hpq_config_release(&cfg);
    }
    parse_env(ENV("HEROKUPQ_SOURCE=file:/run/url"));
}

#define T(f) cmocka_unit_test_teardown(f, release)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(heroku_host_with_userinfo_is_refused_without_showing_it),
        T(parsing_leaves_errno_alone),
        T(token_is_never_echoed_by_a_config_warning),
        T(enabled_exactly_when_the_app_is_named_and_not_disabled),
        T(defaults_when_only_the_app_is_set),
        T(values_are_read_from_the_environment),
        T(heroku_host_gives_the_api_url),
        T(a_number_not_whole_or_out_of_range_is_the_default),
        T(target_list_is_trimmed_and_skips_empty_entries),
        T(target_all_means_every_host),
        T(targets_host_matches_listed_hosts_only),
        T(target_pairs_name_their_config_vars),
        T(blanks_around_a_target_pairs_equals_sign_are_not_part_of_it),
        T(a_bad_target_pair_is_ignored_with_a_warning),
        T(targets_host_with_target_all_matches_anything),
        T(cache_dir_defaults_to_the_runtime_dir),
        T(cache_dir_without_runtime_dir_is_per_uid_under_tmp),
        T(cache_dir_is_read_and_off_turns_it_off),
        T(relative_cache_dir_uses_the_default),
        T(source_other_than_heroku_alone_turns_it_on),
        T(exec_source_origin_names_only_the_program),
        T(source_heroku_still_needs_the_app),
        T(source_not_valid_means_heroku),
        T(disable_beats_a_source),
        T(a_mapping_plain_file_cannot_serve_is_refused),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
