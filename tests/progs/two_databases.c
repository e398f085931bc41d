/* two_databases — one process, two databases (two HEROKUPQ_TARGET placeholders).
 *
 *   two_databases FILE CONNINFO_A CONNINFO_B
 *
 * Connects with A and with B, then waits until FILE exists (the tests rotate
 * one database's credentials meanwhile), runs a query on both open
 * connections, then opens both again. Prints one line each:
 *   a|b|a-open|b-open|a-new|b-new ok <user> <db> <ssl>|error <message>
 * Exits 0 if every line is ok. */
#include <libpq-fe.h>
#include <stdio.h>
#include <unistd.h>

static int query(const char *what, PGconn *conn)
{
    PGresult *res = PQexec(conn, "SELECT current_user || ' ' || current_database() || ' ' || ssl "
                                 "FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    char line[768];
    snprintf(line, sizeof line, "%s", ok ? PQgetvalue(res, 0, 0) : PQerrorMessage(conn));
    for (char *p = line; *p; p++)
        if (*p == '\n')
            *p = ' ';
    printf("%s %s %s\n", what, ok ? "ok" : "error", line);
    fflush(stdout);
    PQclear(res);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    PGconn *a = PQconnectdb(argv[2]), *b = PQconnectdb(argv[3]);
    int ok = query("a", a) & query("b", b);
    while (access(argv[1], F_OK) != 0)
        usleep(10000);
    ok &= query("a-open", a) & query("b-open", b);
    PQfinish(a);
    PQfinish(b);
    a = PQconnectdb(argv[2]);
    b = PQconnectdb(argv[3]);
    ok &= query("a-new", a) & query("b-new", b);
    PQfinish(a);
    PQfinish(b);
    return ok ? 0 : 1;
}
