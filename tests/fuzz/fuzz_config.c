/* fuzz_config.c — the configuration parser (hpq_config_parse), with a fake
 * getenv built from the input.
 *
 * Input: the values of the variables below, in that order, separated by NUL
 * bytes (an empty or missing value is an unset variable). Invariants: the
 * shim is on exactly when HEROKUPQ_DISABLE is unset or 0 and either
 * HEROKU_APP is set or HEROKUPQ_SOURCE names a file or a command
 * (file:PATH, exec:COMMAND, each non-empty), whose kind and argument the
 * configuration holds; numbers are the variable's value when it is a whole number in range,
 * else the default; the API is an http(s) URL without a trailing slash (or
 * none: HEROKU_HOST refused); the
 * target list holds only trimmed, non-empty names; no log line shows the
 * token. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "log.h"

static const char *const names[] = {
    "HEROKU_APP",        "HEROKUPQ_DISABLE", "HEROKU_HOST",       "HEROKU_API_KEY",
    "NETRC",             "HEROKUPQ_CONFIG_VAR", "HEROKUPQ_CAFILE", "HEROKUPQ_TTL",
    "HEROKUPQ_RETRY_MS", "HEROKUPQ_API_TIMEOUT_MS", "HEROKUPQ_STRICT", "HEROKUPQ_ASYNC",
    "HEROKUPQ_TARGET",   "HEROKUPQ_LOG",     "HEROKUPQ_CACHE_DIR", "XDG_RUNTIME_DIR",
    "HEROKUPQ_SOURCE",
};
#define N_NAMES (sizeof names / sizeof names[0])

static const char *values[N_NAMES];

static const char *fake_getenv(const char *name)
{
    for (unsigned i = 0; i < N_NAMES; i++)
        if (strcmp(name, names[i]) == 0)
            return values[i];
    hpq_fuzz_fail("the configuration reads %s, which the fuzz target does not know", name);
}

static const char *value_of(const char *name)
{
    const char *v = fake_getenv(name);
    return v && *v ? v : NULL;
}

static struct hpq_config cfg;

static void parse(void *arg)
{
    (void)arg;
    hpq_config_parse(&cfg, fake_getenv);
}

/* The documented rule for a number: the value if it is a whole number from
 * min to max, else the default. */
static void check_number(const char *name, long got, long dflt, long min, long max)
{
    const char *v = value_of(name);
    long want = dflt;
    if (v) {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (!errno && !*end && n >= min && n <= max)
            want = n;
    }
    if (got != want)
        hpq_fuzz_fail("%s=%s gives %ld, not %ld", name, v ? v : "(unset)", got, want);
}

static void check_targets(void)
{
    const char *v = value_of("HEROKUPQ_TARGET");
    if (cfg.target_all != (!v || strcmp(v, "all") == 0))
        hpq_fuzz_fail("HEROKUPQ_TARGET=%s: target_all is %d", v ? v : "(unset)", cfg.target_all);
    if (cfg.n_targets > HPQ_MAX_TARGETS)
        hpq_fuzz_fail("%u targets", cfg.n_targets);
    for (unsigned i = 0; i < cfg.n_targets; i++) {
        const char *t = cfg.targets[i];
        size_t n = t ? strlen(t) : 0;
        if (!n || strchr(t, ',') || strchr(" \t", t[0]) || strchr(" \t", t[n - 1]))
            hpq_fuzz_fail("target '%s' is empty, untrimmed or holds a comma", t ? t : "(null)");
    }
}

static void check_enabled(void)
{
    check_number("HEROKUPQ_TTL", cfg.ttl_s, 3600, 0, 7L * 24 * 3600);
    check_number("HEROKUPQ_RETRY_MS", cfg.retry_ms, 10000, 0, 600000);
    check_number("HEROKUPQ_API_TIMEOUT_MS", cfg.api_timeout_ms, 10000, 100, 120000);
    const char *api = cfg.api_url;
    /* "https://" alone leaves "https:": not a URL, which the API client reports. */
    if (api && (strncmp(api, "http", 4) || api[strlen(api) - 1] == '/'))
        hpq_fuzz_fail("the API URL is '%s'", api ? api : "(null)");
    const char *app = value_of("HEROKU_APP");
    if (app ? !cfg.app || strcmp(cfg.app, app) : cfg.app != NULL)
        hpq_fuzz_fail("the app is not HEROKU_APP");
    if (!cfg.config_var || !*cfg.config_var)
        hpq_fuzz_fail("no config var");
    check_targets();
}

/* The token never shows within a logged line. Lines are folded (a line break
 * inside a message becomes a blank) and end with their own line break, which
 * is not message text: the token is looked for, folded, in each line (a token
 * "complete\n" is not shown by a line ending "using complete"). */
static void check_log(const char *log)
{
    const char *token = value_of("HEROKU_API_KEY");
    /* A token holding '*' can match the mask "********" that replaced it. */
    if (!token || strlen(token) < 4 || strchr(token, '*'))
        return;
    char folded[4096];
    snprintf(folded, sizeof folded, "%s", token);
    for (char *c = folded; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    size_t n = strlen(folded);
    for (const char *line = log; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        for (size_t i = 0; i + n <= len; i++)
            if (memcmp(line + i, folded, n) == 0)
                hpq_fuzz_fail("the token shows in the log: %.*s", (int)len, line);
        line += len + (end != NULL);
    }
}

/* The source HEROKUPQ_SOURCE names (file:PATH, exec:COMMAND), with its
 * argument in *arg; HPQ_SOURCE_HEROKU for anything else. */
static enum hpq_source_kind named_source(const char **arg)
{
    const char *v = value_of("HEROKUPQ_SOURCE");
    *arg = NULL;
    if (v && (strncmp(v, "file:", 5) == 0 || strncmp(v, "exec:", 5) == 0) && v[5]) {
        *arg = v + 5;
        return v[0] == 'f' ? HPQ_SOURCE_FILE : HPQ_SOURCE_EXEC;
    }
    return HPQ_SOURCE_HEROKU;
}

static void check_source(void)
{
    const char *arg;
    enum hpq_source_kind kind = named_source(&arg);
    if (cfg.source != kind)
        hpq_fuzz_fail("HEROKUPQ_SOURCE gives source %d, not %d", (int)cfg.source, (int)kind);
    if (arg && (!cfg.source_arg || strcmp(cfg.source_arg, arg)))
        hpq_fuzz_fail("HEROKUPQ_SOURCE's argument is not kept");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned n = hpq_fuzz_split(data, size, values, N_NAMES);
    for (unsigned i = n; i < N_NAMES; i++)
        values[i] = NULL;
    const char *log = hpq_fuzz_capture(parse, NULL);
    const char *disable = value_of("HEROKUPQ_DISABLE");
    const char *arg;
    bool enabled = (value_of("HEROKU_APP") || named_source(&arg) != HPQ_SOURCE_HEROKU) &&
                   (!disable || strcmp(disable, "0") == 0);
    if (cfg.enabled != enabled)
        hpq_fuzz_fail("enabled is %d", cfg.enabled);
    if (enabled) {
        check_enabled();
        check_source();
    }
    check_log(log);
    hpq_config_release(&cfg);
    hpq_log_forget_secrets();
    return 0;
}
