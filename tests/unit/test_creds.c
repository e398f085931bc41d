/* test_creds.c — writing new credentials into a PGconn (shim/creds.c), on
 * PGconns of the system libpq: started against a socket directory that does
 * not exist, so they fail at once but keep the parameters they were given. */
#include "unit.h"

#include <libpq-fe.h>
#include <stdbool.h>

#include "creds.h"
#include "parse.h"
#include "rewrite.h"

static const struct hpq_libpq libpq = {
    .conninfo_parse = PQconninfoParse,
    .conninfo_free = PQconninfoFree,
    .freemem = PQfreemem,
    .pass = PQpass,
    .user = PQuser,
};

#define OLD_URL "postgres://u8abc:0123456789abcdef@db.example.com:5432/d1?sslmode=require"

static void parse(const char *url, struct hpq_params *out)
{
    char err[256];
    assert_int_equal(hpq_url_parse(&libpq, url, out, err, sizeof err), 0);
}

/* A PGconn holding the credentials of OLD_URL, as the shim writes them. */
static PGconn *conn_for(const char *user, const char *password)
{
    const char *const keys[] = {"host", "user", "password", "dbname", "connect_timeout", NULL};
    const char *const vals[] = {"/nonexistent-herokupq", user, password, "d1", "1", NULL};
    PGconn *conn = PQconnectStartParams(keys, vals, 0);
    assert_non_null(conn);
    return conn;
}

/* Try to move a PGconn made for OLD_URL to new_url. */
static int update(PGconn *conn, const char *new_url, char *why)
{
    struct hpq_params old_p = {0}, new_p = {0};
    parse(OLD_URL, &old_p);
    parse(new_url, &new_p);
    int rc = hpq_creds_update(&libpq, conn, &old_p, &new_p, why, 256);
    hpq_params_clear(&old_p);
    hpq_params_clear(&new_p);
    return rc;
}

static void a_new_password_of_the_same_length_is_written(void **state)
{
    (void)state;
    PGconn *conn = conn_for("u8abc", "0123456789abcdef");
    char why[256] = "";
    assert_int_equal(update(conn, "postgres://u8abc:fedcba9876543210@db.example.com:5432/d1"
                                  "?sslmode=require", why), 0);
    assert_string_equal(PQpass(conn), "fedcba9876543210");
    assert_string_equal(PQuser(conn), "u8abc");
    PQfinish(conn);
}

static void a_shorter_user_and_password_are_written(void **state)
{
    (void)state;
    PGconn *conn = conn_for("u8abc", "0123456789abcdef");
    char why[256] = "";
    assert_int_equal(update(conn, "postgres://u9:short@db.example.com:5432/d1?sslmode=require",
                            why), 0);
    assert_string_equal(PQpass(conn), "short");
    assert_string_equal(PQuser(conn), "u9");
    PQfinish(conn);
}

/* Each case: the new URL, then the reason; the PGconn must be untouched. */
static void refused(const char *new_url, const char *reason_part)
{
    PGconn *conn = conn_for("u8abc", "0123456789abcdef");
    char why[256] = "";
    assert_int_equal(update(conn, new_url, why), -1);
    if (!strstr(why, reason_part))
        fail_msg("reason '%s' lacks '%s'", why, reason_part);
    assert_string_equal(PQpass(conn), "0123456789abcdef");
    assert_string_equal(PQuser(conn), "u8abc");
    PQfinish(conn);
}

static void another_host_port_database_or_option_is_refused(void **state)
{
    (void)state;
    refused("postgres://u8abc:fedcba9876543210@db2.example.com:5432/d1?sslmode=require",
            "another host");
    refused("postgres://u8abc:fedcba9876543210@db.example.com:5433/d1?sslmode=require",
            "another host");
    refused("postgres://u8abc:fedcba9876543210@db.example.com:5432/d2?sslmode=require",
            "another host");
    refused("postgres://u8abc:fedcba9876543210@db.example.com:5432/d1", "another host");
}

static void a_longer_or_missing_password_or_user_is_refused(void **state)
{
    (void)state;
    refused("postgres://u8abc:0123456789abcdef0@db.example.com:5432/d1?sslmode=require",
            "longer");
    refused("postgres://u8abcd:0123456789abcdef@db.example.com:5432/d1?sslmode=require",
            "longer");
    refused("postgres://u8abc@db.example.com:5432/d1?sslmode=require", "missing");
}

static void a_pgconn_not_holding_the_urls_credentials_is_left_alone(void **state)
{
    (void)state;
    PGconn *conn = conn_for("u8abc", "not-the-url-password");
    char why[256] = "";
    assert_int_equal(update(conn, "postgres://u8abc:fedcba9876543210@db.example.com:5432/d1"
                                  "?sslmode=require", why), -1);
    assert_non_null(strstr(why, "does not report"));
    assert_string_equal(PQpass(conn), "not-the-url-password");
    PQfinish(conn);
}

static void a_host_list_is_refused(void **state)
{
    (void)state;
    struct hpq_params a = {0}, b = {0};
    parse("postgres://u:p1@h1,h2/d", &a);
    parse("postgres://u:p2@h1,h2/d", &b);
    PGconn *conn = conn_for("u", "p1");
    char why[256] = "";
    assert_true(hpq_creds_same_place(&a, &b));
    assert_int_equal(hpq_creds_update(&libpq, conn, &a, &b, why, sizeof why), -1);
    assert_string_equal(PQpass(conn), "p1");
    PQfinish(conn);
    hpq_params_clear(&a);
    hpq_params_clear(&b);
}

static void overwrite_never_writes_past_the_buffer(void **state)
{
    (void)state;
    char buf[12] = "abcdef\0XXXX"; /* 6 characters, then what is not ours */
    hpq_creds_overwrite(buf, "1234567");
    assert_string_equal(buf, "abcdef");
    hpq_creds_overwrite(buf, "xy");
    assert_memory_equal(buf, "xy\0\0\0\0\0XXXX", 12);
    assert_true(hpq_creds_fits("abc", "abc", "xyz"));
    assert_false(hpq_creds_fits("abc", "abc", "wxyz"));
    assert_false(hpq_creds_fits("abc", "abd", "x"));
    assert_false(hpq_creds_fits(NULL, "abc", "x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_new_password_of_the_same_length_is_written),
        cmocka_unit_test(a_shorter_user_and_password_are_written),
        cmocka_unit_test(another_host_port_database_or_option_is_refused),
        cmocka_unit_test(a_longer_or_missing_password_or_user_is_refused),
        cmocka_unit_test(a_pgconn_not_holding_the_urls_credentials_is_left_alone),
        cmocka_unit_test(a_host_list_is_refused),
        cmocka_unit_test(overwrite_never_writes_past_the_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
