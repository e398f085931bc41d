/* test_log.c — password redaction and secret scrubbing of log lines
 * (shim/log.c). Log lines are captured by pointing fd 2 at a temporary file. */
#include "unit.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <errno.h>

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
                        "postgres://" MASK "@h:5432/db");
}

static void redact_leaves_url_without_password_alone(void **state)
{
    (void)state;
    assert_string_equal(redact("postgres://h:5432/db"), "postgres://h:5432/db");
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
                        "postgres://" MASK "@h/db?password=" MASK);
    assert_string_equal(redact("postgres://u@h/db?password=x&sslmode=require"),
                        "postgres://" MASK "@h/db?password=" MASK "&sslmode=require");
    /* libpq decodes the key: these are passwords too (issue 16, E5a) */
    assert_string_equal(redact("postgres://h/db?%70assword=x&%73sl%70assword=y&%7=z"),
                        "postgres://h/db?%70assword=" MASK "&%73sl%70assword=" MASK "&%7=z");
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

/* Defect 3: a password holding '@' next to an option whose value is a
 * scheme://host:port URL; the old mask ended at the option's '@'-free
 * authority and printed the rest of the password. */
static void redact_masks_password_with_at_beside_a_url_option(void **state)
{
    (void)state;
    const char *out = redact("host='h' password='p@ss@w0rd-secret' "
                             "application_name='https://svc.example:443' user='u'");
    if (strstr(out, "w0rd") || strstr(out, "ss@"))
        fail_msg("password shown: %s", out);
    assert_non_null(strstr(out, "application_name='https://svc.example:443'"));
}

/* Defect 3: a user name ending in "password=" and a password holding a quote. */
static void redact_masks_password_after_user_named_password_equals(void **state)
{
    (void)state;
    const char *out = redact("host='h' user='xpassword=' password='it\\'s-s3cret' dbname='d'");
    if (strstr(out, "s3cret"))
        fail_msg("password shown: %s", out);
    assert_non_null(strstr(out, "user='xpassword='"));
    assert_non_null(strstr(out, "dbname='d'"));
}

static void redact_masks_url_with_at_in_the_password(void **state)
{
    (void)state;
    assert_string_equal(redact("postgres://u:p@ss/w@rd@h.example:5432/db?sslmode=require"),
                        "postgres://" MASK "@h.example:5432/db?sslmode=require");
}

static void redact_masks_multi_host_url_userinfo(void **state)
{
    (void)state;
    assert_string_equal(redact("postgresql://u:pw1@h1:5432,h2:5433/db"),
                        "postgresql://" MASK "@h1:5432,h2:5433/db");
}

static void redact_masks_url_inside_a_conninfo_value(void **state)
{
    (void)state;
    const char *out = redact("dbname='postgres://u:inner-secret@h/db' application_name=x");
    if (strstr(out, "inner-secret"))
        fail_msg("password shown: %s", out);
    assert_non_null(strstr(out, "application_name=x"));
}

/* A short password is masked as a whole value: nothing of it shows. */
static void redact_masks_short_password_whole(void **state)
{
    (void)state;
    assert_string_equal(redact("host='h' password='e' user='u'"),
                        "host='h' password=" MASK " user='u'");
    assert_string_equal(redact("postgres://u:e@h/db"), "postgres://" MASK "@h/db");
}

static void redact_does_not_show_text_that_is_no_connection_string(void **state)
{
    (void)state;
    const char *out = redact("host='h' password='unterminated secret");
    if (strstr(out, "secret"))
        fail_msg("shown: %s", out);
}

