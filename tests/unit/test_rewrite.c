/* test_rewrite.c — the program's parameters × the resolved URL (shim/rewrite.c),
 * with the system libpq's own PQconninfoParse doing all the parsing. */
#include "unit.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "parse.h"
#include "rewrite.h"

static const struct hpq_libpq libpq = {
    .conninfo_parse = PQconninfoParse,
    .conninfo_free = PQconninfoFree,
    .freemem = PQfreemem,
};

static char err[512];

/* ---- helpers ----------------------------------------------------------- */

static void from_conninfo(const char *conninfo, struct hpq_params *out)
{
    err[0] = '\0';
    assert_int_equal(hpq_params_from_conninfo(&libpq, conninfo, out, err, sizeof err), 0);
}

static void from_url(const char *url, struct hpq_params *out)
{
    err[0] = '\0';
    assert_int_equal(hpq_url_parse(&libpq, url, out, err, sizeof err), 0);
}

static void assert_param(const struct hpq_params *p, const char *key, const char *want)
{
    const char *got = hpq_params_get(p, key);
    if (!want) {
        if (got)
            fail_msg("%s should be absent, is '%s'", key, got);
        return;
    }
    if (!got)
        fail_msg("%s should be '%s', is absent", key, want);
    assert_string_equal(got, want);
}

/* hpq_rewrite of a program conninfo and a URL (or none); the result in out. */
static void rewrite(const char *program_conninfo, const char *url, const char *env_sslmode,
                    struct hpq_params *out)
{
    struct hpq_params program = {0}, url_params = {0};
    from_conninfo(program_conninfo, &program);
    if (url)
        from_url(url, &url_params);
    assert_int_equal(hpq_rewrite(&program, url ? &url_params : NULL, env_sslmode, out), 0);
    hpq_params_clear(&program);
    hpq_params_clear(&url_params);
}

/* ---- hpq_params_from_conninfo ----------------------------------------- */

static void from_conninfo_reads_keyword_value_string(void **state)
{
    (void)state;
    struct hpq_params p = {0};
    from_conninfo("host=db.example port=5433 dbname=shop user=app application_name='my app'", &p);
    assert_param(&p, "host", "db.example");
    assert_param(&p, "port", "5433");
    assert_param(&p, "dbname", "shop");
    assert_param(&p, "user", "app");
    assert_param(&p, "application_name", "my app");
    assert_param(&p, "password", NULL); /* only what the program set */
    assert_int_equal(p.n, 5);
    hpq_params_clear(&p);
}

static void from_conninfo_reads_postgres_url(void **state)
{
    (void)state;
    struct hpq_params p = {0};
    from_conninfo("postgres://app:pw@db.example:5433/shop", &p);
    assert_param(&p, "host", "db.example");
    assert_param(&p, "port", "5433");
    assert_param(&p, "dbname", "shop");
    assert_param(&p, "user", "app");
    assert_param(&p, "password", "pw");
    hpq_params_clear(&p);
}

static void from_conninfo_reads_url_query_params(void **state)
{
    (void)state;
    struct hpq_params p = {0};
    from_conninfo("postgresql://app@db.example/shop?sslmode=verify-full&application_name=x", &p);
    assert_param(&p, "host", "db.example");
    assert_param(&p, "sslmode", "verify-full");
    assert_param(&p, "application_name", "x");
    hpq_params_clear(&p);
}

static void from_conninfo_decodes_percent_encoded_password(void **state)
{
    (void)state;
    struct hpq_params p = {0};
    from_conninfo("postgres://app:p%40ss%2Fw%3Ard%20x@db.example/shop", &p);
    assert_param(&p, "password", "p@ss/w:rd x");
    hpq_params_clear(&p);
}

static void from_conninfo_rejects_unknown_keyword_with_message(void **state)
{
    (void)state;
    struct hpq_params p = {0};
    err[0] = '\0';
    assert_int_equal(hpq_params_from_conninfo(&libpq, "host=h bogus=1", &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "bogus"));
    hpq_params_clear(&p);
}

