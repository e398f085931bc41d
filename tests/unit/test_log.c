/* test_log.c — password redaction and secret scrubbing of log lines
 * (shim/log.c). Log lines are captured by pointing fd 2 at a temporary file. */
#include "unit.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "log.h"

#define MASK "********"

/* ---- hpq_redact -------------------------------------------------------- */

static char buf[1024];

static const char *redact(const char *text)
{
    return hpq_redact(text, buf, sizeof buf);
}

static void redact_masks_url_password_and_keeps_the_rest(void **state)
{
    (void)state;
    assert_string_equal(redact("postgres://u:secret@h:5432/db"),
                        "postgres://u:" MASK "@h:5432/db");
}

static void redact_leaves_url_without_password_alone(void **state)
{
    (void)state;
    assert_string_equal(redact("postgres://u@h:5432/db"), "postgres://u@h:5432/db");
    assert_string_equal(redact("postgresql://h/db?sslmode=require"),
                        "postgresql://h/db?sslmode=require");
}

static void redact_masks_conninfo_password(void **state)
{
    (void)state;
    assert_string_equal(redact("host=h password=secret user=u"),
                        "host=h password=" MASK " user=u");
}

static void redact_masks_whole_quoted_password(void **state)
{
    (void)state;
    assert_string_equal(redact("password='a b\\'c' user=u"), "password=" MASK " user=u");
}

static void redact_masks_password_in_the_shims_own_conninfo(void **state)
{
    (void)state;
    /* The form hpq_params_to_conninfo writes and connect.c logs. */
    assert_string_equal(redact("host='h.example' password='p w\\\\x' user='u' sslmode='require'"),
                        "host='h.example' password=" MASK " user='u' sslmode='require'");
}

static void redact_masks_url_query_password(void **state)
{
    (void)state;
    assert_string_equal(redact("postgres://u@h/db?password=x"),
                        "postgres://u@h/db?password=" MASK);
    assert_string_equal(redact("postgres://u@h/db?password=x&sslmode=require"),
                        "postgres://u@h/db?password=" MASK "&sslmode=require");
}

static void redact_of_null_is_a_placeholder(void **state)
{
    (void)state;
    assert_string_equal(hpq_redact(NULL, buf, sizeof buf), "(null)");
}

/* libpq allows blanks around '=' in a conninfo ("password = secret" sets the
 * password); redaction looks only for "password=". */
static void redact_masks_password_with_blanks_around_equals(void **state)
{
    (void)state;
    const char *out = redact("host=h password = secret user=u");
    if (strstr(out, "secret"))
        fail_msg("password shown: %s", out);
}

/* Only the first "password=" is masked, and "sslpassword=" contains it: a
 * conninfo carrying both (the program's sslpassword, the URL's password)
 * shows the database password. */
static void redact_masks_password_after_sslpassword(void **state)
{
    (void)state;
    const char *out = redact("sslpassword='keypw' host='h' password='secret' user='u'");
    if (strstr(out, "secret") || strstr(out, "keypw"))
        fail_msg("password shown: %s", out);
}

/* ---- hpq_log ----------------------------------------------------------- */

