/* rewrite.c — see rewrite.h. */
#include "rewrite.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "secret.h"

/* Where the program connects and as whom: replaced by the URL's. */
static const char *const routing_keys[] = {"host", "hostaddr", "port", "dbname", "user",
                                           "password", "service", "passfile"};
/* Of those, the ones libpq would otherwise fill from PG* variables or a
 * service file; pinned to '' when the URL does not set them. */
static const char *const pinned_keys[] = {"host", "hostaddr", "port", "dbname", "user",
                                          "password"};
/* All a URL from the API may say: where the database is and who connects
 * (and a stronger sslmode). A config var names a database; it does not
 * configure libpq. */
static const char *const url_keys[] = {"host", "port", "dbname", "user", "password", "sslmode"};
static const char *const sslmodes[] = {"disable", "allow",     "prefer",
                                       "require", "verify-ca", "verify-full"};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define SSLMODE_FLOOR "require"

void hpq_params_clear(struct hpq_params *params)
{
    for (unsigned i = 0; i < params->n; i++) {
        free(params->p[i].key);
        hpq_free_secret(params->p[i].val); /* any of them may be a password */
    }
    params->n = 0;
}

static int find(const struct hpq_params *params, const char *key)
{
    for (unsigned i = 0; i < params->n; i++)
        if (strcmp(params->p[i].key, key) == 0)
            return (int)i;
    return -1;
}

int hpq_params_set(struct hpq_params *params, const char *key, const char *val)
{
    int i = find(params, key);
    char *copy = strdup(val);
    if (!copy)
        return -1;
    if (i >= 0) {
        hpq_free_secret(params->p[i].val);
        params->p[i].val = copy;
        return 0;
    }
    char *kcopy = params->n < HPQ_MAX_PARAMS ? strdup(key) : NULL;
    if (!kcopy) {
        free(copy);
        return -1;
    }
    params->p[params->n++] = (struct hpq_param){kcopy, copy};
    return 0;
}

const char *hpq_params_get(const struct hpq_params *params, const char *key)
{
    int i = find(params, key);
    return i >= 0 ? params->p[i].val : NULL;
}

bool hpq_params_equal(const struct hpq_params *a, const struct hpq_params *b)
{
    if (a->n != b->n)
        return false;
    for (unsigned i = 0; i < a->n; i++)
        if (strcmp(a->p[i].key, b->p[i].key) != 0 || strcmp(a->p[i].val, b->p[i].val) != 0)
            return false;
    return true;
}

int hpq_params_copy(struct hpq_params *out, const struct hpq_params *from)
{
    for (unsigned i = 0; i < from->n; i++)
        if (hpq_params_set(out, from->p[i].key, from->p[i].val) != 0)
            return -1;
    return 0;
}

static bool in_list(const char *key, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, list[i]) == 0)
            return true;
    return false;
}

bool hpq_url_key(const char *key) { return in_list(key, url_keys, N_OF(url_keys)); }

/* The config var of the first host of the list that is a target, or NULL. */
static const char *host_list_var(const struct hpq_config *cfg, const char *hosts)
{
    char *copy = strdup(hosts), *save = NULL;
    const char *var = NULL;
    for (char *h = copy ? strtok_r(copy, ",", &save) : NULL; h && !var;
         h = strtok_r(NULL, ",", &save))
        var = hpq_config_var_for_host(cfg, h);
    free(copy);
    return var;
}

static bool host_list_has_target(const struct hpq_config *cfg, const char *hosts)
{
    return host_list_var(cfg, hosts) != NULL;
}

const char *hpq_target_var(const struct hpq_config *cfg, const struct hpq_params *program,
                           const char *env_pghost)
{
    if (cfg->target_all)
        return hpq_config_var_for_host(cfg, NULL);
    const char *hosts = hpq_params_get(program, "host");
    if (!hosts || !*hosts)
        hosts = env_pghost;
    return hosts && *hosts ? host_list_var(cfg, hosts) : NULL;
}

bool hpq_is_target(const struct hpq_config *cfg, const struct hpq_params *program,
                   const char *env_pghost)
{
    return hpq_target_var(cfg, program, env_pghost) != NULL;
}

static bool nonempty(const char *s) { return s && *s; }

/* The program names the URL's server: its host, and its port if it names one. */
static bool same_server(const struct hpq_params *program, const struct hpq_params *url)
{
    const char *host = hpq_params_get(program, "host"), *port = hpq_params_get(program, "port");
    const char *url_host = hpq_params_get(url, "host"), *url_port = hpq_params_get(url, "port");
    if (!nonempty(url_port))
        url_port = "5432";
    return nonempty(url_host) && strcasecmp(host, url_host) == 0 &&
           (!nonempty(port) || strcmp(port, url_port) == 0);
}

