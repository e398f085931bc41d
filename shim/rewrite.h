/* rewrite.h — the program's connection parameters × the resolved URL.
 *
 * Pure functions: no I/O, no global state. Parsing of connection strings and
 * URLs is libpq's own (PQconninfoParse of the caller's libpq). */
#ifndef HPQ_REWRITE_H
#define HPQ_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "real.h"

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

/* The parameters a program passed to each libpq entry point, as libpq itself
 * would combine them (later values win, empty values are ignored, dbname may
 * expand). Return 0, or -1 with a message in err. */
int hpq_params_from_conninfo(const struct hpq_libpq *lib, const char *conninfo,
                             struct hpq_params *out, char *err, size_t errlen);
int hpq_params_from_arrays(const struct hpq_libpq *lib, const char *const *keywords,
                           const char *const *values, int expand_dbname,
                           struct hpq_params *out, char *err, size_t errlen);
int hpq_params_from_setdb(const struct hpq_libpq *lib, const char *host, const char *port,
                          const char *options, const char *dbname, const char *login,
                          const char *pwd, struct hpq_params *out, char *err, size_t errlen);

/* Whether this connection goes to the Heroku database: HEROKUPQ_TARGET=all, or
 * a host it names (its own host parameter, else env_pghost) is a target. */
bool hpq_is_target(const struct hpq_config *cfg, const struct hpq_params *program,
                   const char *env_pghost);

/* The config var whose URL the connection goes to (see
 * hpq_config_var_for_host), or NULL if it is not a target. */
const char *hpq_target_var(const struct hpq_config *cfg, const struct hpq_params *program,
                           const char *env_pghost);

/* Parse and check a resolved config var: a postgres:// or postgresql:// URL
 * naming a host that is not a Unix-domain socket (hpq_hosts_have_socket).
 * A config var names a database and nothing more: out gets only host, port,
 * dbname, user, password and sslmode; the names (never the values) of the
 * other keys it set are listed in dropped ("a, b"; may be NULL). Return 0, or
 * -1 with the reason in err (never a password). */
int hpq_url_parse_dropping(const struct hpq_libpq *lib, const char *url, struct hpq_params *out,
                           char *dropped, size_t droppedlen, char *err, size_t errlen);
int hpq_url_parse(const struct hpq_libpq *lib, const char *url, struct hpq_params *out,
                  char *err, size_t errlen);

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