static int lines_in(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void assert_one_line(const char *out)
{
    assert_int_equal(lines_in(out), 1);
    assert_true(strlen(out) > 0 && out[strlen(out) - 1] == '\n');
}

static int level_warn(void **state)
{
    (void)state;
    hpq_log_set_level(HPQ_WARN);
    return 0;
}

static void log_line_masks_registered_secret_everywhere(void **state)
{
    (void)state;
    static const char secret[] = "hunter2-3f9a7c1e";
    hpq_log_secret(secret);
    capture_start();
    hpq_log(HPQ_ERROR, "token %s rejected; retrying with [%s]", secret, secret);
    const char *out = capture_end();
    assert_true(strncmp(out, "herokupq: error: ", strlen("herokupq: error: ")) == 0);
    assert_non_null(strstr(out, MASK));
    assert_null(strstr(out, secret));
    assert_one_line(out);
    assert_string_equal(out, "herokupq: error: token " MASK " rejected; retrying with [" MASK
                             "]\n");
}

static void log_line_folds_libpq_multi_line_message(void **state)
{
    (void)state;
    capture_start();
    hpq_log(HPQ_WARN, "connection failed: %s",
            "FATAL:  53300: too many connections\nLOCATION:  miscinit.c:733\n");
    const char *out = capture_end();
    assert_one_line(out);
    assert_string_equal(out, "herokupq: warn: connection failed: FATAL:  53300: too many "
                             "connections LOCATION:  miscinit.c:733\n");
}

static void log_below_level_writes_nothing(void **state)
{
    (void)state;
    capture_start();
    hpq_log(HPQ_INFO, "not shown at warn");
    hpq_log(HPQ_DEBUG, "not shown at warn");
    const char *out = capture_end();
    assert_string_equal(out, "");
}

static void log_level_off_writes_nothing(void **state)
{
    (void)state;
    hpq_log_set_level(HPQ_OFF);
    capture_start();
    hpq_log(HPQ_ERROR, "not shown when off");
    const char *out = capture_end();
    assert_string_equal(out, "");
}

/* A line is cut at 1024 bytes before secrets are masked, so a secret that
 * straddles the cut is no longer found whole and its first part is shown. */
static void log_line_cut_does_not_show_part_of_a_secret(void **state)
{
    (void)state;
    static const char secret[] = "Zq8Kw3Lm7Np2Rt6Vx1By5Cd9Fg4Hj0Ks";
    hpq_log_secret(secret);
    char pad[981]; /* "herokupq: error: " + 980: the cut falls in the secret */
    memset(pad, '.', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    capture_start();
    hpq_log(HPQ_ERROR, "%s%s", pad, secret);
    const char *out = capture_end();
    assert_one_line(out);
    if (strstr(out, "Zq8Kw3"))
        fail_msg("the line ends in part of the secret: ...%.29s", out + strlen(out) - 30);
}

/* Masking a short secret that occurs many times grows the line past its
 * buffer; the length arithmetic in mask_one() then underflows and memmove
 * gets a huge size. Run in a child so a crash fails only this test. */
static void log_line_with_many_short_secrets_does_not_crash(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* cmocka's handlers would longjmp back into its runner in the child. */
        static const int crashes[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGABRT};
        for (size_t i = 0; i < sizeof crashes / sizeof crashes[0]; i++)
            signal(crashes[i], SIG_DFL);
        FILE *null = fopen("/dev/null", "w");
        if (null)
            dup2(fileno(null), STDERR_FILENO);
        char many[1001];
        memset(many, 'x', sizeof many - 1);
        many[sizeof many - 1] = '\0';
        hpq_log_secret("x");
        hpq_log(HPQ_ERROR, "%s", many);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("hpq_log crashed (signal %d)", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

#define L(f) cmocka_unit_test_setup(f, level_warn)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redact_masks_url_password_and_keeps_the_rest),
        cmocka_unit_test(redact_leaves_url_without_password_alone),
        cmocka_unit_test(redact_masks_conninfo_password),
        cmocka_unit_test(redact_masks_whole_quoted_password),
        cmocka_unit_test(redact_masks_password_in_the_shims_own_conninfo),
        cmocka_unit_test(redact_masks_url_query_password),
        cmocka_unit_test(redact_of_null_is_a_placeholder),
        cmocka_unit_test(redact_masks_password_with_blanks_around_equals),
        cmocka_unit_test(redact_masks_password_after_sslpassword),
        L(log_line_masks_registered_secret_everywhere),
        L(log_line_folds_libpq_multi_line_message),
        L(log_below_level_writes_nothing),
        L(log_level_off_writes_nothing),
        L(log_line_cut_does_not_show_part_of_a_secret),
        L(log_line_with_many_short_secrets_does_not_crash),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
