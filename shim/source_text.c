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