/* ---- hpq_params_from_arrays ------------------------------------------- */

static void arrays(const char *const *k, const char *const *v, int expand, struct hpq_params *out)
{
    err[0] = '\0';
    assert_int_equal(hpq_params_from_arrays(&libpq, k, v, expand, out, err, sizeof err), 0);
}

static void from_arrays_later_values_win(void **state)
{
    (void)state;
    const char *const k[] = {"host", "port", "host", NULL};
    const char *const v[] = {"first", "5432", "second", NULL};
    struct hpq_params p = {0};
    arrays(k, v, 0, &p);
    assert_param(&p, "host", "second");
    assert_param(&p, "port", "5432");
    hpq_params_clear(&p);
}

static void from_arrays_ignores_null_and_empty_values(void **state)
{
    (void)state;
    const char *const k[] = {"host", "host", "host", "port", "user", NULL};
    const char *const v[] = {"kept", NULL, "", "", NULL, NULL};
    struct hpq_params p = {0};
    arrays(k, v, 0, &p);
    assert_param(&p, "host", "kept");
    assert_param(&p, "port", NULL);
    assert_param(&p, "user", NULL);
    hpq_params_clear(&p);
}

static void from_arrays_expands_url_dbname(void **state)
{
    (void)state;
    const char *const k[] = {"dbname", NULL};
    const char *const v[] = {"postgres://app:pw@db.example:5433/shop?sslmode=require", NULL};
    struct hpq_params p = {0};
    arrays(k, v, 1, &p);
    assert_param(&p, "host", "db.example");
    assert_param(&p, "port", "5433");
    assert_param(&p, "user", "app");
    assert_param(&p, "password", "pw");
    assert_param(&p, "dbname", "shop");
    assert_param(&p, "sslmode", "require");
    hpq_params_clear(&p);
}

static void from_arrays_keywords_after_expanded_dbname_override_it(void **state)
{
    (void)state;
    const char *const k[] = {"dbname", "user", NULL};
    const char *const v[] = {"host=db.example user=from_string dbname=shop", "from_array", NULL};
    struct hpq_params p = {0};
    arrays(k, v, 1, &p);
    assert_param(&p, "host", "db.example");
    assert_param(&p, "dbname", "shop");
    assert_param(&p, "user", "from_array");
    hpq_params_clear(&p);
}

static void from_arrays_keywords_before_expanded_dbname_are_overridden(void **state)
{
    (void)state;
    const char *const k[] = {"user", "port", "dbname", NULL};
    const char *const v[] = {"from_array", "1111", "host=db.example user=from_string", NULL};
    struct hpq_params p = {0};
    arrays(k, v, 1, &p);
    assert_param(&p, "user", "from_string");
    assert_param(&p, "port", "1111"); /* the string does not set it */
    assert_param(&p, "host", "db.example");
    hpq_params_clear(&p);
}

static void from_arrays_without_expand_keeps_dbname_with_equals_literally(void **state)
{
    (void)state;
    const char *const k[] = {"dbname", NULL};
    const char *const v[] = {"host=db.example user=u", NULL};
    struct hpq_params p = {0};
    arrays(k, v, 0, &p);
    assert_param(&p, "dbname", "host=db.example user=u");
    assert_param(&p, "host", NULL);
    assert_param(&p, "user", NULL);
    hpq_params_clear(&p);
}

static void from_arrays_expand_keeps_plain_dbname(void **state)
{
    (void)state;
    const char *const k[] = {"dbname", NULL};
    const char *const v[] = {"shop", NULL};
    struct hpq_params p = {0};
    arrays(k, v, 1, &p);
    assert_param(&p, "dbname", "shop");
    assert_int_equal(p.n, 1);
    hpq_params_clear(&p);
}

/* libpq (PQconnectdbParams, expand_dbname=1) looks only at the first dbname:
 * a plain name there means no later dbname is expanded. Checked against the
 * system libpq 15: PQdb() of {dbname=plain, dbname="host=other user=zz"}
 * is the literal "host=other user=zz" and the host is not "other". */
