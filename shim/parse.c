/* parse.c — see parse.h. */
#include "parse.h"

#include <stdio.h>
#include <string.h>

#include "secret.h"

static int set_err(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

/* Overlay the options libpq parsed from conninfo (only the ones it set). */
static int overlay_conninfo(const struct hpq_libpq *lib, const char *conninfo,
                            struct hpq_params *out, char *err, size_t errlen)
{
    char *msg = NULL;
    PQconninfoOption *opts = lib->conninfo_parse(conninfo, &msg);
    if (!opts) {
        set_err(err, errlen, msg ? msg : "out of memory");
        if (msg)
            lib->freemem(msg);
        return -1;
    }
    int rc = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (o->val && rc == 0)
            rc = hpq_params_set(out, o->keyword, o->val);
        if (o->val) /* libpq's PQconninfoFree does not wipe the password */
            hpq_wipe(o->val, strlen(o->val));
    }
    lib->conninfo_free(opts);
    return rc ? set_err(err, errlen, "out of memory") : 0;
}

int hpq_params_from_conninfo(const struct hpq_libpq *lib, const char *conninfo,
                             struct hpq_params *out, char *err, size_t errlen)
{
    return overlay_conninfo(lib, conninfo ? conninfo : "", out, err, errlen);
}

/* libpq's test for "this dbname is really a connection string". */
static bool is_connection_string(const char *s)
{
    return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0 ||
           strchr(s, '=') != NULL;
}

/* libpq considers only the first dbname with a non-NULL value for expansion,
 * and expands it at its place in the array: earlier keywords are overridden
 * by the connection string, later ones override it. */
static long expandable_dbname(const char *const *keywords, const char *const *values)
{
    for (long i = 0; keywords[i]; i++)
        if (strcmp(keywords[i], "dbname") == 0 && values[i])
            return is_connection_string(values[i]) ? i : -1;
    return -1;
}

int hpq_params_from_arrays(const struct hpq_libpq *lib, const char *const *keywords,
                           const char *const *values, int expand_dbname,
                           struct hpq_params *out, char *err, size_t errlen)
{
    if (!keywords || !values)
        return 0;
    long expand_at = expand_dbname ? expandable_dbname(keywords, values) : -1;
    for (long i = 0; keywords[i]; i++) {
        const char *val = values[i];
        if (!val || !*val)
            continue;
        int rc;
        if (i == expand_at)
            rc = overlay_conninfo(lib, val, out, err, errlen);
        else
            rc = hpq_params_set(out, keywords[i], val) ? set_err(err, errlen, "out of memory") : 0;
        if (rc)
            return -1;
    }
    return 0;
}

int hpq_params_from_setdb(const struct hpq_libpq *lib, const char *host, const char *port,
                          const char *options, const char *dbname, const char *login,
                          const char *pwd, struct hpq_params *out, char *err, size_t errlen)
{
    /* PQsetdbLogin expands dbName, then lets the explicit arguments win. */
    const char *const keywords[] = {"dbname", "host", "port", "options", "user", "password", NULL};
    const char *const values[] = {dbname, host, port, options, login, pwd, NULL};
    return hpq_params_from_arrays(lib, keywords, values, 1, out, err, errlen);
}

/* Append key to the comma list in buf (cut, never overflowing). */
static void note_dropped(char *buf, size_t buflen, const char *key)
{
    size_t n = buflen ? strlen(buf) : 0;
    if (buflen > n)
        snprintf(buf + n, buflen - n, "%s%s", n ? ", " : "", key);
}

/* Keep the keys a URL may set; name the others in dropped. */
static int keep_url_keys(const struct hpq_params *all, struct hpq_params *out, char *dropped,
                         size_t droppedlen)
{
    for (unsigned i = 0; i < all->n; i++) {
        if (!hpq_url_key(all->p[i].key))
            note_dropped(dropped, droppedlen, all->p[i].key);
        else if (hpq_params_set(out, all->p[i].key, all->p[i].val))
            return -1;
    }
    return 0;
}

static int check_url_host(const struct hpq_params *url, char *err, size_t errlen)
{
    const char *host = hpq_params_get(url, "host");
    if (!host || !*host)
        return set_err(err, errlen, "names no host");
    if (!hpq_hosts_have_socket(host))
        return 0;
    snprintf(err, errlen,
             "names a Unix-domain socket as its host (%.100s), where libpq never uses SSL; "
             "refusing it",
             host);
    return -1;
}

int hpq_url_parse_dropping(const struct hpq_libpq *lib, const char *url, struct hpq_params *out,
                           char *dropped, size_t droppedlen, char *err, size_t errlen)
{
    if (dropped && droppedlen)
        dropped[0] = '\0';
    if (strncmp(url, "postgres://", 11) != 0 && strncmp(url, "postgresql://", 13) != 0)
        return set_err(err, errlen, "is not a postgres:// or postgresql:// URL");
    struct hpq_params all = {0};
    char none[1] = "";
    /* Not libpq's own message: it quotes the offending part, maybe the password. */
    if (overlay_conninfo(lib, url, &all, err, errlen)) {
        hpq_params_clear(&all);
        return set_err(err, errlen, "is not a URL libpq can parse");
    }
    int rc = keep_url_keys(&all, out, dropped ? dropped : none, dropped ? droppedlen : 0);
    hpq_params_clear(&all);
    if (rc)
        return set_err(err, errlen, "out of memory");
    if (check_url_host(out, err, errlen)) {
        hpq_params_clear(out);
        return -1;
    }
    return 0;
}

int hpq_url_parse(const struct hpq_libpq *lib, const char *url, struct hpq_params *out,
                  char *err, size_t errlen)
{
    return hpq_url_parse_dropping(lib, url, out, NULL, 0, err, errlen);
}
