/* log.c — see log.h. Lines are formatted, scrubbed, then written with one
 * write(2) so that lines from different threads never interleave. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HPQ_LINE_MAX 1024
#define HPQ_SECRETS_MAX 32
#define HPQ_MASK "********"

static enum hpq_level log_level = HPQ_WARN;
static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static char *secrets[HPQ_SECRETS_MAX];
static unsigned secrets_next; /* ring: the oldest secret is forgotten first */

static const char *const level_names[] = {"off", "error", "warn", "info", "debug"};

void hpq_log_set_level(enum hpq_level level) { log_level = level; }

int hpq_log_enabled(enum hpq_level level) { return level != HPQ_OFF && level <= log_level; }

void hpq_log_secret(const char *secret)
{
    if (!secret || !*secret)
        return;
    pthread_mutex_lock(&secrets_lock);
    for (unsigned i = 0; i < HPQ_SECRETS_MAX; i++) {
        if (secrets[i] && strcmp(secrets[i], secret) == 0) {
            pthread_mutex_unlock(&secrets_lock);
            return;
        }
    }
    char *copy = strdup(secret);
    if (copy) {
        unsigned slot = secrets_next++ % HPQ_SECRETS_MAX;
        free(secrets[slot]);
        secrets[slot] = copy;
    }
    pthread_mutex_unlock(&secrets_lock);
}

/* Replace every occurrence of secret in line (in place, bounded by cap). */
static void mask_one(char *line, size_t cap, const char *secret)
{
    size_t slen = strlen(secret), mlen = strlen(HPQ_MASK);
    char *hit = line;
    while ((hit = strstr(hit, secret)) != NULL) {
        size_t tail = strlen(hit + slen);
        if ((size_t)(hit - line) + mlen + tail + 1 > cap)
            tail = cap - (size_t)(hit - line) - mlen - 1;
        memmove(hit + mlen, hit + slen, tail);
        hit[mlen + tail] = '\0';
        memcpy(hit, HPQ_MASK, mlen);
        hit += mlen;
    }
}

static void scrub(char *line, size_t cap)
{
    pthread_mutex_lock(&secrets_lock);
    for (unsigned i = 0; i < HPQ_SECRETS_MAX; i++)
        if (secrets[i])
            mask_one(line, cap, secrets[i]);
    pthread_mutex_unlock(&secrets_lock);
}

/* Newlines (libpq messages end in one and may hold several lines) would split a
 * log entry; fold them so each entry stays one line. */
static void fold_newlines(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

void hpq_log(enum hpq_level level, const char *fmt, ...)
{
    if (!hpq_log_enabled(level))
        return;
    /* Room to grow: masks can be longer than short secrets. */
    char line[HPQ_LINE_MAX * 2];
    int n = snprintf(line, HPQ_LINE_MAX, "herokupq: %s: ", level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, HPQ_LINE_MAX - (size_t)n, fmt, ap);
    va_end(ap);
    fold_newlines(line);
    scrub(line, sizeof line - 1);
    size_t len = strlen(line);
    line[len++] = '\n';
    ssize_t rc = write(STDERR_FILENO, line, len);
    (void)rc; /* nothing sensible to do if stderr is closed */
}

/* Where the password sits in "scheme://user:password@host/...". */
static int url_password_span(const char *text, size_t *start, size_t *end)
{
    const char *scheme = strstr(text, "://");
    if (!scheme)
        return 0;
    const char *userinfo = scheme + 3;
    size_t hostpart = strcspn(userinfo, "/?#");
    const char *at = NULL;
    for (const char *p = userinfo; p < userinfo + hostpart; p++)
        if (*p == '@')
            at = p;
    const char *colon = at ? memchr(userinfo, ':', (size_t)(at - userinfo)) : NULL;
    if (!colon)
        return 0;
    *start = (size_t)(colon + 1 - text);
    *end = (size_t)(at - text);
    return 1;
}

/* Where the value sits in "password=value" (conninfo or URL query). */
static int keyword_password_span(const char *text, size_t *start, size_t *end)
{
    const char *key = strstr(text, "password=");
    if (!key)
        return 0;
    const char *val = key + strlen("password=");
    const char *p = val;
    if (*p == '\'') {
        for (p++; *p && *p != '\''; p++)
            if (*p == '\\' && p[1])
                p++;
        if (*p)
            p++;
    } else {
        p += strcspn(p, " \t\n&");
    }
    *start = (size_t)(val - text);
    *end = (size_t)(p - text);
    return 1;
}

static void mask_span(const char *text, char *buf, size_t buflen,
                      int (*find)(const char *, size_t *, size_t *))
{
    size_t start, end;
    if (find(text, &start, &end))
        snprintf(buf, buflen, "%.*s%s%s", (int)start, text, HPQ_MASK, text + end);
    else
        snprintf(buf, buflen, "%s", text);
}

/* Purely textual, so it also works on input libpq would reject, which is
 * exactly what gets logged. */
const char *hpq_redact(const char *text, char *buf, unsigned long buflen)
{
    if (!text)
        return "(null)";
    char tmp[HPQ_LINE_MAX];
    mask_span(text, tmp, sizeof tmp, url_password_span);
    mask_span(tmp, buf, buflen, keyword_password_span);
    return buf;
}