static void from_arrays_expands_only_the_first_dbname_as_libpq_does(void **state)
{
    (void)state;
    const char *const k[] = {"host", "dbname", "dbname", NULL};
    const char *const v[] = {"heroku", "plain", "host=other user=zz", NULL};
    struct hpq_params p = {0};
    arrays(k, v, 1, &p);
    assert_param(&p, "host", "heroku");
    assert_param(&p, "dbname", "host=other user=zz");
    assert_param(&p, "user", NULL);
    hpq_params_clear(&p);
}

/* ---- hpq_params_from_setdb -------------------------------------------- */

static void from_setdb_expands_dbname_then_arguments_override(void **state)
{
    (void)state;
    struct hpq_params p = {0};
    err[0] = '\0';
    assert_int_equal(hpq_params_from_setdb(&libpq, "arg_host", NULL, NULL,
                                           "host=str_host port=6543 user=str_user "
                                           "password=str_pw dbname=shop",
                                           "arg_user", NULL, &p, err, sizeof err),
                     0);
    assert_param(&p, "host", "arg_host");
    assert_param(&p, "user", "arg_user");
    assert_param(&p, "port", "6543");       /* NULL argument: the string's */
    assert_param(&p, "password", "str_pw"); /* NULL argument: the string's */
    assert_param(&p, "dbname", "shop");
    hpq_params_clear(&p);
}

static void from_setdb_takes_plain_arguments(void **state)
{
    (void)state;
    struct hpq_params p = {0};
    err[0] = '\0';
    assert_int_equal(hpq_params_from_setdb(&libpq, "h", "5432", "-c search_path=x", "shop", "u",
                                           "pw", &p, err, sizeof err),
                     0);
    assert_param(&p, "host", "h");
    assert_param(&p, "port", "5432");
    assert_param(&p, "options", "-c search_path=x");
    assert_param(&p, "dbname", "shop");
    assert_param(&p, "user", "u");
    assert_param(&p, "password", "pw");
    hpq_params_clear(&p);
}

/* ---- hpq_rewrite ------------------------------------------------------- */

#define HEROKU_URL "postgres://newuser:newpw@newhost.compute.amazonaws.com:5433/newdb"

static void rewrite_replaces_all_program_routing_with_url(void **state)
{
    (void)state;
    struct hpq_params out = {0};
    rewrite("host=oldhost hostaddr=10.0.0.1 port=1111 dbname=olddb user=olduser "
            "password=oldpw service=oldsvc passfile=/tmp/old.pgpass",
            HEROKU_URL, NULL, &out);
    assert_param(&out, "host", "newhost.compute.amazonaws.com");
    assert_param(&out, "port", "5433");
    assert_param(&out, "dbname", "newdb");
    assert_param(&out, "user", "newuser");
    assert_param(&out, "password", "newpw");
    assert_param(&out, "hostaddr", ""); /* the URL has none: pinned */
    assert_param(&out, "service", NULL);
    assert_param(&out, "passfile", NULL);
    hpq_params_clear(&out);
}

static void rewrite_keeps_program_non_routing_options(void **state)
{
    (void)state;
    struct hpq_params out = {0};
    rewrite("host=oldhost application_name=worker connect_timeout=7 "
            "options='-c statement_timeout=5s' keepalives=1 "
            "target_session_attrs=read-write sslrootcert=/etc/ssl/root.crt",
            HEROKU_URL, NULL, &out);
    assert_param(&out, "application_name", "worker");
    assert_param(&out, "connect_timeout", "7");
    assert_param(&out, "options", "-c statement_timeout=5s");
    assert_param(&out, "keepalives", "1");
    assert_param(&out, "target_session_attrs", "read-write");
    assert_param(&out, "sslrootcert", "/etc/ssl/root.crt");
    assert_param(&out, "host", "newhost.compute.amazonaws.com");
    hpq_params_clear(&out);
}

/* A config var names a database: its query parameters do not configure libpq
 * (defect 2: options= was injected into every session, sslrootcert= chose a
 * local file). */
