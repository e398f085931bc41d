/* log.c — see log.h. Lines are formatted, scrubbed, then written with one
 * write(2) so that lines from different threads never interleave. */
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secret.h"

#define HPQ_LINE_MAX 1024 /* a longer line is cut, after scrubbing */
#define HPQ_MASK "********"
#define HPQ_SHORT_SECRET 4 /* shorter secrets are masked only as whole words */

static enum hpq_level log_level = HPQ_WARN;

/* Every secret the process has seen, never forgotten (the token first among
 * them), grouped by first byte so that scrubbing a line costs a look at the
 * secrets that could start at each position, not at all of them. */
struct secret_list {
    char **v;
    size_t n, cap;
};
static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static struct secret_list secrets[256];

static const char *const level_names[] = {"off", "error", "warn", "info", "debug"};

void hpq_log_set_level(enum hpq_level level) { log_level = level; }

int hpq_log_enabled(enum hpq_level level) { return level != HPQ_OFF && level <= log_level; }

void hpq_log_lock(void) { pthread_mutex_lock(&secrets_lock); }
void hpq_log_unlock(void) { pthread_mutex_unlock(&secrets_lock); }

static bool known(const struct secret_list *l, const char *secret)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], secret) == 0)
            return true;
    return false;
}

/* Append a copy; out of memory leaves the list as it was. Caller holds the lock. */
static void remember(struct secret_list *l, const char *secret)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 4;
        char **grown = realloc(l->v, cap * sizeof *grown);
        if (!grown)
            return;
        l->v = grown;
        l->cap = cap;
    }
    char *copy = strdup(secret);
    if (copy)
        l->v[l->n++] = copy;
}

/* Caller holds the lock. */
static void remember_once(const char *secret)
{
    struct secret_list *l = &secrets[(unsigned char)secret[0]];
    if (!known(l, secret))
        remember(l, secret);
}

static void fold_line_breaks(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

/* The blanks a folded line ends with (libpq messages end in a newline). */
static void trim_end(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        s[--n] = '\0';
}

/* s with its line breaks folded as a logged line has them, or NULL when that
 * is s itself (or out of memory). */
static char *folded_copy(const char *s)
{
    char *f = s && strpbrk(s, "\n\r") ? strdup(s) : NULL;
    if (f)
        fold_line_breaks(f);
    return f;
}

/* secret as a conninfo value writes it ('\' before ' and \, as
 * hpq_params_to_conninfo and libpq's PQconninfo users do), or NULL when that
 * is the secret itself (or out of memory). */
static char *conninfo_escaped(const char *secret)
{
    size_t n = strlen(secret), extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += secret[i] == '\'' || secret[i] == '\\';
    char *e = extra ? malloc(n + extra + 1) : NULL, *w = e;
    if (!e)
        return NULL;
    for (const char *c = secret; *c; c++) {
        if (*c == '\'' || *c == '\\')
            *w++ = '\\';
        *w++ = *c;
    }
    *w = '\0';
    return e;
}

/* The secret and the form a connection string writes it in (a program's own
 * conninfo quotes it), each also with its line breaks folded as a logged line
 * has them (lines are folded before they are scrubbed). */
void hpq_log_secret(const char *secret)
{
    if (!secret || !*secret)
        return;
    int saved = errno;
    char *escaped = conninfo_escaped(secret);
    char *other[3] = {escaped, folded_copy(secret), folded_copy(escaped)}; /* NULL: none */
    pthread_mutex_lock(&secrets_lock);
    remember_once(secret);
    for (unsigned i = 0; i < 3; i++)
        if (other[i])
            remember_once(other[i]);
    pthread_mutex_unlock(&secrets_lock);
    for (unsigned i = 0; i < 3; i++)
        hpq_free_secret(other[i]);
    errno = saved;
}

void hpq_log_forget_secrets(void)
{
    pthread_mutex_lock(&secrets_lock);
    for (size_t b = 0; b < 256; b++) {
        for (size_t i = 0; i < secrets[b].n; i++)
            hpq_free_secret(secrets[b].v[i]);
        free(secrets[b].v);
        secrets[b] = (struct secret_list){0};
    }
    pthread_mutex_unlock(&secrets_lock);
}

static bool word_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '-'; }