const char *hpq_explicit_dbname(const struct hpq_config *cfg, const struct hpq_params *program,
                                const struct hpq_params *url)
{
    const char *db = hpq_params_get(program, "dbname");
    const char *url_db = hpq_params_get(url, "dbname");
    if (!nonempty(db) || (url_db && strcmp(db, url_db) == 0))
        return NULL;
    const char *host = hpq_params_get(program, "host");
    if (!nonempty(host))
        return db;
    bool placeholder = !cfg->target_all && host_list_has_target(cfg, host);
    return placeholder || same_server(program, url) ? db : NULL;
}

/* Whether libpq would take this host list element as a Unix-domain socket,
 * where it never uses SSL: an absolute path, an abstract socket ('@'), or an
 * empty element (libpq's default, a socket directory). */
static bool socket_host(const char *h, size_t n)
{
    return n == 0 || h[0] == '/' || h[0] == '@';
}

bool hpq_hosts_have_socket(const char *hosts)
{
    for (const char *h = hosts;;) {
        size_t n = strcspn(h, ",");
        if (socket_host(h, n))
            return true;
        if (!h[n])
            return false;
        h += n + 1;
    }
}

static int sslmode_rank(const char *mode)
{
    for (size_t i = 0; mode && i < N_OF(sslmodes); i++)
        if (strcasecmp(mode, sslmodes[i]) == 0)
            return (int)i;
    return -1;
}

const char *hpq_sslmode_max(const char *a, const char *b)
{
    return sslmode_rank(b) > sslmode_rank(a) ? b : a;
}

static int copy_where(struct hpq_params *out, const struct hpq_params *from, bool routing)
{
    for (unsigned i = 0; i < from->n; i++) {
        const char *key = from->p[i].key;
        if (strcmp(key, "sslmode") == 0)
            continue; /* merged separately */
        if (in_list(key, routing_keys, N_OF(routing_keys)) == routing &&
            hpq_params_set(out, key, from->p[i].val))
            return -1;
    }
    return 0;
}

int hpq_rewrite(const struct hpq_params *program, const struct hpq_params *url,
                const char *env_sslmode, struct hpq_params *out)
{
    const char *program_ssl = hpq_params_get(program, "sslmode");
    if (!program_ssl)
        program_ssl = env_sslmode;
    const char *ssl = hpq_sslmode_max(SSLMODE_FLOOR, program_ssl);
    if (url)
        ssl = hpq_sslmode_max(ssl, hpq_params_get(url, "sslmode"));

    if (copy_where(out, program, false))
        return -1;
    if (!url)
        return copy_where(out, program, true) || hpq_params_set(out, "sslmode", ssl) ? -1 : 0;
    /* Only what a URL may set (hpq_url_parse already dropped the rest). */
    for (unsigned i = 0; i < url->n; i++)
        if (strcmp(url->p[i].key, "sslmode") != 0 &&
            hpq_url_key(url->p[i].key) &&
            hpq_params_set(out, url->p[i].key, url->p[i].val))
            return -1;
    for (size_t i = 0; i < N_OF(pinned_keys); i++)
        if (!hpq_params_get(url, pinned_keys[i]) && hpq_params_set(out, pinned_keys[i], ""))
            return -1;
    return hpq_params_set(out, "sslmode", ssl);
}

static const char *const tls_versions[] = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
#define TLS_FLOOR "TLSv1.2"

static int tls_rank(const char *v)
{
    for (size_t i = 0; v && i < N_OF(tls_versions); i++)
        if (strcasecmp(v, tls_versions[i]) == 0)
            return (int)i;
    return -1;
}

int hpq_tls_floor(const struct hpq_params *program, const char *env_min, struct hpq_params *out)
{
    const char *wanted = hpq_params_get(program, "ssl_min_protocol_version");
    if (!wanted || !*wanted)
        wanted = env_min;
    const char *v = tls_rank(wanted) > tls_rank(TLS_FLOOR) ? wanted : TLS_FLOOR;
    return hpq_params_set(out, "ssl_min_protocol_version", v);
}

/* Appends 'value' with libpq's escaping: backslash before ' and \. */
static size_t quoted(char *dst, const char *val)
{
    size_t n = 0;
    dst[n++] = '\'';
    for (; *val; val++) {
        if (*val == '\'' || *val == '\\')
            dst[n++] = '\\';
        dst[n++] = *val;
    }
    dst[n++] = '\'';
    return n;
}

char *hpq_params_to_conninfo(const struct hpq_params *params)
{
    size_t cap = 1;
    for (unsigned i = 0; i < params->n; i++)
        cap += strlen(params->p[i].key) + 2 * strlen(params->p[i].val) + 4;
    char *s = malloc(cap), *w = s;
    if (!s)
        return NULL;
    for (unsigned i = 0; i < params->n; i++) {
        if (i)
            *w++ = ' ';
        size_t klen = strlen(params->p[i].key);
        memcpy(w, params->p[i].key, klen);
        w += klen;
        *w++ = '=';
        w += quoted(w, params->p[i].val);
    }
    *w = '\0';
    return s;
}
