/* test_source.c — turning Heroku Platform API answers into a URL, and where
 * the token may be sent (shim/source.c). */
#include "unit.h"

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "source.h"

static char app_name[] = "my-app";
static char var_name[] = "DATABASE_URL";
static char err[512];

static char *parse(long status, const char *body)
{
    struct hpq_config cfg = {.app = app_name, .config_var = var_name};
    err[0] = '\0';
    return hpq_source_parse(&cfg, cfg.config_var, status, body, body ? strlen(body) : 0, err, sizeof err);
}

static void assert_err_has(const char *part)
{
    if (!strstr(err, part))
        fail_msg("message '%s' should contain '%s'", err, part);
}

static void assert_rejected(long status, const char *body)
{
    char *url = parse(status, body);
    if (url) {
        free(url);
        fail_msg("answer %ld %s should give no URL", status, body);
    }
    assert_true(strlen(err) > 0);
}

/* ---- 200 answers ------------------------------------------------------- */

static void ok_answer_gives_the_config_var(void **state)
{
    (void)state;
    char *url = parse(200, "{\"LANG\":\"en_US.UTF-8\","
                           "\"DATABASE_URL\":\"postgres://u:pw@ec2-1-2-3-4.compute-1."
                           "amazonaws.com:5432/d8abc\",\"REDIS_URL\":\"redis://x\"}");
    assert_non_null(url);
    assert_string_equal(url, "postgres://u:pw@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d8abc");
    free(url);
}

static void ok_answer_accepts_postgresql_scheme(void **state)
{
    (void)state;
    char *url = parse(200, "{\"DATABASE_URL\":\"postgresql://u:pw@h.example:5432/d\"}");
    assert_non_null(url);
    assert_string_equal(url, "postgresql://u:pw@h.example:5432/d");
    free(url);
}

static void ok_answer_reads_the_configured_var(void **state)
{
    (void)state;
    static char other_var[] = "HEROKU_POSTGRESQL_RED_URL";
    struct hpq_config cfg = {.app = app_name, .config_var = other_var};
    const char *body = "{\"DATABASE_URL\":\"postgres://a@primary/d\","
                       "\"HEROKU_POSTGRESQL_RED_URL\":\"postgres://b@follower/d\"}";
    char *url = hpq_source_parse(&cfg, cfg.config_var, 200, body, strlen(body), err, sizeof err);
    assert_non_null(url);
    assert_string_equal(url, "postgres://b@follower/d");
    free(url);
}

static void missing_var_names_the_var_and_the_app(void **state)
{
    (void)state;
    assert_rejected(200, "{\"LANG\":\"en_US.UTF-8\"}");
    assert_err_has("DATABASE_URL");
    assert_err_has("my-app");
}

static void var_that_is_not_a_string_is_rejected(void **state)
{
    (void)state;
    assert_rejected(200, "{\"DATABASE_URL\":5432}");
    assert_err_has("DATABASE_URL");
}

static void var_that_is_null_is_rejected(void **state)
{
    (void)state;
    assert_rejected(200, "{\"DATABASE_URL\":null}");
    assert_err_has("DATABASE_URL");
}

static void var_that_is_empty_is_rejected(void **state)
{
    (void)state;
    assert_rejected(200, "{\"DATABASE_URL\":\"\"}");
    assert_err_has("DATABASE_URL");
}

static void ok_answer_with_json_array_is_rejected(void **state)
{
    (void)state;
    assert_rejected(200, "[\"postgres://u:pw@h/d\"]");
}

static void ok_answer_with_json_string_is_rejected(void **state)
{
    (void)state;
    assert_rejected(200, "\"postgres://u:pw@h/d\"");
}

static void ok_answer_that_is_not_json_is_rejected(void **state)
{
    (void)state;
    assert_rejected(200, "<html><body>Hello</body></html>");
}

static void ok_answer_with_truncated_json_is_rejected(void **state)
{
    (void)state;
    assert_rejected(200, "{\"DATABASE_URL\":\"postgres://u:pw@h/d\"");
    assert_rejected(200, "{\"DATABASE_URL\":\"postgres://u:pw@h/");
}

