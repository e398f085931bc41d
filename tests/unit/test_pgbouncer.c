/* test_pgbouncer.c — the proxy's PgBouncer configuration (shim/cmd/pgbouncer.c,
 * hpq_bouncer_ini): what a resolved URL may and may not put there. */
#include "unit.h"

#include <libpq-fe.h>
#include <stdio.h>

#include "cmd/pgbouncer.h"
#include "rewrite.h"

static const struct hpq_libpq libpq = {
    .conninfo_parse = PQconninfoParse,
    .conninfo_free = PQconninfoFree,
    .freemem = PQfreemem,
};

static const struct hpq_bouncer_opts socket_only = {
    .dir = "/run/user/1000/herokupq-proxy", .port = 6432, .pool_mode = "session",
    .max_client_conn = 500, .pool_size = 15, .login_name = "alice"};

/* The configuration for url with o, or NULL. */
static char *ini_for(const char *url, const struct hpq_bouncer_opts *o)
{
    struct hpq_params params = {0};
    char err[256];
    assert_int_equal(hpq_url_parse(&libpq, url, &params, err, sizeof err), 0);
    char *ini = hpq_bouncer_ini(o, &params);
    hpq_params_clear(&params);
    return ini;
}

static void assert_has(const char *ini, const char *line)
{
    if (!strstr(ini, line))
        fail_msg("missing \"%s\" in:\n%s", line, ini);
}

static void test_sslmode_never_below_require(void **state)
{
    (void)state;
    const char *weak[] = {"", "?sslmode=disable", "?sslmode=allow", "?sslmode=prefer"};
    for (size_t i = 0; i < sizeof weak / sizeof *weak; i++) {
        char url[200];
        snprintf(url, sizeof url, "postgres://u:p@db.example:5432/d%s", weak[i]);
        char *ini = ini_for(url, &socket_only);
        assert_non_null(ini);
        assert_has(ini, "server_tls_sslmode = require\n");
        free(ini);
    }
    char *ini = ini_for("postgres://u:p@db.example:5432/d?sslmode=verify-full", &socket_only);
    assert_has(ini, "server_tls_sslmode = verify-full\n");
    assert_has(ini, "server_tls_ca_file = ");
    free(ini);
}

static void test_url_goes_to_both_entries(void **state)
{
    (void)state;
    char *ini = ini_for("postgres://app:s3cret@db.example:5433/appdb", &socket_only);
    const char *conn = "host='db.example' port='5433' dbname='appdb' user='app' password='s3cret'";
    char line[300];
    snprintf(line, sizeof line, "\nherokupq = %s pool_size=1\n", conn);
    assert_has(ini, line);
    snprintf(line, sizeof line, "\n* = %s\n", conn);
    assert_has(ini, line);
    free(ini);
}

/* A config var is input: nothing in it may end a value or a line. */
static void test_values_that_would_rewrite_the_file_are_refused(void **state)
{
    (void)state;
    const char *bad[] = {
        "postgres://app:a%27b@db.example/d",          /* a quote ends the value */
        "postgres://app:a%0Aauth_type=any@db.example/d", /* a newline starts a setting */
        "postgres://app:a%20host=evil@db.example/d",  /* a blank starts a pair */
        "postgres://app:a%5Cb@db.example/d",          /* a backslash */
        "postgres://app:@db.example/d",               /* empty: PgBouncer refuses it */
        "postgres://app:p@db.example/d%22x",          /* a double quote */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *ini = ini_for(bad[i], &socket_only);
        if (ini)
            fail_msg("accepted %s:\n%s", bad[i], ini);
    }
}

static void test_who_may_connect(void **state)
{
    (void)state;
    char *ini = ini_for("postgres://u:p@h/d", &socket_only);
    assert_has(ini, "listen_addr = \n");
    assert_has(ini, "listen_port = 6432\n");
    assert_has(ini, "unix_socket_mode = 0600\n");
    assert_has(ini, "auth_type = any\n");
    free(ini);

    struct hpq_bouncer_opts tcp = socket_only;
    tcp.listen_host = "127.0.0.1";
    tcp.listen_port = 7000;
    tcp.local_password = "0123456789abcdef";
    ini = ini_for("postgres://u:p@h/d", &tcp);
    assert_has(ini, "listen_addr = 127.0.0.1\n");
    assert_has(ini, "listen_port = 7000\n");
    assert_has(ini, "auth_type = hba\n");
    assert_null(strstr(ini, "0123456789abcdef")); /* the local password lives in users.txt */
    free(ini);

    tcp.listen_trust = true;
    ini = ini_for("postgres://u:p@h/d", &tcp);
    assert_has(ini, "auth_type = any\n");
    free(ini);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sslmode_never_below_require),
        cmocka_unit_test(test_url_goes_to_both_entries),
        cmocka_unit_test(test_values_that_would_rewrite_the_file_are_refused),
        cmocka_unit_test(test_who_may_connect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