static void rewrite_drops_url_query_params(void **state)
{
    (void)state;
    struct hpq_params out = {0};
    rewrite("host=oldhost application_name=worker",
            "postgres://u:p@newhost/newdb?connect_timeout=9&keepalives_idle=30"
            "&options=-c%20search_path%3Devil&sslrootcert=/tmp/x.crt&passfile=/tmp/pass"
            "&service=svc&hostaddr=10.0.0.9&ssl_min_protocol_version=TLSv1",
            NULL, &out);
    assert_param(&out, "connect_timeout", NULL);
    assert_param(&out, "keepalives_idle", NULL);
    assert_param(&out, "options", NULL);
    assert_param(&out, "sslrootcert", NULL);
    assert_param(&out, "passfile", NULL);
    assert_param(&out, "service", NULL);
    assert_param(&out, "ssl_min_protocol_version", NULL);
    assert_param(&out, "hostaddr", ""); /* pinned, not the URL's */
    assert_param(&out, "host", "newhost");
    assert_param(&out, "application_name", "worker");
    hpq_params_clear(&out);
}

/* Even a parameter set handed to hpq_rewrite directly: only routing and sslmode. */
static void rewrite_takes_only_routing_from_url_params(void **state)
{
    (void)state;
    struct hpq_params program = {0}, url = {0}, out = {0};
    hpq_params_set(&url, "host", "newhost");
    hpq_params_set(&url, "options", "-c search_path=evil");
    hpq_params_set(&url, "sslcert", "/tmp/c.crt");
    assert_int_equal(hpq_rewrite(&program, &url, NULL, &out), 0);
    assert_param(&out, "options", NULL);
    assert_param(&out, "sslcert", NULL);
    assert_param(&out, "host", "newhost");
    hpq_params_clear(&url);
    hpq_params_clear(&out);
}

static void url_parse_names_dropped_keys_never_values(void **state)
{
    (void)state;
    struct hpq_params p = {0};
    char dropped[256];
    assert_int_equal(hpq_url_parse_dropping(&libpq,
                                            "postgres://u:p@h/d?options=-c%20x%3Dsecretvalue"
                                            "&sslmode=verify-full&application_name=leak",
                                            &p, dropped, sizeof dropped, err, sizeof err),
                     0);
    assert_non_null(strstr(dropped, "options"));
    assert_non_null(strstr(dropped, "application_name"));
    assert_null(strstr(dropped, "secretvalue"));
    assert_null(strstr(dropped, "leak"));
    assert_null(strstr(dropped, "sslmode"));
    assert_param(&p, "sslmode", "verify-full");
    assert_param(&p, "options", NULL);
    assert_int_equal(p.n, 5); /* user, password, dbname, host, sslmode: nothing else */
    hpq_params_clear(&p);
}

static void url_parse_without_query_drops_nothing(void **state)
{
    (void)state;
    struct hpq_params p = {0};
    char dropped[64] = "junk";
    assert_int_equal(hpq_url_parse_dropping(&libpq, HEROKU_URL, &p, dropped, sizeof dropped, err,
                                            sizeof err),
                     0);
    assert_string_equal(dropped, "");
    hpq_params_clear(&p);
}

static void rewrite_pins_routing_keys_the_url_lacks_to_empty(void **state)
{
    (void)state;
    struct hpq_params out = {0};
    /* A program with no routing at all: PG* variables would fill the gaps. */
    rewrite("application_name=worker", "postgres://newhost", NULL, &out);
    assert_param(&out, "host", "newhost");
    assert_param(&out, "hostaddr", "");
    assert_param(&out, "port", "");
    assert_param(&out, "dbname", "");
    assert_param(&out, "user", "");
    assert_param(&out, "password", "");
    hpq_params_clear(&out);
}

/* The sslmode floor: the strongest of require, the program's (else
 * PGSSLMODE's) and the URL's. The cases differ only in data. */