static void ok_answer_with_empty_body_is_rejected(void **state)
{
    (void)state;
    assert_rejected(200, "");
    assert_rejected(200, NULL);
}

static void non_postgres_url_is_rejected_without_echoing_it(void **state)
{
    (void)state;
    assert_rejected(200, "{\"DATABASE_URL\":\"mysql://u:topsecret@h.example/d\"}");
    assert_err_has("DATABASE_URL");
    assert_null(strstr(err, "topsecret"));
}

/* ---- error answers ----------------------------------------------------- */

struct error_case {
    long status;
    const char *id;
    const char *message;
};

static const struct error_case e401 = {401, "unauthorized", "Invalid credentials provided."};
static const struct error_case e403 = {403, "forbidden",
                                       "You do not have access to the app my-app."};
static const struct error_case e404 = {404, "not_found", "Couldn't find that app."};
static const struct error_case e429 = {429, "rate_limit",
                                       "Your account reached the API rate limit"};
static const struct error_case e500 = {500, "internal_server_error",
                                       "Internal server error."};

static void check_error_answer(const struct error_case *c)
{
    char body[256], status[16];
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"message\":\"%s\"}", c->id, c->message);
    snprintf(status, sizeof status, "%ld", c->status);
    assert_rejected(c->status, body);
    assert_err_has(status);
    assert_err_has(c->id);
    assert_err_has(c->message);
}

#define ERROR_TEST(name, c)                                                                  \
    static void name(void **state)                                                           \
    {                                                                                        \
        (void)state;                                                                         \
        check_error_answer(&(c));                                                            \
    }
ERROR_TEST(error_401_gives_status_id_and_message, e401)
ERROR_TEST(error_403_gives_status_id_and_message, e403)
ERROR_TEST(error_404_gives_status_id_and_message, e404)
ERROR_TEST(error_429_gives_status_id_and_message, e429)
ERROR_TEST(error_500_gives_status_id_and_message, e500)

static void old_style_error_body_gives_its_message(void **state)
{
    (void)state;
    assert_rejected(404, "{\"error\":\"App not found\"}");
    assert_err_has("404");
    assert_err_has("App not found");
}

static void error_status_with_html_body_gives_the_status(void **state)
{
    (void)state;
    assert_rejected(502, "<html><head><title>502 Bad Gateway</title></head></html>");
    assert_err_has("502");
}

static void error_status_with_empty_body_gives_the_status(void **state)
{
    (void)state;
    assert_rejected(503, "");
    assert_err_has("503");
}

/* ---- hpq_source_host_allowed ------------------------------------------ */

static void host_allowed_heroku_api_over_https(void **state)
{
    (void)state;
    assert_true(hpq_source_host_allowed("https", "api.heroku.com"));
    assert_true(hpq_source_host_allowed("https", "heroku.com"));
    assert_true(hpq_source_host_allowed("https", "API.Heroku.COM"));
}

static void host_refused_heroku_api_over_http(void **state)
{
    (void)state;
    assert_false(hpq_source_host_allowed("http", "api.heroku.com"));
}

static void host_refused_lookalike_domains(void **state)
{
    (void)state;
    assert_false(hpq_source_host_allowed("https", "evil-heroku.com"));
    assert_false(hpq_source_host_allowed("https", "heroku.com.evil.org"));
    assert_false(hpq_source_host_allowed("https", "api.heroku.com.evil.org"));
}

static void host_allowed_loopback_over_http_and_https(void **state)
{
    (void)state;
    assert_true(hpq_source_host_allowed("http", "127.0.0.1"));
    assert_true(hpq_source_host_allowed("https", "127.0.0.1"));
    assert_true(hpq_source_host_allowed("http", "localhost"));
    assert_true(hpq_source_host_allowed("http", "[::1]"));
}

static void host_refused_other_domain(void **state)
{
    (void)state;
    assert_false(hpq_source_host_allowed("https", "example.com"));
    assert_false(hpq_source_host_allowed("http", "example.com"));
}

