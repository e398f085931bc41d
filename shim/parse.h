/* parse.h — a program's connection parameters and a resolved URL, parsed by
 * the caller's own libpq (PQconninfoParse), into struct hpq_params
 * (rewrite.h). The only parsing of connection strings the shim does. */
#ifndef HPQ_PARSE_H
#define HPQ_PARSE_H

#include <stddef.h>

#include "real.h"
#include "rewrite.h"

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

#endif
