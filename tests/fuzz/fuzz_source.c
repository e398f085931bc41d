/* fuzz_source.c — the config-vars answer parser (hpq_source_parse).
 *
 * Input: one byte choosing the HTTP status, then the body, as the API would
 * send it. Invariants: only a 200 gives a URL, and it is a postgres:// or
 * postgresql:// URL; otherwise the reason is a non-empty sentence that fits
 * its buffer. No crash, no leak, no undefined behaviour (the sanitizers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "source.h"

static const long statuses[] = {200, 200, 200, 200, 304, 401, 403, 404, 406, 429, 500, 503};

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n_statuses = sizeof statuses / sizeof statuses[0];
    long status = data[0] < n_statuses ? statuses[data[0]] : 100 + data[0];
    struct hpq_config cfg = {.enabled = true, .app = "fuzz-app", .config_var = "DATABASE_URL"};
    char err[512];
    memset(err, 'x', sizeof err); /* unterminated unless the parser writes a reason */
    char *url = hpq_source_parse(&cfg, cfg.config_var, status, (const char *)data + 1, size - 1,
                                 err, sizeof err);
    if (url) {
        if (status != 200)
            hpq_fuzz_fail("a URL from a %ld answer", status);
        if (!starts(url, "postgres://") && !starts(url, "postgresql://"))
            hpq_fuzz_fail("not a postgres URL: '%s'", url);
        free(url);
        return 0;
    }
    if (!memchr(err, '\0', sizeof err) || !err[0])
        hpq_fuzz_fail("no reason given for a %ld answer", status);
    return 0;
}
