/* conninfo_reconnect — reconnect from what libpq reports about a connection,
 * as pg_activity (psycopg2's conn.info.dsn_parameters) and poolers do.
 *
 *   conninfo_reconnect [-w FILE] CONNINFO
 *
 * Connects with CONNINFO, then (after FILE exists, with -w: the tests rotate
 * the credentials meanwhile) closes it and connects again with the keywords
 * and values PQconninfo reported for it, the password left out. Prints:
 *   first ok <user> <db> <ssl>|error <message>
 *   again host=<host> port=<port> ok <user> <db> <ssl>|error <message>
 * Exits 0 if both connected. */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int report(const char *what, PGconn *conn)
{
    char line[768] = "";
    int ok = PQstatus(conn) == CONNECTION_OK;
    PGresult *res = ok ? PQexec(conn, "SELECT current_user || ' ' || current_database() || ' ' "
                                      "|| ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                       : NULL;
    ok = ok && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    snprintf(line, sizeof line, "%s", ok ? PQgetvalue(res, 0, 0) : PQerrorMessage(conn));
    PQclear(res);
    for (char *p = line; *p; p++)
        if (*p == '\n')
            *p = ' ';
    printf("%s %s %s\n", what, ok ? "ok" : "error", line);
    fflush(stdout);
    return ok;
}

/* PQconninfo's non-empty values, the password left out. */
static PGconn *reconnect(PQconninfoOption *opts)
{
    const char *keys[128], *vals[128];
    int n = 0;
    for (PQconninfoOption *o = opts; o->keyword && n < 127; o++) {
        if (!o->val || !*o->val || strcmp(o->keyword, "password") == 0)
            continue;
        keys[n] = o->keyword;
        vals[n++] = o->val;
    }
    keys[n] = vals[n] = NULL;
    return PQconnectdbParams(keys, vals, 0);
}

int main(int argc, char **argv)
{
    const char *wait_file = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "w:")) != -1) {
        if (opt != 'w')
            return 2;
        wait_file = optarg;
    }
    if (optind >= argc)
        return 2;
    PGconn *conn = PQconnectdb(argv[optind]);
    int ok = report("first", conn);
    while (wait_file && access(wait_file, F_OK) != 0)
        usleep(10000);
    PQconninfoOption *opts = PQconninfo(conn);
    char what[512];
    snprintf(what, sizeof what, "again host=%s port=%s", PQhost(conn), PQport(conn));
    PQfinish(conn);
    if (!opts)
        return 1;
    PGconn *again = reconnect(opts);
    PQconninfoFree(opts);
    ok &= report(what, again);
    PQfinish(again);
    return ok ? 0 : 1;
}