static const struct sslmode_case {
    const char *program, *url_query, *env, *want;
} sslmode_cases[] = {
    {"host=oldhost sslmode=disable", "", NULL, "require"},
    {"host=oldhost sslmode=prefer", "", NULL, "require"},
    {"host=oldhost", "", NULL, "require"},                         /* nobody sets it */
    {"host=oldhost sslmode=verify-full", "", NULL, "verify-full"}, /* the program's, stronger */
    {"host=oldhost sslmode=require", "?sslmode=verify-ca", NULL, "verify-ca"}, /* the URL's */
    {"host=oldhost", "", "verify-full", "verify-full"},   /* PGSSLMODE when the program sets none */
    {"host=oldhost sslmode=require", "", "verify-full", "require"}, /* the program beats env */
};

static void rewrite_sslmode_floor_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof sslmode_cases / sizeof sslmode_cases[0]; i++) {
        const struct sslmode_case *c = &sslmode_cases[i];
        char url[256];
        snprintf(url, sizeof url, "%s%s", HEROKU_URL, c->url_query);
        struct hpq_params out = {0};
        rewrite(c->program, url, c->env, &out);
        const char *got = hpq_params_get(&out, "sslmode");
        if (!got || strcmp(got, c->want) != 0)
            fail_msg("case %zu (%s, URL%s, PGSSLMODE=%s): sslmode %s, want %s", i, c->program,
                     c->url_query, c->env ? c->env : "unset", got ? got : "absent", c->want);
        hpq_params_clear(&out);
    }
}

static void rewrite_without_url_keeps_program_routing_with_ssl(void **state)
{
    (void)state;
    struct hpq_params out = {0};
    rewrite("host=oldhost port=1111 dbname=olddb user=olduser password=oldpw "
            "sslmode=disable application_name=worker",
            NULL, NULL, &out);
    assert_param(&out, "host", "oldhost");
    assert_param(&out, "port", "1111");
    assert_param(&out, "dbname", "olddb");
    assert_param(&out, "user", "olduser");
    assert_param(&out, "password", "oldpw");
    assert_param(&out, "application_name", "worker");
    assert_param(&out, "sslmode", "require");
    assert_param(&out, "hostaddr", NULL); /* nothing pinned without a URL */
    hpq_params_clear(&out);
}

static void rewrite_result_is_a_conninfo_libpq_accepts(void **state)
{
    (void)state;
    struct hpq_params out = {0};
    rewrite("host=oldhost application_name='my worker'", HEROKU_URL, NULL, &out);
    char *conninfo = hpq_params_to_conninfo(&out);
    assert_non_null(conninfo);
    struct hpq_params back = {0};
    from_conninfo(conninfo, &back);
    assert_int_equal(back.n, out.n);
    for (unsigned i = 0; i < out.n; i++)
        assert_param(&back, out.p[i].key, out.p[i].val);
    free(conninfo);
    hpq_params_clear(&back);
    hpq_params_clear(&out);
}

/* ---- hpq_sslmode_max --------------------------------------------------- */

static void sslmode_max_picks_the_stronger(void **state)
{
    (void)state;
    assert_string_equal(hpq_sslmode_max("require", "verify-ca"), "verify-ca");
    assert_string_equal(hpq_sslmode_max("verify-full", "verify-ca"), "verify-full");
    assert_string_equal(hpq_sslmode_max("disable", "allow"), "allow");
    assert_string_equal(hpq_sslmode_max("prefer", "allow"), "prefer");
    assert_string_equal(hpq_sslmode_max("require", "prefer"), "require");
}

static void sslmode_max_ranks_unknown_and_null_below_disable(void **state)
{
    (void)state;
    assert_string_equal(hpq_sslmode_max("bogus", "disable"), "disable");
    assert_string_equal(hpq_sslmode_max("require", "bogus"), "require");
    assert_string_equal(hpq_sslmode_max("require", NULL), "require");
    assert_string_equal(hpq_sslmode_max(NULL, "disable"), "disable");
}

/* ---- hpq_url_parse ----------------------------------------------------- */

static void url_parse_accepts_postgres_scheme(void **state)
{
    (void)state;
    struct hpq_params p = {0};
    from_url("postgres://u:p@h.example:5432/d", &p);
    assert_param(&p, "host", "h.example");
    assert_param(&p, "user", "u");
    hpq_params_clear(&p);
}

