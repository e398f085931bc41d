/* source_text.c — see source_text.h. Pure: no I/O, no global state. */
#include "source_text.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

char *hpq_url_from_text(const char *text, size_t len, const char *origin, char *err,
                        size_t errlen)
{
    size_t start = 0, end;
    while (start < len && blank(text[start]))
        start++;
    for (end = start; end < len && text[end] != '\n' && text[end] != '\0';)
        end++;
    while (end > start && blank(text[end - 1]))
        end--;
    if (end == start) {
        snprintf(err, errlen, "%s gave no database URL (empty)", origin);
        return NULL;
    }
    size_t n = end - start;
    if (!(n > 11 && strncmp(text + start, "postgres://", 11) == 0) &&
        !(n > 13 && strncmp(text + start, "postgresql://", 13) == 0)) {
        snprintf(err, errlen, "%s did not give a postgres:// URL", origin);
        return NULL;
    }
    char *url = strndup(text + start, n);
    if (!url)
        snprintf(err, errlen, "out of memory");
    return url;
}

/* One word from *p into *w (inside buf, bounded by bufend); quotes and
 * backslashes as a shell reads them. Returns false on an unclosed quote. */
static bool read_word(const char **p, char **w, const char *bufend)
{
    char quote = 0;
    for (; **p && (quote || !blank(**p)); (*p)++) {
        char c = **p;
        if (quote && c == quote) {
            quote = 0;
            continue;
        }
        if (!quote && (c == '\'' || c == '"')) {
            quote = c;
            continue;
        }
        if (c == '\\' && quote != '\'' && (*p)[1])
            c = *++(*p);
        if (*w < bufend)
            *(*w)++ = c;
    }
    return quote == 0;
}

int hpq_split_words(const char *line, char *buf, size_t buflen, char **argv, int max, char *err,
                    size_t errlen)
{
    const char *p = line;
    char *w = buf, *bufend = buf + buflen - 1;
    int n = 0;
    for (;;) {
        while (blank(*p))
            p++;
        if (!*p)
            break;
        if (n == max - 1 || w >= bufend) {
            snprintf(err, errlen, "the command is too long (at most %d words)", max - 1);
            return -1;
        }
        argv[n++] = w;
        if (!read_word(&p, &w, bufend)) {
            snprintf(err, errlen, "the command has an unclosed quote");
            return -1;
        }
        if (w >= bufend) {
            snprintf(err, errlen, "the command is too long");
            return -1;
        }
        *w++ = '\0';
    }
    argv[n] = NULL;
    if (n == 0)
        snprintf(err, errlen, "the command is empty");
    return n ? n : -1;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* s[0..n) percent-decoded into out (room for n + 1), as libpq decodes a URL's
 * parts; a '%' not followed by two hex digits is kept as it is. */
static void percent_decode(const char *s, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = i + 2 < n && s[i] == '%' ? hex_digit(s[i + 1]) : -1;
        int lo = hi >= 0 ? hex_digit(s[i + 2]) : -1;
        if (lo >= 0) {
            out[k++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = '\0';
}

/* s[0..n) to found, as it is and percent-decoded (when that differs). */
static void report(const char *s, size_t n, hpq_found_fn *found, void *ctx)
{
    char *both = n ? malloc(2 * n + 2) : NULL;
    if (!both)
        return;
    memcpy(both, s, n);
    both[n] = '\0';
    percent_decode(s, n, both + n + 1);
    found(both, ctx);
    if (strcmp(both, both + n + 1) != 0)
        found(both + n + 1, ctx);
    explicit_bzero(both, 2 * n + 2);
    free(both);
}

/* Whether the query key s[0..n), decoded, names a password. */
static bool password_key(const char *s, size_t n)
{
    char key[sizeof "sslpassword" * 3 + 1];
    if (n >= sizeof key)
        return false;
    percent_decode(s, n, key);
    return strcmp(key, "password") == 0 || strcmp(key, "sslpassword") == 0;
}

void hpq_url_passwords(const char *url, size_t len, hpq_found_fn *found, void *ctx)
{
    const char *end = url + len, *p = url;
    for (; p + 2 < end && !(p[0] == ':' && p[1] == '/' && p[2] == '/'); p++)
        ;
    if (p + 2 >= end)
        return;
    const char *auth = p + 3, *stop = auth, *last_at = NULL;
    for (; stop < end && *stop != '/'; stop++) /* libpq's user information ends before a '/' */
        if (*stop == '@')
            last_at = stop;
    const char *colon = last_at ? memchr(auth, ':', (size_t)(last_at - auth)) : NULL;
    if (colon) { /* libpq's password ends at the first '@'; up to the last one masks more */
        const char *first_at = memchr(colon, '@', (size_t)(last_at - colon) + 1);
        report(colon + 1, (size_t)(first_at - colon - 1), found, ctx);
        if (first_at != last_at)
            report(colon + 1, (size_t)(last_at - colon - 1), found, ctx);
    }
    const char *host = last_at ? last_at + 1 : auth;
    const char *q = memchr(host, '?', (size_t)(end - host));
    while (q && q < end) {
        const char *item = q + 1, *amp = memchr(item, '&', (size_t)(end - item));
        const char *item_end = amp ? amp : end;
        const char *eq = memchr(item, '=', (size_t)(item_end - item));
        if (eq && password_key(item, (size_t)(eq - item)))
            report(eq + 1, (size_t)(item_end - eq - 1), found, ctx);
        q = amp;
    }
}

void hpq_text_passwords(const char *text, size_t len, hpq_found_fn *found, void *ctx)
{
    for (size_t i = 0; i < len;) {
        while (i < len && (blank(text[i]) || text[i] == '\0'))
            i++;
        size_t start = i;
        while (i < len && !blank(text[i]) && text[i] != '\0')
            i++;
        if (i > start)
            hpq_url_passwords(text + start, i - start, found, ctx);
    }
}
