/* test_loader.c — the pieces that deal with the dynamic loader and with
 * connections the shim tracks: which files link libpq (for RTLD_DEEPBIND),
 * and the registry of rewritten connections. */
#include "unit.h"

#include <stdio.h>
#include <unistd.h>

#include "conns.h"
#include "dlopen.h"

/* Built by `make test` and `make unit` before the unit tests run, which run
 * from the top of the tree: one links libpq, one does not. */
#define LINKS_LIBPQ "build/progs/hpq_connect"
#define NO_LIBPQ "build/progs/dlopen_client"

static const char *var; /* the config var the registry gives back */

static void elf_that_links_libpq_is_recognised(void **state)
{
    (void)state;
    assert_int_equal(access(LINKS_LIBPQ, R_OK), 0);
    assert_true(hpq_elf_needs_libpq(LINKS_LIBPQ));
}

static void elf_without_libpq_is_not(void **state)
{
    (void)state;
    assert_int_equal(access(NO_LIBPQ, R_OK), 0);
    assert_false(hpq_elf_needs_libpq(NO_LIBPQ));
}

static void non_elf_and_missing_files_are_not(void **state)
{
    (void)state;
    char path[] = "/tmp/hpq-not-elf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\177ELF but not really, just text", 31), 31);
    close(fd);
    assert_false(hpq_elf_needs_libpq(path));
    unlink(path);
    assert_false(hpq_elf_needs_libpq("/nonexistent/libfoo.so"));
    assert_false(hpq_elf_needs_libpq("/dev/null"));
}

static void a_tracked_connection_gives_its_url_until_finished(void **state)
{
    (void)state;
    PGconn *conn = (PGconn *)(uintptr_t)0x1234560;
    assert_null(hpq_conns_url(conn, &var));
    hpq_conns_add(conn, "postgres://u:p@h/d", "DATABASE_URL");
    char *url = hpq_conns_url(conn, &var);
    assert_string_equal(var, "DATABASE_URL");
    assert_string_equal(url, "postgres://u:p@h/d");
    free(url);
    hpq_conns_remove(conn);
    assert_null(hpq_conns_url(conn, &var));
}

static void watching_is_reported_once(void **state)
{
    (void)state;
    PGconn *conn = (PGconn *)(uintptr_t)0x7654320;
    char *url = NULL;
    struct hpq_watch watch = {.saved = PQERRORS_VERBOSE, .repair_until = 42, .attempt = 3};
    struct hpq_watch seen = {0};
    assert_false(hpq_conns_watch(conn, &watch)); /* not tracked: nothing to watch */
    hpq_conns_add(conn, "postgres://u:p@h/d", "DATABASE_URL");
    assert_false(hpq_conns_unwatch(conn, &url, &var, &seen));
    assert_true(hpq_conns_watch(conn, &watch));
    assert_true(hpq_conns_unwatch(conn, &url, &var, &seen));
    assert_string_equal(url, "postgres://u:p@h/d");
    assert_int_equal(seen.saved, PQERRORS_VERBOSE);
    assert_int_equal(seen.repair_until, 42);
    assert_int_equal(seen.attempt, 3);
    free(url);
    assert_false(hpq_conns_unwatch(conn, &url, &var, &seen));
    hpq_conns_remove(conn);
}

static void a_reused_address_takes_the_new_url(void **state)
{
    (void)state;
    PGconn *conn = (PGconn *)(uintptr_t)0xabcdef0;
    hpq_conns_add(conn, "postgres://old@h/d", "DATABASE_URL");
    hpq_conns_add(conn, "postgres://new@h/d", "DATABASE_URL");
    char *url = hpq_conns_url(conn, &var);
    assert_string_equal(url, "postgres://new@h/d");
    free(url);
    hpq_conns_remove(conn);
    assert_null(hpq_conns_url(conn, &var));
}

static void many_connections_are_tracked_independently(void **state)
{
    (void)state;
    enum { N = 2000 };
    char url[64];
    for (uintptr_t i = 1; i <= N; i++) {
        snprintf(url, sizeof url, "postgres://u@h/%lu", (unsigned long)i);
        hpq_conns_add((PGconn *)(i * 16), url, "DATABASE_URL");
    }
    for (uintptr_t i = 1; i <= N; i += 2)
        hpq_conns_remove((PGconn *)(i * 16));
    for (uintptr_t i = 1; i <= N; i++) {
        char *got = hpq_conns_url((PGconn *)(i * 16), &var);
        snprintf(url, sizeof url, "postgres://u@h/%lu", (unsigned long)i);
        if (i % 2)
            assert_null(got);
        else
            assert_string_equal(got, url);
        free(got);
        hpq_conns_remove((PGconn *)(i * 16));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(elf_that_links_libpq_is_recognised),
        cmocka_unit_test(elf_without_libpq_is_not),
        cmocka_unit_test(non_elf_and_missing_files_are_not),
        cmocka_unit_test(a_tracked_connection_gives_its_url_until_finished),
        cmocka_unit_test(watching_is_reported_once),
        cmocka_unit_test(a_reused_address_takes_the_new_url),
        cmocka_unit_test(many_connections_are_tracked_independently),
    };
    return cmocka_run_group_tests_name("loader and connection registry", tests, NULL, NULL);
}