static void url_parse_accepts_postgresql_scheme(void **state)
{
    (void)state;
    struct hpq_params p = {0};
    from_url("postgresql://u:p@h.example/d", &p);
    assert_param(&p, "host", "h.example");
    assert_param(&p, "dbname", "d");
    hpq_params_clear(&p);
}

static void assert_url_rejected(const char *url)
{
    struct hpq_params p = {0};
    err[0] = '\0';
    assert_int_equal(hpq_url_parse(&libpq, url, &p, err, sizeof err), -1);
    assert_true(strlen(err) > 0);
    assert_int_equal(p.n, 0);
}

static void url_parse_rejects_mysql_url(void **state)
{
    (void)state;
    assert_url_rejected("mysql://u:p@h.example/d");
}

static void url_parse_rejects_empty_string(void **state)
{
    (void)state;
    assert_url_rejected("");
}

static void url_parse_rejects_url_without_host(void **state)
{
    (void)state;
    assert_url_rejected("postgres:///d");
    assert_non_null(strstr(err, "host"));
}

/* Defect 1: libpq never uses SSL on a Unix-domain socket (sslmode=require is
 * ignored there), so a URL naming one would send the credentials to whatever
 * local server listens, in clear. Every spelling libpq takes as a socket. */
static void url_parse_rejects_unix_socket_hosts(void **state)
{
    (void)state;
    static const char *const urls[] = {
        "postgres://u:p@%2Ftmp%2Fdir:5432/db",     /* percent-encoded path */
        "postgres://u:p@%2fvar%2frun%2fpostgresql/db",
        "postgres://u:p@h.example/db?host=/tmp/dir", /* query host */
        "postgres://u:p@h.example/db?host=%2Ftmp",
        "postgres://u:p@%40abstract/db",               /* abstract socket */
        "postgres://u:p@h1.example,%2Ftmp/db",         /* one element of a list */
        "postgres://u:p@h1.example:1,:2/db",           /* empty element: the default socket */
        "postgres://u:p@,h1.example/db",
        "postgres://u:p@h/db?host=h1,,h2",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        struct hpq_params p = {0};
        err[0] = '\0';
        if (hpq_url_parse(&libpq, urls[i], &p, err, sizeof err) != -1)
            fail_msg("accepted %s", urls[i]);
        assert_non_null(strstr(err, "Unix-domain socket"));
        assert_null(strstr(err, ":p@"));
        assert_int_equal(p.n, 0);
    }
}

static void url_parse_accepts_tcp_host_lists(void **state)
{
    (void)state;
    struct hpq_params p = {0};
    from_url("postgres://u:p@h1.example:5432,h2.example:5433,[::1]:5434/db", &p);
    assert_param(&p, "host", "h1.example,h2.example,::1");
    hpq_params_clear(&p);
}

static void hosts_have_socket_checks_every_element(void **state)
{
    (void)state;
    assert_false(hpq_hosts_have_socket("a.example"));
    assert_false(hpq_hosts_have_socket("a.example,b.example,127.0.0.1"));
    assert_true(hpq_hosts_have_socket("/tmp"));
    assert_true(hpq_hosts_have_socket("a,/tmp"));
    assert_true(hpq_hosts_have_socket("a,@x"));
    assert_true(hpq_hosts_have_socket("a,"));
    assert_true(hpq_hosts_have_socket(""));
}

/* ---- hpq_tls_floor ----------------------------------------------------- */

static void tls_floor(const char *program_conninfo, const char *env_min, const char *want)
{
    struct hpq_params program = {0}, out = {0};
    from_conninfo(program_conninfo, &program);
    assert_int_equal(hpq_tls_floor(&program, env_min, &out), 0);
    assert_param(&out, "ssl_min_protocol_version", want);
    hpq_params_clear(&program);
    hpq_params_clear(&out);
}

