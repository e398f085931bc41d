/* fuzz_rewrite.c — the program's parameters × the resolved URL.
 *
 * Input: PROGRAM_CONNINFO \0 URL [\0 PGSSLMODE]. Both go through the system
 * libpq's PQconninfoParse (hpq_params_from_conninfo, hpq_url_parse), then
 * hpq_rewrite (with the URL, or without it when it is refused: the fallback)
 * and hpq_params_to_conninfo. Invariants, on what libpq parses back from the
 * conninfo the shim would connect with:
 *   - it parses, and gives back every value exactly (the quoting is right);
 *   - sslmode is require, verify-ca or verify-full;
 *   - with a URL: where the program connects and as whom comes from the URL
 *     only (host, port, dbname, user, password: the URL's, else pinned to '');
 *     hostaddr, service and passfile never come from the program; every
 *     other program option is kept unless the URL sets it;
 *   - without one: the program's own parameters, only sslmode raised. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "parse.h"
#include "rewrite.h"

static const struct hpq_libpq libpq = {
    .conninfo_parse = PQconninfoParse,
    .conninfo_free = PQconninfoFree,
    .freemem = PQfreemem,
};

static const char *const pinned[] = {"host", "hostaddr", "port", "dbname", "user", "password"};
static const char *const routing[] = {"host",     "hostaddr", "port",    "dbname",
                                      "user",     "password", "service", "passfile"};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool listed(const char *key, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, list[i]) == 0)
            return true;
    return false;
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* What libpq reads back from the shim's conninfo, into back. */
static void parse_back(const struct hpq_params *out, struct hpq_params *back)
{
    char *conninfo = hpq_params_to_conninfo(out);
    if (!conninfo)
        hpq_fuzz_fail("hpq_params_to_conninfo: out of memory");
    char err[512];
    if (hpq_params_from_conninfo(&libpq, conninfo, back, err, sizeof err))
        hpq_fuzz_fail("libpq cannot parse the rewritten conninfo: %s", err);
    free(conninfo);
    for (unsigned i = 0; i < out->n; i++)
        if (!same(hpq_params_get(back, out->p[i].key), out->p[i].val))
            hpq_fuzz_fail("%s does not survive the conninfo", out->p[i].key);
}

static void check_sslmode(const struct hpq_params *back)
{
    const char *ssl = hpq_params_get(back, "sslmode");
    if (!ssl || (strcasecmp(ssl, "require") && strcasecmp(ssl, "verify-ca") &&
                 strcasecmp(ssl, "verify-full")))
        hpq_fuzz_fail("sslmode is '%s'", ssl ? ssl : "(unset)");
}

static void check_with_url(const struct hpq_params *program, const struct hpq_params *url,
                           const struct hpq_params *back)
{
    for (size_t i = 0; i < N_OF(pinned); i++) {
        const char *want = hpq_params_get(url, pinned[i]);
        if (!same(hpq_params_get(back, pinned[i]), want ? want : ""))
            hpq_fuzz_fail("%s is not the URL's (or pinned to '')", pinned[i]);
    }
    for (unsigned i = 0; i < back->n; i++) {
        const char *key = back->p[i].key, *val = back->p[i].val;
        if (strcmp(key, "sslmode") == 0 || listed(key, pinned, N_OF(pinned)))
            continue;
        const char *from_url = hpq_params_get(url, key);
        if (listed(key, routing, N_OF(routing)) ? !same(val, from_url)
                                                : !same(val, from_url ? from_url
                                                                      : hpq_params_get(program, key)))
            hpq_fuzz_fail("%s='%s' comes from neither the URL nor the program's options", key, val);
    }
    for (unsigned i = 0; i < program->n; i++) {
        const char *key = program->p[i].key;
        if (strcmp(key, "sslmode") && !listed(key, routing, N_OF(routing)) &&
            !hpq_params_get(back, key))
            hpq_fuzz_fail("the program's %s is lost", key);
    }
}

static void check_fallback(const struct hpq_params *program, const struct hpq_params *back)
{
    for (unsigned i = 0; i < program->n; i++)
        if (strcmp(program->p[i].key, "sslmode") &&
            !same(hpq_params_get(back, program->p[i].key), program->p[i].val))
            hpq_fuzz_fail("the fallback changed the program's %s", program->p[i].key);
    if (back->n != program->n + !hpq_params_get(program, "sslmode"))
        hpq_fuzz_fail("the fallback added parameters");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *part[3] = {"", "", NULL};
    unsigned n = hpq_fuzz_split(data, size, part, 3);
    struct hpq_params program = {0}, url = {0}, out = {0}, back = {0};
    char err[512];
    if (hpq_params_from_conninfo(&libpq, part[0], &program, err, sizeof err) == 0) {
        bool have_url = n > 1 && hpq_url_parse(&libpq, part[1], &url, err, sizeof err) == 0;
        if (hpq_rewrite(&program, have_url ? &url : NULL, n > 2 ? part[2] : NULL, &out))
            hpq_fuzz_fail("hpq_rewrite failed");
        parse_back(&out, &back);
        check_sslmode(&back);
        if (have_url)
            check_with_url(&program, &url, &back);
        else
            check_fallback(&program, &back);
    }
    hpq_params_clear(&program);
    hpq_params_clear(&url);
    hpq_params_clear(&out);
    hpq_params_clear(&back);
    return 0;
}
