/* test_classify.c — classifying a failed connection by SQLSTATE
 * (shim/classify.c), on messages as libpq 15 writes them with PQERRORS_VERBOSE. */
#include "unit.h"

#include <libpq-fe.h>

#include "classify.h"

static enum hpq_outcome bad(const char *message)
{
    return hpq_classify(CONNECTION_BAD, message);
}

static void connection_ok_is_connected(void **state)
{
    (void)state;
    assert_int_equal(hpq_classify(CONNECTION_OK, ""), HPQ_CONNECTED);
    assert_int_equal(hpq_classify(CONNECTION_OK, NULL), HPQ_CONNECTED);
}

static void bad_password_is_stale(void **state)
{
    (void)state;
    assert_int_equal(bad("connection to server at \"127.0.0.1\", port 5432 failed: "
                         "FATAL:  28P01: password authentication failed for user \"app_user\"\n"
                         "LOCATION:  auth_failed, auth.c:335\n"),
                     HPQ_STALE);
}

static void missing_role_is_stale(void **state)
{
    (void)state;
    assert_int_equal(bad("connection to server at \"ec2-1-2-3-4.compute-1.amazonaws.com\" "
                         "(1.2.3.4), port 5432 failed: FATAL:  28000: role \"u8abc\" does not "
                         "exist\nLOCATION:  InitializeSessionUserId, miscinit.c:694\n"),
                     HPQ_STALE);
}

static void missing_database_is_stale(void **state)
{
    (void)state;
    assert_int_equal(bad("connection to server at \"127.0.0.1\", port 5432 failed: "
                         "FATAL:  3D000: database \"d8abc\" does not exist\n"
                         "LOCATION:  InitPostgres, postinit.c:945\n"),
                     HPQ_STALE);
}

static void translated_message_is_still_stale(void **state)
{
    (void)state;
    assert_int_equal(bad("Verbindung zum Server auf \"127.0.0.1\", Port 5432 fehlgeschlagen: "
                         "FATAL:  28P01: Passwort-Authentifizierung für Benutzer »x« "
                         "fehlgeschlagen\n"
                         "ORT:  auth_failed, auth.c:335\n"),
                     HPQ_STALE);
}

static void translated_severity_is_still_stale(void **state)
{
    (void)state;
    /* Russian: the severity word itself is translated ("ВАЖНО" for FATAL). */
    assert_int_equal(bad("подключиться к серверу \"127.0.0.1\", порт 5432 не удалось: "
                         "ВАЖНО:  3D000: база данных \"x\" не существует\n"),
                     HPQ_STALE);
}

static void too_many_connections_is_refused(void **state)
{
    (void)state;
    assert_int_equal(bad("connection to server at \"127.0.0.1\", port 5432 failed: "
                         "FATAL:  53300: too many connections for role \"app_user\"\n"
                         "LOCATION:  InitializeSessionUserId, miscinit.c:733\n"),
                     HPQ_REFUSED);
}

static void connection_refused_is_unreachable(void **state)
{
    (void)state;
    assert_int_equal(bad("could not connect to server: Connection refused\n"
                         "\tIs the server running on host \"h\" (10.0.0.1) and accepting\n"
                         "\tTCP/IP connections on port 5432?\n"),
                     HPQ_UNREACHABLE);
}

static void unknown_host_is_unreachable(void **state)
{
    (void)state;
    assert_int_equal(bad("could not translate host name \"x\" to address: "
                         "Name or service not known\n"),
                     HPQ_UNREACHABLE);
}

static void empty_or_missing_message_is_unreachable(void **state)
{
    (void)state;
    assert_int_equal(bad(""), HPQ_UNREACHABLE);
    assert_int_equal(bad(NULL), HPQ_UNREACHABLE);
}

static void host_name_that_looks_like_a_code_is_unreachable(void **state)
{
    (void)state;
    assert_int_equal(bad("could not translate host name \"28P01\" to address: "
                         "Name or service not known\n"),
                     HPQ_UNREACHABLE);
    assert_int_equal(bad("connection to server at \"3D000\" (10.0.0.1), port 5432 failed: "
                         "Connection refused\n"),
                     HPQ_UNREACHABLE);
}

static void stale_second_attempt_after_starting_up_is_stale(void **state)
{
    (void)state;
    assert_int_equal(bad("connection to server at \"a\" (10.0.0.1), port 5432 failed: "
                         "FATAL:  57P03: the database system is starting up\n"
                         "LOCATION:  ProcessStartupPacket, postmaster.c:2381\n"
                         "connection to server at \"b\" (10.0.0.2), port 5432 failed: "
                         "FATAL:  28P01: password authentication failed for user \"u\"\n"
                         "LOCATION:  auth_failed, auth.c:335\n"),
                     HPQ_STALE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connection_ok_is_connected),
        cmocka_unit_test(bad_password_is_stale),
        cmocka_unit_test(missing_role_is_stale),
        cmocka_unit_test(missing_database_is_stale),
        cmocka_unit_test(translated_message_is_still_stale),
        cmocka_unit_test(translated_severity_is_still_stale),
        cmocka_unit_test(too_many_connections_is_refused),
        cmocka_unit_test(connection_refused_is_unreachable),
        cmocka_unit_test(unknown_host_is_unreachable),
        cmocka_unit_test(empty_or_missing_message_is_unreachable),
        cmocka_unit_test(host_name_that_looks_like_a_code_is_unreachable),
        cmocka_unit_test(stale_second_attempt_after_starting_up_is_stale),
    };
    return cmocka_run_group_tests_name("connect", tests, NULL, NULL);
}
