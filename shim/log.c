/* log.c — see log.h. Lines are formatted, scrubbed, then written with one
 * write(2) so that lines from different threads never interleave. */
#include "log.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HPQ_LINE_MAX 1024 /* a longer line is cut, after scrubbing */
#define HPQ_SECRETS_MAX 32
#define HPQ_MASK "********"

static enum hpq_level log_level = HPQ_WARN;
static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static char *secrets[HPQ_SECRETS_MAX];
static unsigned secrets_next; /* ring: the oldest secret is forgotten first */

static const char *const level_names[] = {"off", "error", "warn", "info", "debug"};

void hpq_log_set_level(enum hpq_level level) { log_level = level; }

int hpq_log_enabled(enum hpq_level level) { return level != HPQ_OFF && level <= log_level; }

void hpq_log_lock(void) { pthread_mutex_lock(&secrets_lock); }
void hpq_log_unlock(void) { pthread_mutex_unlock(&secrets_lock); }

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

void hpq_log_forget_secrets(void)
{
    pthread_mutex_lock(&secrets_lock);
    for (unsigned i = 0; i < HPQ_SECRETS_MAX; i++) {
        if (secrets[i])
            explicit_bzero(secrets[i], strlen(secrets[i]));
        free(secrets[i]);
        secrets[i] = NULL;
    }
    secrets_next = 0;
    pthread_mutex_unlock(&secrets_lock);
}

/* The longest registered secret that starts at p, or 0. Caller holds the lock. */
static size_t secret_at(const char *p)
{
    size_t best = 0;
    for (unsigned i = 0; i < HPQ_SECRETS_MAX; i++) {
        size_t n = secrets[i] ? strlen(secrets[i]) : 0;
        if (n > best && strncmp(p, secrets[i], n) == 0)
            best = n;
    }
    return best;
}

/* Copy line into out (at most cap bytes with the NUL), every secret masked.
 * The whole line is scrubbed before anything is cut, so a secret can never
 * show in part. */
static void scrub(const char *line, char *out, size_t cap)
{
    size_t w = 0, mlen = strlen(HPQ_MASK);
    pthread_mutex_lock(&secrets_lock);
    for (const char *p = line; *p && w + 1 < cap;) {
        size_t n = secret_at(p);
        if (n) {
            size_t room = cap - 1 - w;
            memcpy(out + w, HPQ_MASK, mlen < room ? mlen : room);
            w += mlen < room ? mlen : room;
            p += n;
        } else {
            out[w++] = *p++;
        }
    }
    pthread_mutex_unlock(&secrets_lock);
    out[w] = '\0';
}

void hpq_log_scrub(const char *text, char *out, unsigned long cap)
{
    if (cap)
        scrub(text ? text : "", out, cap);
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

void hpq_log_line(enum hpq_level level, const char *fmt, ...)
{
    if (!hpq_log_enabled(level))
        return;
    char *message = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&message, fmt, ap);
    va_end(ap);
    if (rc < 0)
        return; /* out of memory: drop the line rather than risk anything */
    char line[HPQ_LINE_MAX + 1];
    int n = snprintf(line, sizeof line, "herokupq: %s: ", level_names[level]);
    scrub(message, line + n, sizeof line - 1 - (size_t)n);
    free(message);
    fold_newlines(line);
    size_t len = strlen(line);
    line[len++] = '\n';
    ssize_t written = write(STDERR_FILENO, line, len);
    (void)written; /* nothing sensible to do if stderr is closed */
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

/* Where the next password value sits after *from: "password" or
 * "sslpassword" as a whole keyword, blanks allowed around '=' as libpq allows,
 * the value quoted or bare (ending at a blank or, in a URL query, at '&'). */
static int keyword_password_span(const char *text, size_t from, size_t *start, size_t *end)
{
    for (const char *key = strstr(text + from, "password"); key;
         key = strstr(key + 1, "password")) {
        const char *kstart = key >= text + 3 && strncmp(key - 3, "ssl", 3) == 0 ? key - 3 : key;
        bool boundary = kstart == text || !(isalnum((unsigned char)kstart[-1]) || kstart[-1] == '_');
        const char *p = key + strlen("password");
        p += strspn(p, " \t");
        if (!boundary || *p != '=')
            continue;
        p += 1 + strspn(p + 1, " \t");
        const char *val = p;
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
    return 0;
}

/* Copy text into buf with every password value found by the keyword rule masked. */
static void mask_keywords(const char *text, char *buf, size_t buflen)
{
    size_t w = 0, from = 0, start, end;
    buf[0] = '\0';
    while (w + 1 < buflen && keyword_password_span(text, from, &start, &end)) {
        w += (size_t)snprintf(buf + w, buflen - w, "%.*s%s", (int)(start - from), text + from,
                              HPQ_MASK);
        from = end;
    }
    if (w + 1 < buflen)
        snprintf(buf + w, buflen - w, "%s", text + from);
}

/* Purely textual, so it also works on input libpq would reject, which is
 * exactly what gets logged. */
const char *hpq_redact(const char *text, char *buf, unsigned long buflen)
{
    if (!text)
        return "(null)";
    char tmp[HPQ_LINE_MAX];
    size_t start, end;
    if (url_password_span(text, &start, &end))
        snprintf(tmp, sizeof tmp, "%.*s%s%s", (int)start, text, HPQ_MASK, text + end);
    else
        snprintf(tmp, sizeof tmp, "%s", text);
    mask_keywords(tmp, buf, buflen);
    return buf;
}
