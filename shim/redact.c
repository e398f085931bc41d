/* redact.c — see redact.h. Masks by structure: a URL by its user information
 * and password query values, a conninfo string by libpq's own tokenizing
 * rules (fe-connect.c's conninfo_parse), so a password's content (quotes, '@',
 * '=', a scheme://host:port in another option) cannot move the mask. */
#include "redact.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

#define MASK "********"

struct out {
    char *buf;
    size_t cap, len; /* len may pass cap: the text is cut, never overrun */
};

static void put(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, o->len++)
        if (o->len + 1 < o->cap)
            o->buf[o->len] = s[i];
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

static bool is_password_key(const char *k, size_t n)
{
    return (n == 8 && strncmp(k, "password", 8) == 0) ||
           (n == 11 && strncmp(k, "sslpassword", 11) == 0);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A URL query key, percent-decoded first as libpq decodes it: ?%70assword= is
 * a password too. */
static bool is_password_query_key(const char *k, size_t n)
{
    char key[16];
    size_t m = 0;
    for (size_t i = 0; i < n; i++, m++) {
        if (m == sizeof key)
            return false;
        int hi = k[i] == '%' && i + 2 < n ? hex_value(k[i + 1]) : -1;
        int lo = hi >= 0 ? hex_value(k[i + 2]) : -1;
        key[m] = lo >= 0 ? (char)(hi << 4 | lo) : k[i];
        i += lo >= 0 ? 2 : 0;
    }
    return is_password_key(key, m);
}

/* The query of a URL: each password or sslpassword value masked. */
static void put_query(struct out *o, const char *q)
{
    while (*q) {
        size_t n = strcspn(q, "&"), k = strcspn(q, "=&");
        if (q[k] == '=' && is_password_query_key(q, k)) {
            put(o, q, k + 1);
            puts_(o, MASK);
        } else {
            put(o, q, n);
        }
        q += n;
        if (*q)
            put(o, q++, 1);
    }
}

/* A URL: everything between "://" and the last '@' (user, password, and any
 * '@', ':' or '/' a password holds) is masked; then its password query values. */
static void put_url(struct out *o, const char *url)
{
    const char *auth = strstr(url, "://");
    if (!auth) {
        puts_(o, url);
        return;
    }
    auth += 3;
    put(o, url, (size_t)(auth - url));
    const char *at = strrchr(auth, '@');
    if (at) {
        puts_(o, MASK "@");
        auth = at + 1;
    }
    size_t hostpart = strcspn(auth, "?");
    put(o, auth, hostpart);
    if (auth[hostpart]) {
        put(o, "?", 1);
        put_query(o, auth + hostpart + 1);
    }
}

/* One conninfo value at *p, libpq's way: quoted with '' (backslash escapes
 * inside), or bare up to a blank (backslash escapes too). Decoded into a
 * malloc'd string; *p moves past it. NULL on a missing closing quote. */
static char *conninfo_value(const char **p)
{
    const char *s = *p;
    bool quoted = *s == '\'';
    char *val = malloc(strlen(s) + 1), *w = val;
    if (!val)
        return NULL;
    for (s += quoted; *s && (quoted ? *s != '\'' : !isspace((unsigned char)*s)); s++) {
        if (*s == '\\' && s[1])
            s++;
        *w++ = *s;
    }
    *w = '\0';
    if (quoted && *s != '\'') {
        hpq_free_secret(val);
        return NULL;
    }
    *p = s + quoted;
    return val;
}

/* A value that holds a URL with user information is written masked and
 * quoted; any other is copied as it was written. */
static void put_value(struct out *o, const char *raw, size_t rawlen, const char *val)
{
    const char *scheme = strstr(val, "://");
    if (!scheme || !strchr(scheme, '@')) {
        put(o, raw, rawlen);
        return;
    }
    char tmp[1024];
    struct out masked = {tmp, sizeof tmp, 0};
    put_url(&masked, val);
    tmp[masked.len < sizeof tmp ? masked.len : sizeof tmp - 1] = '\0';
    put(o, "'", 1);
    for (const char *c = tmp; *c; c++) {
        if (*c == '\'' || *c == '\\')
            put(o, "\\", 1);
        put(o, c, 1);
    }
    put(o, "'", 1);
}

/* One "key = value" pair at *p. -1 if it is not one libpq would accept. */
static int put_pair(struct out *o, const char **p)
{
    const char *key = *p, *s = *p;
    while (*s && *s != '=' && !isspace((unsigned char)*s))
        s++;
    size_t keylen = (size_t)(s - key);
    while (isspace((unsigned char)*s))
        s++;
    if (*s != '=' || keylen == 0)
        return -1;
    for (s++; isspace((unsigned char)*s);)
        s++;
    put(o, key, (size_t)(s - key));
    const char *raw = s;
    char *val = conninfo_value(&s);
    if (!val)
        return -1;
    if (is_password_key(key, keylen))
        puts_(o, MASK);
    else
        put_value(o, raw, (size_t)(s - raw), val);
    hpq_free_secret(val);
    *p = s;
    return 0;
}

static int put_conninfo(struct out *o, const char *text)
{
    const char *p = text;
    for (;;) {
        const char *blank = p;
        while (isspace((unsigned char)*p))
            p++;
        put(o, blank, (size_t)(p - blank));
        if (!*p)
            return 0;
        if (put_pair(o, &p))
            return -1;
    }
}

static bool is_url(const char *s)
{
    return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

/* What each public function writes of text into o. */
typedef void writer(struct out *o, const char *text);

/* The frame they share: NULL and a zero buffer answered, the text cut to fit. */
static const char *redact_with(writer *write, const char *text, char *buf, unsigned long buflen)
{
    if (!text)
        return "(null)";
    if (!buflen)
        return "";
    struct out o = {buf, buflen, 0};
    write(&o, text);
    buf[o.len < buflen ? o.len : buflen - 1] = '\0';
    return buf;
}

static void put_conn_text(struct out *o, const char *text)
{
    const char *start = text + strspn(text, " \t\n\r\f\v");
    if (is_url(start)) {
        put_url(o, text);
    } else if (put_conninfo(o, text)) {
        o->len = 0;
        puts_(o, "(not shown: not a connection string)");
    }
}

const char *hpq_redact(const char *text, char *buf, unsigned long buflen)
{
    return redact_with(put_conn_text, text, buf, buflen);
}

const char *hpq_redact_userinfo(const char *url, char *buf, unsigned long buflen)
{
    return redact_with(put_url, url, buf, buflen);
}

/* One word of free text: a URL's user information masked, else as it is. */
static void put_word(struct out *o, const char *w, size_t n)
{
    char tmp[1024];
    if (n >= sizeof tmp || !memmem(w, n, "://", 3) || !memchr(w, '@', n)) {
        if (n >= sizeof tmp && memchr(w, '@', n))
            puts_(o, MASK); /* too long to parse here: not shown */
        else
            put(o, w, n);
        return;
    }
    memcpy(tmp, w, n);
    tmp[n] = '\0';
    put_url(o, tmp);
}

static void put_free_text(struct out *out, const char *text)
{
    struct out o = *out;
    for (const char *p = text; *p;) {
        size_t blank = strspn(p, " \t\n\r\f\v");
        put(&o, p, blank);
        p += blank;
        const char *q = p;
        struct out before = o;
        if (!*p || put_pair(&o, &q) == 0) {
            p = q;
            continue;
        }
        o = before; /* not a pair libpq would take: a word */
        size_t n = strcspn(p, " \t\n\r\f\v"), k = strcspn(p, "= \t\n\r\f\v");
        if (p[k] == '=' && is_password_key(p, k)) {
            put(&o, p, k + 1); /* a password whose value does not parse: hide the rest */
            puts_(&o, MASK);
            break;
        }
        put_word(&o, p, n);
        p += n;
    }
    *out = o;
}

const char *hpq_redact_text(const char *text, char *buf, unsigned long buflen)
{
    return redact_with(put_free_text, text, buf, buflen);
}
