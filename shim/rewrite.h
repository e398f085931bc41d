/* rewrite.h — the program's connection parameters × the resolved URL.
 *
 * Pure functions: no I/O, no global state, no call into libpq. Parsing
 * connection strings and URLs is libpq's own work: parse.h. */
#ifndef HPQ_REWRITE_H
#define HPQ_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define HPQ_MAX_PARAMS 64

struct hpq_param {
    char *key;
    char *val;
};

/* An ordered set of keyword=value pairs, keys unique. */
struct hpq_params {
    unsigned n;
    struct hpq_param p[HPQ_MAX_PARAMS];
};

void hpq_params_clear(struct hpq_params *params);
int hpq_params_set(struct hpq_params *params, const char *key, const char *val);
const char *hpq_params_get(const struct hpq_params *params, const char *key);
/* The same pairs in the same order. */
bool hpq_params_equal(const struct hpq_params *a, const struct hpq_params *b);
/* Add every pair of from to out. 0, or -1 if out of memory. */
int hpq_params_copy(struct hpq_params *out, const struct hpq_params *from);

/* Whether this connection goes to the Heroku database: HEROKUPQ_TARGET=all, or
 * a host it names (its own host parameter, else env_pghost) is a target. */
bool hpq_is_target(const struct hpq_config *cfg, const struct hpq_params *program,
                   const char *env_pghost);

/* The config var whose URL the connection goes to (see
 * hpq_config_var_for_host), or NULL if it is not a target. */
const char *hpq_target_var(const struct hpq_config *cfg, const struct hpq_params *program,
                           const char *env_pghost);

/* Whether a URL may set key: host, port, dbname, user, password and sslmode
 * (a config var names a database; it does not configure libpq). */
bool hpq_url_key(const char *key);

/* Whether any element of a libpq host list is one libpq takes as a Unix-domain
 * socket (where sslmode is ignored): a path starting with '/', an abstract
 * socket ('@'), or an empty element (libpq's default socket directory). */
bool hpq_hosts_have_socket(const char *hosts);

/* Build the connection: the program's own options minus its routing, the
 * URL's routing (url may be NULL: keep the program's routing; of url only the
 * keys hpq_url_parse keeps are used),
 * sslmode the strongest of require, the program's (else env_sslmode) and the
 * URL's. Routing keys are pinned, even to '', so PG* variables cannot refill
 * them. */
int hpq_rewrite(const struct hpq_params *program, const struct hpq_params *url,
                const char *env_sslmode, struct hpq_params *out);

/* The database the program names explicitly when it is not the URL's, else
 * NULL. The program's own dbname counts when its host is none, a placeholder
 * of HEROKUPQ_TARGET, or the URL's own host (and port, if it names one); a
 * program naming another server is holding a copy of an older URL, whose
 * database is as stale as its password. */
const char *hpq_explicit_dbname(const struct hpq_config *cfg, const struct hpq_params *program,
                                const struct hpq_params *url);

/* Set ssl_min_protocol_version in out: TLSv1.2 (Heroku's minimum), or the
 * program's own value (else env_min, PGSSLMINPROTOCOLVERSION) where stronger.
 * Only for a libpq that knows the option (13 and later). */
int hpq_tls_floor(const struct hpq_params *program, const char *env_min, struct hpq_params *out);

/* "strongest" of two sslmode values; unknown values rank below disable. */
const char *hpq_sslmode_max(const char *a, const char *b);

/* A conninfo string (key='value' ...) for libpq; malloc'd, NULL if no memory. */
char *hpq_params_to_conninfo(const struct hpq_params *params);

#endif
