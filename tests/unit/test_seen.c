/* test_seen.c — the servers of resolved URLs (shim/seen.c), and the database
 * a program names explicitly (hpq_explicit_dbname in shim/rewrite.c). */
#include "unit.h"

#include <libpq-fe.h>

#include "config.h"
#include "parse.h"
#include "rewrite.h"
#include "seen.h"

static const struct hpq_libpq libpq = {
    .conninfo_parse = PQconninfoParse,
    .conninfo_free = PQconninfoFree,
    .freemem = PQfreemem,
};

static int forget(void **state)
{
    (void)state;
    hpq_seen_forget_all();
    return 0;
}

static void a_resolved_server_is_found_by_host_and_port(void **state)
{
    (void)state;
    hpq_seen_add("ec2-1-2-3-4.compute-1.amazonaws.com", "5432", "DATABASE_URL");
    assert_string_equal(hpq_seen_var("ec2-1-2-3-4.compute-1.amazonaws.com", "5432"),
                        "DATABASE_URL");
    assert_string_equal(hpq_seen_var("EC2-1-2-3-4.compute-1.amazonaws.com", NULL),
                        "DATABASE_URL"); /* no port: 5432 */
    assert_null(hpq_seen_var("ec2-1-2-3-4.compute-1.amazonaws.com", "5433"));
    assert_null(hpq_seen_var("ec2-1-2-3-5.compute-1.amazonaws.com", "5432"));
    assert_null(hpq_seen_var("ec2-1-2-3-4", "5432"));
    assert_null(hpq_seen_var(NULL, "5432"));
}

static void host_and_port_lists_pair_up_as_libpq_pairs_them(void **state)
{
    (void)state;
    hpq_seen_add("db2", "6000", "HEROKU_POSTGRESQL_YELLOW_URL");
    hpq_seen_add("db1", NULL, "DATABASE_URL");
    assert_string_equal(hpq_seen_var("other,db2", "5432,6000"), "HEROKU_POSTGRESQL_YELLOW_URL");
    assert_null(hpq_seen_var("other,db2", "6000,5432"));
    assert_string_equal(hpq_seen_var("other,db1", "5432"), "DATABASE_URL"); /* one for all */
    assert_string_equal(hpq_seen_var("other,db1", ",5432"), "DATABASE_URL");
}

static void the_table_keeps_the_newest_servers(void **state)
{
    (void)state;
    char host[32];
    for (int i = 0; i < HPQ_MAX_SEEN + 3; i++) {
        snprintf(host, sizeof host, "h%d", i);
        hpq_seen_add(host, "5432", "DATABASE_URL");
    }
    assert_null(hpq_seen_var("h0", "5432"));
    assert_null(hpq_seen_var("h2", "5432"));
    assert_non_null(hpq_seen_var("h3", "5432"));
    snprintf(host, sizeof host, "h%d", HPQ_MAX_SEEN + 2);
    assert_non_null(hpq_seen_var(host, "5432"));
}

/* ---- the database a program names ---------------------------------------- */

static const char *explicit_db(const char *targets, const char *program_conninfo,
                               struct hpq_params *program, struct hpq_params *url)
{
    struct hpq_config cfg = {.target_all = targets == NULL};
    char placeholder[] = "heroku";
    if (targets)
        cfg.targets[cfg.n_targets++] = placeholder;
    char err[256];
    assert_int_equal(hpq_params_from_conninfo(&libpq, program_conninfo, program, err, sizeof err),
                     0);
    assert_int_equal(hpq_url_parse(&libpq, "postgres://u:p@db.example.com:5432/app_db", url, err,
                                   sizeof err),
                     0);
    return hpq_explicit_dbname(&cfg, program, url);
}

static void check_db(const char *targets, const char *program_conninfo, const char *want)
{
    struct hpq_params program = {0}, url = {0};
    const char *got = explicit_db(targets, program_conninfo, &program, &url);
    if (want)
        assert_string_equal(got, want);
    else if (got)
        fail_msg("%s: %s should not count as explicit", program_conninfo, got);
    hpq_params_clear(&program);
    hpq_params_clear(&url);
}

static void a_database_named_without_a_server_is_explicit(void **state)
{
    (void)state;
    check_db(NULL, "dbname=postgres", "postgres");
    check_db(NULL, "dbname=template1 user=someone", "template1");
    check_db(NULL, "dbname=app_db", NULL); /* the URL's own */
    check_db(NULL, "", NULL);
    check_db(NULL, "user=someone", NULL);
}

static void a_database_on_the_urls_server_or_a_placeholder_is_explicit(void **state)
{
    (void)state;
    check_db(NULL, "postgres://u:old@db.example.com/postgres", "postgres");
    check_db(NULL, "postgres://u:old@DB.example.com:5432/postgres", "postgres");
    check_db("heroku", "postgres://heroku/template1", "template1");
}

static void a_copy_of_another_url_is_not(void **state)
{
    (void)state;
    check_db(NULL, "postgres://u:old@old-host.example.com:5432/d8old", NULL);
    check_db(NULL, "postgres://u:old@db.example.com:5433/d8old", NULL);
    check_db(NULL, "postgres://u:old@heroku/d8old", NULL); /* not a placeholder here */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(a_resolved_server_is_found_by_host_and_port, forget),
        cmocka_unit_test_setup(host_and_port_lists_pair_up_as_libpq_pairs_them, forget),
        cmocka_unit_test_setup(the_table_keeps_the_newest_servers, forget),
        cmocka_unit_test(a_database_named_without_a_server_is_explicit),
        cmocka_unit_test(a_database_on_the_urls_server_or_a_placeholder_is_explicit),
        cmocka_unit_test(a_copy_of_another_url_is_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