static void host_refused_when_scheme_or_host_missing(void **state)
{
    (void)state;
    assert_false(hpq_source_host_allowed(NULL, "api.heroku.com"));
    assert_false(hpq_source_host_allowed("https", NULL));
}

/* A DNS name whose first label is "127" is anyone's host, not loopback:
 * "127.0.0.1.evil.example" passes the "127." prefix test, so the token
 * would be sent there, even over plain http. */
static void host_refused_dns_name_that_starts_with_127(void **state)
{
    (void)state;
    assert_false(hpq_source_host_allowed("http", "127.0.0.1.evil.example"));
    assert_false(hpq_source_host_allowed("https", "127.evil.example"));
}

/* Defect 9: cJSON strings end at a NUL, so "\u0000" cut the URL short and
 * the rest was used without a word. */
static void var_with_escaped_nul_is_rejected(void **state)
{
    (void)state;
    assert_rejected(200, "{\"DATABASE_URL\": \"postgres://u:p@h/db\\u0000?host=/tmp\"}");
    assert_err_has("NUL");
}

static void escaped_backslash_before_u0000_is_no_nul(void **state)
{
    (void)state;
    const char *body = "{\"DATABASE_URL\": \"postgres://u:p\\\\u0000@h/db\"}";
    assert_false(hpq_source_value_has_nul(body, strlen(body), "DATABASE_URL"));
    body = "{\"OTHER\": \"a\\u0000\", \"DATABASE_URL\": \"postgres://u:p@h/db\"}";
    assert_false(hpq_source_value_has_nul(body, strlen(body), "DATABASE_URL"));
    assert_true(hpq_source_value_has_nul(body, strlen(body), "OTHER"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ok_answer_gives_the_config_var),
        cmocka_unit_test(ok_answer_accepts_postgresql_scheme),
        cmocka_unit_test(ok_answer_reads_the_configured_var),
        cmocka_unit_test(missing_var_names_the_var_and_the_app),
        cmocka_unit_test(var_that_is_not_a_string_is_rejected),
        cmocka_unit_test(var_that_is_null_is_rejected),
        cmocka_unit_test(var_that_is_empty_is_rejected),
        cmocka_unit_test(ok_answer_with_json_array_is_rejected),
        cmocka_unit_test(ok_answer_with_json_string_is_rejected),
        cmocka_unit_test(ok_answer_that_is_not_json_is_rejected),
        cmocka_unit_test(ok_answer_with_truncated_json_is_rejected),
        cmocka_unit_test(ok_answer_with_empty_body_is_rejected),
        cmocka_unit_test(non_postgres_url_is_rejected_without_echoing_it),
        cmocka_unit_test(error_401_gives_status_id_and_message),
        cmocka_unit_test(error_403_gives_status_id_and_message),
        cmocka_unit_test(error_404_gives_status_id_and_message),
        cmocka_unit_test(error_429_gives_status_id_and_message),
        cmocka_unit_test(error_500_gives_status_id_and_message),
        cmocka_unit_test(old_style_error_body_gives_its_message),
        cmocka_unit_test(error_status_with_html_body_gives_the_status),
        cmocka_unit_test(error_status_with_empty_body_gives_the_status),
        cmocka_unit_test(host_allowed_heroku_api_over_https),
        cmocka_unit_test(host_refused_heroku_api_over_http),
        cmocka_unit_test(host_refused_lookalike_domains),
        cmocka_unit_test(host_allowed_loopback_over_http_and_https),
        cmocka_unit_test(host_refused_other_domain),
        cmocka_unit_test(host_refused_when_scheme_or_host_missing),
        cmocka_unit_test(host_refused_dns_name_that_starts_with_127),
        cmocka_unit_test(var_with_escaped_nul_is_rejected),
        cmocka_unit_test(escaped_backslash_before_u0000_is_no_nul),
    };
    return cmocka_run_group_tests_name("source", tests, NULL, NULL);
}
