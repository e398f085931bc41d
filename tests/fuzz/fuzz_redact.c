/* fuzz_redact.c — what reaches stderr: any line × any set of secrets.
 *
 * Input: SECRET \0 SECRET \0 ... \0 TEMPLATE. Every secret is registered
 * (hpq_log_secret, the first one first, as the token is), then the template
 * becomes a line: byte 0x01+k puts secret k there as it is, byte 0x10+k puts
 * it quoted for a conninfo (the way hpq_params_to_conninfo writes values:
 * '\' before ' and \), k < 8. The line is logged twice, as the shim logs
 * text: as it is (every secret in it as it is: the shim logs connection
 * strings only after redacting them), and through hpq_log_shown(hpq_redact,
 * ...), as connection strings and URLs are.
 *
 * The property (issue 7): in what reaches stderr, prefix included,
 *   - no secret of 4 characters or more appears;
 *   - no 4-character run of a secret longer than 4 appears, unless the same
 *     run is innocent text: the template's own text run on from the line
 *     prefix, or what the redactor makes of that text (each secret a
 *     placeholder), or the phrase it writes for a text it will not show.
 * Runs are compared without quotes and backslashes (the redactor writes them
 * around and inside values it re-quotes, and they would form runs with the
 * text beside them), and runs holding the mask's '*' are not checked (the
 * mask beside template text can form them). The line's final newline is the
 * logger's, not text. A secret shorter than 4 counts as template text (log.h:
 * it is masked only as a whole word): secrets of 1–3 characters cannot be kept
 * out of innocent text, and are not checked here. */
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

static const char *const prefixes[] = {"", "herokupq: error: ", "herokupq: warn: ",
                                       "herokupq: info: ", "herokupq: debug: "};

/* What hpq_redact writes instead of a text it will not show, after the prefix. */
static void add_redact_phrase(void)
{
    char buf[256];
    literal_len += (size_t)snprintf(literal + literal_len, sizeof literal - literal_len, "%c%s%s",
                                    '\0', prefixes[level], hpq_redact("'", buf, sizeof buf));
}

/* What the redactor makes of the template's own text (each long secret a
 * placeholder byte, 0x7f): the quotes and masks it writes beside that text are
 * not the secret's. from: where the template's text starts in literal. */
static void add_redacted_template(size_t from)
{
    static char text[MAX_LINE + 1], shown[MAX_LINE];
    size_t n = literal_len - from < MAX_LINE ? literal_len - from : MAX_LINE;
    for (size_t i = 0; i < n; i++)
        text[i] = literal[from + i] ? literal[from + i] : '\x7f';
    text[n] = '\0';
    size_t m = strlen(hpq_redact(text, shown, sizeof shown));
    if (literal_len + m + 32 + 1 >= sizeof literal)
        return;
    literal_len += (size_t)snprintf(literal + literal_len, sizeof literal - literal_len, "%c%s",
                                    '\0', prefixes[level]);
    for (size_t i = 0; i < m; i++)
        literal[literal_len++] = shown[i] == '\x7f' ? '\0' : shown[i];
}

/* The line from the template (quoted: whether 0x10+k quotes); the template's
 * own text into literal. */
static void expand(const char *tpl, int quoted)
{
    size_t w = 0;
    /* The prefix runs on into the template's text, as in the line logged. */
    literal_len = (size_t)snprintf(literal, sizeof literal, "%s", prefixes[level]);
    size_t text_from = literal_len;
    for (const char *p = tpl; *p && w < MAX_LINE && literal_len + 8 < sizeof literal - 512; p++) {
        unsigned char c = (unsigned char)*p;
        unsigned k = c >= 0x10 ? c - 0x10u : c - 0x01u;
        if (c >= 0x01 && c < 0x18 && (c < 0x09 || c >= 0x10) && k < n_secrets) {
            size_t n = 0;
            if (strlen(secrets[k]) * 2 < sizeof line - w)
                n = put_secret(line + w, secrets[k], quoted && c >= 0x10);
            /* A short secret may show inside a word (log.h): as text of the template. */
            if (strlen(secrets[k]) < RUN)
                for (size_t i = 0; i < n; i++) /* its newlines folded, as logged */
                    literal[literal_len++] = line[w + i] == '\n' || line[w + i] == '\r' ? ' ' : line[w + i];
            else
                literal[literal_len++] = '\0';
            w += n;
        } else {
            line[w++] = (char)c;
            literal[literal_len++] = (c == '\n' || c == '\r') ? ' ' : (char)c; /* as logged */
        }
    }
    line[w] = '\0';
    add_redacted_template(text_from);
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
    hpq_log(level, "%s", hpq_log_shown(hpq_redact, line, buf, sizeof buf));
}

/* s[0..n) without the quotes and backslashes that the redactor writes around
 * and inside the values it re-quotes; returns the new length. */
static size_t unquoted(const char *s, size_t n, char *to)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\'' && s[i] != '\\')
            to[w++] = s[i];
    return w;
}

static void check(const char *out, const char *how)
{
    static char out_u[2 * MAX_LINE], lit_u[sizeof literal], sec_u[MAX_LINE];
    size_t out_len = strlen(out);
    if (out_len && out[out_len - 1] == '\n')
        out_len--; /* the line's end, which the logger writes: not the line's text */
    size_t out_ul = unquoted(out, out_len < sizeof out_u ? out_len : sizeof out_u, out_u);
    size_t lit_ul = unquoted(literal, literal_len, lit_u);
    for (unsigned k = 0; k < n_secrets; k++) {
        const char *s = secrets[k];
        size_t n = strlen(s);
        if (n < RUN)
            continue;
        if (!memchr(s, '*', n) && memmem(out, out_len, s, n))
            hpq_fuzz_fail("secret %u ('%s') shows %s: %s", k, s, how, out);
        size_t un = unquoted(s, n < sizeof sec_u ? n : sizeof sec_u, sec_u);
        for (size_t i = 0; un > RUN && i + RUN <= un; i++) {
            const char *run = sec_u + i;
            if (memchr(run, '*', RUN) || memmem(lit_u, lit_ul, run, RUN))
                continue;
            if (memmem(out_u, out_ul, run, RUN))
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