static void redact_userinfo_masks_heroku_host_credentials(void **state)
{
    (void)state;
    assert_string_equal(hpq_redact_userinfo("https://me:hostpw@api.heroku.com", buf, sizeof buf),
                        "https://" MASK "@api.heroku.com");
    assert_string_equal(hpq_redact_userinfo("https://api.heroku.com", buf, sizeof buf),
                        "https://api.heroku.com");
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

/* Defect 4: the scrubber kept 32 secrets in a ring and the token was the
 * first: after 40 distinct passwords an API error echoing the token showed it. */
static void log_never_forgets_the_first_secret(void **state)
{
    (void)state;
    static const char token[] = "HRKU-first-token-0123456789abcdef";
    hpq_log_secret(token);
    for (int i = 0; i < 200; i++) {
        char pw[32];
        snprintf(pw, sizeof pw, "distinct-password-%03d", i);
        hpq_log_secret(pw);
    }
    capture_start();
    hpq_log(HPQ_ERROR, "Heroku API answered 401: bad token %s; also distinct-password-007",
            token);
    const char *out = capture_end();
    if (strstr(out, "0123456789abcdef") || strstr(out, "password-007"))
        fail_msg("secret shown: %s", out);
}

/* Defect 3: a password such as "debug" showed in the unscrubbed prefix. */
static void log_scrubs_the_prefix_too(void **state)
{
    (void)state;
    hpq_log_set_level(HPQ_DEBUG);
    hpq_log_secret("debug");
    capture_start();
    hpq_log(HPQ_DEBUG, "a line");
    const char *out = capture_end();
    hpq_log_set_level(HPQ_WARN);
    assert_string_equal(out, "herokupq: " MASK ": a line\n");
}

/* Defect 3: a 1-3 character secret masked inside words tells itself
 * ("conn********cting"); it is masked only as a whole word. */
static void log_masks_short_secret_only_as_whole_word(void **state)
{
    (void)state;
    hpq_log_secret("ne");
    capture_start();
    hpq_log(HPQ_ERROR, "connecting: ne, 'ne' and ne");
    const char *out = capture_end();
    assert_string_equal(out, "herokupq: error: connecting: " MASK ", '" MASK "' and " MASK "\n");
}

static void log_keeps_errno(void **state)
{
    (void)state;
    capture_start();
    errno = 4242;
    hpq_log(HPQ_ERROR, "a line");
    hpq_log_secret("another-secret-xyz");
    int after = errno;
    capture_end();
    assert_int_equal(after, 4242);
}

static void scrub_masks_secrets_in_any_text(void **state)
{
    (void)state;
    hpq_log_secret("scrub-me-secret");
    char out[64];
    hpq_log_scrub("option \"herokupq: token scrub-me-secret\"", out, sizeof out);
    assert_string_equal(out, "option \"herokupq: token " MASK "\"");
    hpq_log_scrub("0123456789", out, 5);
    assert_string_equal(out, "0123");
}

static void scrub_masks_overlapping_secrets_as_one_run(void **state)
{
    (void)state;
    hpq_log_secret("overlap-abcdef");
    hpq_log_secret("abcdef-tail-xyz");
    char out[128];
    hpq_log_scrub("[overlap-abcdef-tail-xyz] [overlap-abcdef] [abcdef-tail-xyz]", out, sizeof out);
    assert_string_equal(out, "[" MASK "] [" MASK "] [" MASK "]");
}

/* Found by fuzz_redact: a conninfo writes a password holding ' or \ escaped,
 * which is not the registered text; the escaped form is masked too. */
static void scrub_masks_a_secret_as_a_conninfo_escapes_it(void **state)
{
    (void)state;
    hpq_log_secret("it's-a\\secret");
    char out[128];
    hpq_log_scrub("application_name='it\\'s-a\\\\secret' x", out, sizeof out);
    assert_string_equal(out, "application_name='" MASK "' x");
}

/* Found by fuzz_redact: a URL in a conninfo value is masked up to its last
 * '@', so a password holding '@' kept its tail (https, then the mask, then "@cdefgh")
 * out of the scrubber's reach. hpq_log_shown scrubs before it redacts. */
static void shown_masks_secrets_before_the_structure(void **state)
{
    (void)state;
    hpq_log_secret("ab@cdefgh");
    char shown[256];
    const char *got = hpq_log_shown(hpq_redact, "application_name='https://ab@cdefgh.example' "
                                    "dbname=d", shown, sizeof shown);
    assert_string_equal(got, "application_name='https://" MASK ".example' dbname=d");
    char plain[256];
    assert_non_null(strstr(hpq_redact("application_name='https://ab@cdefgh.example'", plain,
                                      sizeof plain), "cdefgh")); /* what structure alone leaves */
}

/* Found by fuzz_redact: lines were folded after the scrub, so a secret with a
 * newline showed folded, and newlines in the text could fold into a secret. */
static void log_folds_lines_before_it_scrubs(void **state)
{
    (void)state;
    hpq_log_secret("multi\nline-secret");
    hpq_log_secret("fold ed-secret");
    capture_start();
    hpq_log(HPQ_ERROR, "[multi\nline-secret] [fold\ned-secret]\n");
    const char *out = capture_end();
    assert_string_equal(out, "herokupq: error: [" MASK "] [" MASK "]\n");
}

#define L(f) cmocka_unit_test_setup(f, level_warn)

/* A source command's stderr is free text: its words are kept, its password
 * values and URL user information masked; a password that does not parse
 * hides the rest of the line. */
static void redact_text_masks_passwords_in_free_text(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"diagnostic password=hpq-secret", "diagnostic password=********"},
        {"cannot reach postgres://u:p@ss@db.example/x now",
         "cannot reach postgres://********@db.example/x now"},
        {"with password = 'a b c' and more", "with password = ******** and more"},
        {"broken password='never closed", "broken password=********"},
        {"plain words only", "plain words only"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char shown[256];
        const char *got = hpq_redact_text(cases[i].in, shown, sizeof shown);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: '%s' gave '%s', want '%s'", i, cases[i].in, got, cases[i].want);
    }
}

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
        cmocka_unit_test(redact_masks_password_with_at_beside_a_url_option),
        cmocka_unit_test(redact_masks_password_after_user_named_password_equals),
        cmocka_unit_test(redact_masks_url_with_at_in_the_password),
        cmocka_unit_test(redact_masks_multi_host_url_userinfo),
        cmocka_unit_test(redact_masks_url_inside_a_conninfo_value),
        cmocka_unit_test(redact_masks_short_password_whole),
        cmocka_unit_test(redact_does_not_show_text_that_is_no_connection_string),
        cmocka_unit_test(redact_userinfo_masks_heroku_host_credentials),
        cmocka_unit_test(redact_text_masks_passwords_in_free_text),
        L(log_line_masks_registered_secret_everywhere),
        L(log_line_folds_libpq_multi_line_message),
        L(log_below_level_writes_nothing),
        L(log_level_off_writes_nothing),
        L(log_line_cut_does_not_show_part_of_a_secret),
        L(log_line_with_many_short_secrets_does_not_crash),
        L(log_never_forgets_the_first_secret),
        L(log_scrubs_the_prefix_too),
        L(log_masks_short_secret_only_as_whole_word),
        L(log_keeps_errno),
        L(scrub_masks_secrets_in_any_text),
        L(scrub_masks_overlapping_secrets_as_one_run),
        L(scrub_masks_a_secret_as_a_conninfo_escapes_it),
        L(shown_masks_secrets_before_the_structure),
        L(log_folds_lines_before_it_scrubs),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
