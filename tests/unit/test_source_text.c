/* test_source_text.c — the text of HEROKUPQ_SOURCE=file:/exec: (shim/source_text.c):
 * a URL from a file's content or a command's output, a command line split into
 * words. Table-driven: the cases differ only in data. */
#include "unit.h"

#include "source_text.h"

static const struct {
    const char *text, *url; /* url NULL: refused */
} url_cases[] = {
    {"postgres://u:p@h:5432/d\n", "postgres://u:p@h:5432/d"},
    {"  postgresql://u:p@h/d  \r\n", "postgresql://u:p@h/d"},
    {"\n\npostgres://h/d\nsecond line ignored\n", "postgres://h/d"},
    {"postgres://h/d", "postgres://h/d"}, /* no newline at the end */
    {"", NULL},
    {"   \n\t\n", NULL},
    {"mysql://u:p@h/d\n", NULL},
    {"postgres://", NULL}, /* nothing after the scheme */
    {"export DATABASE_URL=postgres://h/d\n", NULL},
};

static void url_from_text_takes_the_first_line_if_postgres(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof url_cases / sizeof url_cases[0]; i++) {
        char err[256] = "";
        char *url = hpq_url_from_text(url_cases[i].text, strlen(url_cases[i].text), "the test",
                                      err, sizeof err);
        if (url_cases[i].url) {
            assert_non_null(url);
            assert_string_equal(url, url_cases[i].url);
        } else {
            assert_null(url);
            assert_non_null(strstr(err, "the test"));
            assert_null(strstr(err, "u:p")); /* the reason never shows the text */
        }
        free(url);
    }
}

static void url_from_text_stops_at_a_nul(void **state)
{
    (void)state;
    char err[256];
    const char text[] = "postgres://h/d\0garbage";
    char *url = hpq_url_from_text(text, sizeof text - 1, "x", err, sizeof err);
    assert_string_equal(url, "postgres://h/d");
    free(url);
}

static const struct {
    const char *line;
    int n;
    const char *words[4];
} split_cases[] = {
    {"cat /run/secrets/url", 2, {"cat", "/run/secrets/url"}},
    {"  vault   kv get  ", 3, {"vault", "kv", "get"}},
    {"sh -c 'cat \"$0\" | head -1' /f", 4, {"sh", "-c", "cat \"$0\" | head -1", "/f"}},
    {"echo \"a b\"c\\ d", 2, {"echo", "a bc d"}},
    {"echo '$HOME' \\$HOME", 3, {"echo", "$HOME", "$HOME"}}, /* nothing is expanded */
    {"echo ''", 2, {"echo", ""}},
    {"echo 'unclosed", -1, {NULL}},
    {"   ", -1, {NULL}},
};

static void split_words_quotes_like_a_shell_and_expands_nothing(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof split_cases / sizeof split_cases[0]; i++) {
        char buf[256], err[128] = "";
        char *argv[8];
        int n = hpq_split_words(split_cases[i].line, buf, sizeof buf, argv, 8, err, sizeof err);
        assert_int_equal(n, split_cases[i].n);
        if (n < 0) {
            assert_true(err[0] != '\0');
            continue;
        }
        for (int w = 0; w < n; w++)
            assert_string_equal(argv[w], split_cases[i].words[w]);
        assert_null(argv[n]);
    }
}

static void split_words_refuses_too_many_words_and_too_long(void **state)
{
    (void)state;
    char buf[16], err[128];
    char *argv[3];
    assert_int_equal(hpq_split_words("a b c", buf, sizeof buf, argv, 3, err, sizeof err), -1);
    assert_int_equal(hpq_split_words("aaaaaaaaaaaaaaaaaaaaaaaa", buf, sizeof buf, argv, 3, err,
                                     sizeof err),
                     -1);
    assert_int_equal(hpq_split_words("a b", buf, sizeof buf, argv, 3, err, sizeof err), 2);
}

/* Every password found, one a line, into the buffer ctx. */
static void collect_found(const char *secret, void *ctx)
{
    strcat(ctx, secret);
    strcat(ctx, "\n");
}

static const struct {
    const char *url, *found; /* each password, as written then decoded, a line each */
} password_cases[] = {
    {"postgres://u:pw@h:5432/d", "pw\n"},
    {"postgres://u:p%40w@h/d", "p%40w\np@w\n"},
    {"postgres://u:a@b@h/d", "a\na@b\n"}, /* libpq's ends at the first '@'; the last masks more */
    {"postgres://u:a?b@h/d", "a?b\n"},   /* a '?' before the '@' is the password's */
    {"postgres://u@h/d?%70assword=sec&x=1", "sec\n"},
    {"postgres://h/d?sslmode=require&sslpassword=k%2Fy", "k%2Fy\nk/y\n"},
    {"postgres://h/d?passwordx=no&x=password", ""},
    {"postgres://u@h/d", ""},
    {"not a url", ""},
};

static void url_passwords_are_found_as_libpq_reads_them(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof password_cases / sizeof password_cases[0]; i++) {
        char found[256] = "";
        hpq_url_passwords(password_cases[i].url, strlen(password_cases[i].url), collect_found,
                          found);
        assert_string_equal(found, password_cases[i].found);
    }
}

static void text_passwords_cover_every_url_word(void **state)
{
    (void)state;
    const char text[] = "postgres://u:one@h/d\nnoise\tmysql://x:two@h/d\n";
    char found[256] = "";
    hpq_text_passwords(text, sizeof text - 1, collect_found, found);
    assert_string_equal(found, "one\ntwo\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(url_from_text_takes_the_first_line_if_postgres),
        cmocka_unit_test(url_from_text_stops_at_a_nul),
        cmocka_unit_test(split_words_quotes_like_a_shell_and_expands_nothing),
        cmocka_unit_test(split_words_refuses_too_many_words_and_too_long),
        cmocka_unit_test(url_passwords_are_found_as_libpq_reads_them),
        cmocka_unit_test(text_passwords_cover_every_url_word),
    };
    return cmocka_run_group_tests_name("source_text", tests, NULL, NULL);
}
