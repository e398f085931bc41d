/* fuzz_redact.c — what reaches stderr: any line × any set of secrets.
 *
 * Input: SECRET \0 SECRET \0 ... \0 TEMPLATE. Every secret is registered
 * (hpq_log_secret, the first one first, as the token is), then the template
 * becomes a line: byte 0x01+k puts secret k there as it is, byte 0x10+k puts
 * it quoted for a conninfo (the way hpq_params_to_conninfo writes values:
 * '\' before ' and \), k < 8. The line is logged twice, as the shim logs text:
 * as it is (every secret in it as it is: the shim logs connection strings only
 * through hpq_redact), and through hpq_redact (as connection strings and URLs
 * are).
 *
 * The property (issue 7): in what reaches stderr, prefix included,
 *   - no secret of 4 characters or more appears;
 *   - no 4-character run of a secret longer than 4 appears, unless the same
 *     run is in the template's own text or in the line prefix (where it says
 *     nothing about the secret).
 * Runs holding the mask's '*' are not checked (the mask beside template text
 * can form them), nor runs of what hpq_redact writes in place of a text it
 * cannot parse; a secret shorter than 4 counts as template text (log.h: it is
 * masked only as a whole word). Secrets of 1–3 characters are not checked here: they
 * cannot be kept out of innocent text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"

#define MAX_SECRETS (HPQ_FUZZ_MAX_PARTS - 1)
#define MAX_LINE 8192
#define RUN 4

static const char *secrets[MAX_SECRETS];
static unsigned n_secrets;
static char line[2 * MAX_LINE + 1];
static char literal[8 * MAX_LINE]; /* the template's own text, placeholders as NULs */
static size_t literal_len;
static enum hpq_level level;

static size_t put_secret(char *w, const char *s, int quoted)
{
    size_t n = 0;
    for (; *s; s++) {
        if (quoted && (*s == '\'' || *s == '\\'))
            w[n++] = '\\';
        w[n++] = *s;
    }
    return n;
}

/* What hpq_redact writes instead of a text it will not show. */
static void add_redact_phrase(void)
{
    char buf[256];
    literal_len += (size_t)snprintf(literal + literal_len, sizeof literal - literal_len, "%c%s",
                                    '\0', hpq_redact("'", buf, sizeof buf));
}

/* The line from the template (quoted: whether 0x10+k quotes); the template's
 * own text into literal. */
static void expand(const char *tpl, int quoted)
{
    size_t w = 0;
    literal_len = 0;
    for (const char *p = tpl; *p && w < MAX_LINE && literal_len + 8 < sizeof literal - 512; p++) {
        unsigned char c = (unsigned char)*p;
        unsigned k = c >= 0x10 ? c - 0x10u : c - 0x01u;
        if (c >= 0x01 && c < 0x18 && (c < 0x09 || c >= 0x10) && k < n_secrets) {
            size_t n = 0;
            if (strlen(secrets[k]) * 2 < sizeof line - w)
                n = put_secret(line + w, secrets[k], quoted && c >= 0x10);
            /* A short secret may show inside a word (log.h): as text of the template. */
            if (strlen(secrets[k]) < RUN)
                memcpy(literal + literal_len, line + w, n), literal_len += n;
            else
                literal[literal_len++] = '\0';
            w += n;
        } else {
            line[w++] = (char)c;
            literal[literal_len++] = (c == '\n' || c == '\r') ? ' ' : (char)c; /* as logged */
        }
    }
    line[w] = '\0';
    static const char *const prefixes[] = {"", "herokupq: error: ", "herokupq: warn: ",
                                           "herokupq: info: ", "herokupq: debug: "};
    literal_len += (size_t)snprintf(literal + literal_len, sizeof literal - literal_len, "%c%s",
                                    '\0', prefixes[level]);
    add_redact_phrase();
}

static void log_raw(void *arg)
{
    (void)arg;
    hpq_log(level, "%s", line);
}

static void log_redacted(void *arg)
{
    (void)arg;
    static char buf[MAX_LINE];
    hpq_log(level, "%s", hpq_redact(line, buf, sizeof buf));
}

static void check(const char *out, const char *how)
{
    for (unsigned k = 0; k < n_secrets; k++) {
        const char *s = secrets[k];
        size_t n = strlen(s);
        if (n < RUN)
            continue;
        if (!memchr(s, '*', n) && strstr(out, s))
            hpq_fuzz_fail("secret %u ('%s') shows %s: %s", k, s, how, out);
        for (size_t i = 0; n > RUN && i + RUN <= n; i++) {
            const char *run = s + i;
            if (memchr(run, '*', RUN) || memmem(literal, literal_len, run, RUN))
                continue;
            if (memmem(out, strlen(out), run, RUN))
                hpq_fuzz_fail("'%.4s' of secret %u ('%s') shows %s: %s", run, k, s, how, out);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *part[HPQ_FUZZ_MAX_PARTS];
    unsigned n = hpq_fuzz_split(data, size, part, HPQ_FUZZ_MAX_PARTS);
    n_secrets = n - 1;
    for (unsigned k = 0; k < n_secrets; k++) {
        secrets[k] = part[k];
        hpq_log_secret(part[k]);
    }
    const char *tpl = part[n - 1];
    level = (enum hpq_level)(HPQ_ERROR + (unsigned char)tpl[0] % 4);
    hpq_log_set_level(HPQ_DEBUG);
    expand(tpl, 0);
    check(hpq_fuzz_capture(log_raw, NULL), "in the line as logged");
    expand(tpl, 1);
    check(hpq_fuzz_capture(log_redacted, NULL), "in the redacted line");
    hpq_log_forget_secrets();
    return 0;
}