static void tls_floor_is_tls12_by_default(void **state)
{
    (void)state;
    tls_floor("host=h", NULL, "TLSv1.2");
}

static void tls_floor_raises_a_weaker_program_value(void **state)
{
    (void)state;
    tls_floor("host=h ssl_min_protocol_version=TLSv1", NULL, "TLSv1.2");
    tls_floor("host=h ssl_min_protocol_version=TLSv1.1", NULL, "TLSv1.2");
    tls_floor("host=h", "TLSv1", "TLSv1.2");
}

static void tls_floor_keeps_a_stronger_program_or_env_value(void **state)
{
    (void)state;
    tls_floor("host=h ssl_min_protocol_version=TLSv1.3", NULL, "TLSv1.3");
    tls_floor("host=h", "TLSv1.3", "TLSv1.3");
    tls_floor("host=h ssl_min_protocol_version=TLSv1.2", "TLSv1.3", "TLSv1.2"); /* program wins */
}

/* connect.c logs hpq_url_parse's reason at ERROR, before the password is
 * registered as a secret; libpq's reason for a bad %-escape quotes the
 * password verbatim ('invalid percent-encoded token: "s3cret%zz"'). */
static void url_parse_error_does_not_contain_the_password(void **state)
{
    (void)state;
    assert_url_rejected("postgres://u:s3cret%zz@h.example/d");
    if (strstr(err, "s3cret"))
        fail_msg("the reason holds the password: %s", err);
}

/* ---- hpq_is_target ----------------------------------------------------- */

static char target_name[] = "heroku";

static bool is_target(bool all, const char *program_conninfo, const char *env_pghost)
{
    struct hpq_config cfg = {.target_all = all, .n_targets = all ? 0 : 1};
    if (!all)
        cfg.targets[0] = target_name;
    struct hpq_params program = {0};
    from_conninfo(program_conninfo, &program);
    bool hit = hpq_is_target(&cfg, &program, env_pghost);
    hpq_params_clear(&program);
    return hit;
}

/* Which connections are targets: HEROKUPQ_TARGET=all, or the host list
 * {"heroku"}. The cases differ only in data. */
static const struct target_case {
    bool all;
    const char *program, *pghost;
    bool want;
} target_cases[] = {
    {true, "host=anything.example", NULL, true}, /* all takes every connection */
    {true, "", NULL, true},
    {false, "host=heroku dbname=d", NULL, true},  /* a listed host */
    {false, "host=a,heroku", NULL, true},         /* one of a host list */
    {false, "host=other", "heroku", false},       /* an unlisted host, whatever PGHOST says */
    {false, "dbname=d", "heroku", true},          /* no host: PGHOST decides */
    {false, "dbname=d", "other", false},
    {false, "dbname=d", NULL, false},
    {false, "host=HeRoKu", NULL, true},           /* host names ignore case */
};

static void is_target_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof target_cases / sizeof target_cases[0]; i++) {
        const struct target_case *c = &target_cases[i];
        if (is_target(c->all, c->program, c->pghost) != c->want)
            fail_msg("case %zu (all=%d, '%s', PGHOST=%s): want %s", i, c->all, c->program,
                     c->pghost ? c->pghost : "unset", c->want ? "a target" : "not a target");
    }
}

/* ---- hpq_params_to_conninfo ------------------------------------------- */

static void to_conninfo_password_with_quotes_and_backslashes_round_trips(void **state)
{
    (void)state;
    static const char password[] = " a b'c\\d\\'e'' \\\\ f ";
    struct hpq_params p = {0};
    assert_int_equal(hpq_params_set(&p, "host", "h"), 0);
    assert_int_equal(hpq_params_set(&p, "password", password), 0);
    assert_int_equal(hpq_params_set(&p, "user", "u"), 0);
    char *conninfo = hpq_params_to_conninfo(&p);
    assert_non_null(conninfo);

    struct hpq_params back = {0};
    from_conninfo(conninfo, &back);
    assert_param(&back, "password", password);
    assert_param(&back, "host", "h");
    assert_param(&back, "user", "u");
    free(conninfo);
    hpq_params_clear(&back);
    hpq_params_clear(&p);
}

