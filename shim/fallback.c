/* fallback.c — see fallback.h. */
#include "fallback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define HPQ_ERR_MAX 256

/* Make conn's error message exactly text + "\n", where the message holds text
 * inside libpq's own words. PQerrorMessage returns libpq's heap buffer (char *,
 * as PQpass does, creds.h); the new message is strictly shorter than the one
 * there, so it is moved to the front in place and nothing is allocated. A
 * message that does not hold text (another libpq's wording) stays as it is. */
static void error_is_ours(const struct hpq_libpq *lib, PGconn *conn, const char *text)
{
    char *message = conn ? lib->error_message(conn) : NULL;
    char *at = message ? strstr(message, text) : NULL;
    size_t n = strlen(text);
    if (!at || at[n] == '\0')
        return;
    memmove(message, at, n);
    message[n] = '\n';
    message[n + 1] = '\0';
}

/* libpq has no setter for a PGconn's error, and no message that is a caller's
 * text alone: every one wraps it (an unknown option: 'invalid connection
 * option "NAME"'). So the cause is given as the name of an unknown option, and
 * the message libpq wrote around it is then cut down to the name. */
PGconn *hpq_fallback_failed_conn(const struct hpq_libpq *lib, const char *cause)
{
    char raw[HPQ_ERR_MAX + 64], option[HPQ_ERR_MAX + 64];
    snprintf(raw, sizeof raw, "herokupq: %s", cause);
    hpq_log_scrub(raw, option, sizeof option); /* an API message may echo the token */
    const char *const keywords[] = {option, NULL};
    const char *const values[] = {"1", NULL};
    PGconn *conn = lib->connectdb_params(keywords, values, 0);
    if (conn && lib->status(conn) == CONNECTION_BAD)
        error_is_ours(lib, conn, option);
    return conn;
}

/* The program's own value of key, else its environment variable's, else libpq's default. */
static const char *own(const struct hpq_params *program, const char *key, const char *env)
{
    const char *v = hpq_params_get(program, key);
    if (!v || !*v)
        v = getenv(env);
    return v && *v ? v : NULL;
}

/* When the program names no host, libpq's default is a local socket: a failure
 * there points nowhere near the cause without this line. */
void hpq_fallback_warn(const struct hpq_config *cfg, const struct hpq_params *program)
{
    const char *host = own(program, "host", "PGHOST");
    host = host ? host : own(program, "hostaddr", "PGHOSTADDR");
    const char *port = own(program, "port", "PGPORT"), *db = own(program, "dbname", "PGDATABASE");
    char origin[HPQ_ERR_MAX];
    hpq_log(HPQ_WARN, "no URL from %s: falling back to the program's own parameters "
            "(sslmode at least require): host %s, port %s, database %s",
            hpq_config_origin(cfg, origin, sizeof origin),
            host ? host : "(libpq's default, a local Unix socket)",
            port ? port : "(libpq's default, 5432)", db ? db : "(libpq's default, the user name)");
}