/* Whether secret s (length n) may be masked at p in line: a short secret only
 * as a whole word, so that masking "e" cannot turn "connecting" into
 * "conn********cting", which tells the secret. */
static bool matches_at(const char *line, const char *p, const char *s, size_t n)
{
    if (strncmp(p, s, n) != 0)
        return false;
    if (n >= HPQ_SHORT_SECRET)
        return true;
    return (p == line || !word_char(p[-1])) && !word_char(p[n]);
}

/* The longest registered secret that may be masked at p, or 0. Caller holds the lock. */
static size_t secret_at(const char *line, const char *p)
{
    const struct secret_list *l = &secrets[(unsigned char)*p];
    size_t best = 0;
    for (size_t i = 0; i < l->n; i++) {
        size_t n = strlen(l->v[i]);
        if (n > best && matches_at(line, p, l->v[i], n))
            best = n;
    }
    return best;
}

/* Every position is looked at, inside a masked run too, so that secrets that
 * overlap ("abcdef" and "cdefgh" in "abcdefgh") are masked as one run: none
 * of their characters shows. */
void hpq_log_scrub(const char *line, char *out, unsigned long cap)
{
    size_t w = 0, mlen = strlen(HPQ_MASK), covered = 0; /* masked up to line + covered */
    if (!cap)
        return;
    if (!line)
        line = "";
    pthread_mutex_lock(&secrets_lock);
    for (size_t i = 0; line[i] && w + 1 < cap; i++) {
        size_t n = secret_at(line, line + i);
        bool starts_run = n && i >= covered;
        if (n && i + n > covered)
            covered = i + n;
        if (starts_run) {
            size_t room = cap - 1 - w;
            memcpy(out + w, HPQ_MASK, mlen < room ? mlen : room);
            w += mlen < room ? mlen : room;
        } else if (i >= covered) {
            out[w++] = line[i];
        }
    }
    pthread_mutex_unlock(&secrets_lock);
    out[w] = '\0';
}

const char *hpq_log_shown(hpq_redactor *redact, const char *text, char *buf, unsigned long cap)
{
    if (!text || !cap)
        return redact(text, buf, cap);
    /* Each byte can become a whole mask: room for all of it, so nothing is cut
     * before the redactor has seen the structure. */
    size_t room = strlen(text) * strlen(HPQ_MASK) + 1;
    char *scrubbed = malloc(room);
    if (!scrubbed)
        return redact("(not shown: out of memory)", buf, cap);
    hpq_log_scrub(text, scrubbed, room);
    redact(scrubbed, buf, cap);
    hpq_free_secret(scrubbed);
    return buf;
}

/* The whole line, prefix included, is scrubbed: a password such as "debug"
 * must not show in "herokupq: debug: ". */
static void emit(enum hpq_level level, char *message)
{
    char *raw = NULL;
    if (asprintf(&raw, "herokupq: %s: %s", level_names[level], message) < 0)
        return; /* out of memory: drop the line rather than risk anything */
    /* Newlines (libpq messages may hold several lines) would split the entry:
     * folded first, so that folding cannot join text into a secret after the
     * scrub; trimmed after it, so that trimming cannot cut one short of its mask. */
    fold_line_breaks(raw);
    char line[HPQ_LINE_MAX + 1];
    hpq_log_scrub(raw, line, sizeof line - 1);
    hpq_free_secret(raw);
    trim_end(line);
    size_t len = strlen(line);
    line[len++] = '\n';
    ssize_t written = write(STDERR_FILENO, line, len);
    (void)written; /* nothing sensible to do if stderr is closed */
}

/* Called through the hpq_log macro (log.h), which checks the level first. */
void hpq_log_line(enum hpq_level level, const char *fmt, ...)
{
    if (!hpq_log_enabled(level))
        return;
    int saved = errno;
    char *message = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&message, fmt, ap);
    va_end(ap);
    if (rc >= 0)
        emit(level, message);
    hpq_free_secret(rc >= 0 ? message : NULL);
    errno = saved;
}