static void to_conninfo_writes_empty_values_as_quotes(void **state)
{
    (void)state;
    struct hpq_params p = {0};
    assert_int_equal(hpq_params_set(&p, "host", "h"), 0);
    assert_int_equal(hpq_params_set(&p, "port", ""), 0);
    char *conninfo = hpq_params_to_conninfo(&p);
    assert_non_null(conninfo);
    assert_non_null(strstr(conninfo, "port=''"));

    struct hpq_params back = {0};
    from_conninfo(conninfo, &back);
    assert_param(&back, "port", "");
    free(conninfo);
    hpq_params_clear(&back);
    hpq_params_clear(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(from_conninfo_reads_keyword_value_string),
        cmocka_unit_test(from_conninfo_reads_postgres_url),
        cmocka_unit_test(from_conninfo_reads_url_query_params),
        cmocka_unit_test(from_conninfo_decodes_percent_encoded_password),
        cmocka_unit_test(from_conninfo_rejects_unknown_keyword_with_message),
        cmocka_unit_test(from_arrays_later_values_win),
        cmocka_unit_test(from_arrays_ignores_null_and_empty_values),
        cmocka_unit_test(from_arrays_expands_url_dbname),
        cmocka_unit_test(from_arrays_keywords_after_expanded_dbname_override_it),
        cmocka_unit_test(from_arrays_keywords_before_expanded_dbname_are_overridden),
        cmocka_unit_test(from_arrays_without_expand_keeps_dbname_with_equals_literally),
        cmocka_unit_test(from_arrays_expand_keeps_plain_dbname),
        cmocka_unit_test(from_arrays_expands_only_the_first_dbname_as_libpq_does),
        cmocka_unit_test(from_setdb_expands_dbname_then_arguments_override),
        cmocka_unit_test(from_setdb_takes_plain_arguments),
        cmocka_unit_test(rewrite_replaces_all_program_routing_with_url),
        cmocka_unit_test(rewrite_keeps_program_non_routing_options),
        cmocka_unit_test(rewrite_drops_url_query_params),
        cmocka_unit_test(rewrite_takes_only_routing_from_url_params),
        cmocka_unit_test(url_parse_names_dropped_keys_never_values),
        cmocka_unit_test(url_parse_without_query_drops_nothing),
        cmocka_unit_test(url_parse_rejects_unix_socket_hosts),
        cmocka_unit_test(url_parse_accepts_tcp_host_lists),
        cmocka_unit_test(hosts_have_socket_checks_every_element),
        cmocka_unit_test(tls_floor_is_tls12_by_default),
        cmocka_unit_test(tls_floor_raises_a_weaker_program_value),
        cmocka_unit_test(tls_floor_keeps_a_stronger_program_or_env_value),
        cmocka_unit_test(rewrite_pins_routing_keys_the_url_lacks_to_empty),
        cmocka_unit_test(rewrite_sslmode_floor_table),
        cmocka_unit_test(rewrite_without_url_keeps_program_routing_with_ssl),
        cmocka_unit_test(rewrite_result_is_a_conninfo_libpq_accepts),
        cmocka_unit_test(sslmode_max_picks_the_stronger),
        cmocka_unit_test(sslmode_max_ranks_unknown_and_null_below_disable),
        cmocka_unit_test(url_parse_accepts_postgres_scheme),
        cmocka_unit_test(url_parse_accepts_postgresql_scheme),
        cmocka_unit_test(url_parse_rejects_mysql_url),
        cmocka_unit_test(url_parse_rejects_empty_string),
        cmocka_unit_test(url_parse_rejects_url_without_host),
        cmocka_unit_test(url_parse_error_does_not_contain_the_password),
        cmocka_unit_test(is_target_table),
        cmocka_unit_test(to_conninfo_password_with_quotes_and_backslashes_round_trips),
        cmocka_unit_test(to_conninfo_writes_empty_values_as_quotes),
    };
    return cmocka_run_group_tests_name("rewrite", tests, NULL, NULL);
}
