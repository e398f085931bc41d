/* creds.c — see creds.h. */
#include "creds.h"

#include <stdio.h>
#include <string.h>

static bool is_credential(const char *key)
{
    return strcmp(key, "password") == 0 || strcmp(key, "user") == 0;
}

/* Every key of a, but the credentials, has the same value in b. */
static bool covers(const struct hpq_params *a, const struct hpq_params *b)
{
    for (unsigned i = 0; i < a->n; i++) {
        if (is_credential(a->p[i].key))
            continue;
        const char *other = hpq_params_get(b, a->p[i].key);
        if (!other || strcmp(other, a->p[i].val) != 0)
            return false;
    }
    return true;
}

bool hpq_creds_same_place(const struct hpq_params *a, const struct hpq_params *b)
{
    return covers(a, b) && covers(b, a);
}

static bool one_host(const struct hpq_params *url)
{
    const char *host = hpq_params_get(url, "host");
    return host && *host && !strchr(host, ',');
}

bool hpq_creds_fits(const char *buf, const char *expected, const char *val)
{
    return buf && expected && val && strcmp(buf, expected) == 0 && strlen(val) <= strlen(buf);
}

void hpq_creds_overwrite(char *buf, const char *val)
{
    size_t cap = strlen(buf); /* libpq allocated at least this + 1 */
    size_t n = strlen(val);
    if (n > cap)
        return;
    explicit_bzero(buf, cap);
    memcpy(buf, val, n); /* the bytes after it, and buf[cap], are already zero */
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* libpq reports exactly the value the shim gave it (old_val, from the URL). */
static bool verified(const char *buf, const char *old_val)
{
    return buf && old_val && strcmp(buf, old_val) == 0;
}

static int refuse(char *why, size_t whylen, const char *reason)
{
    snprintf(why, whylen, "%s", reason);
    return -1;
}

int hpq_creds_update(const struct hpq_libpq *lib, PGconn *conn, const struct hpq_params *old_url,
                     const struct hpq_params *new_url, char *why, size_t whylen)
{
    if (!hpq_creds_same_place(old_url, new_url) || !one_host(old_url))
        return refuse(why, whylen, "the new URL names another host, port, database or option");
    const char *old_pw = hpq_params_get(old_url, "password");
    const char *new_pw = hpq_params_get(new_url, "password");
    const char *old_user = hpq_params_get(old_url, "user");
    const char *new_user = hpq_params_get(new_url, "user");
    bool user_changes = !same(old_user, new_user);
    char *pw_buf = lib->pass(conn), *user_buf = lib->user(conn);
    if (!verified(pw_buf, old_pw) || (user_changes && !verified(user_buf, old_user)))
        return refuse(why, whylen, "this libpq does not report the credentials the shim gave it");
    if (!hpq_creds_fits(pw_buf, old_pw, new_pw) ||
        (user_changes && !hpq_creds_fits(user_buf, old_user, new_user)))
        return refuse(why, whylen, "the new password or user name is missing or longer than the old one");
    if (!same(old_pw, new_pw))
        hpq_creds_overwrite(pw_buf, new_pw);
    if (user_changes)
        hpq_creds_overwrite(user_buf, new_user);
    return 0;
}
