/* reset_client — PQreset on a rewritten connection after a rotation.
 *
 *   reset_client FILE [CONNINFO]
 *
 * Connects, then waits until FILE exists (the tests rotate the credentials
 * meanwhile), calls PQreset on the connection, then opens a new connection.
 * Prints "first ok", "reset ok" or "reset error <message>", "new ok" or
 * "new error <message>", each on one line. Exits 0 if the first and the new
 * connection succeeded. */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int report(const char *what, PGconn *conn)
{
    int ok = PQstatus(conn) == CONNECTION_OK;
    char message[512];
    snprintf(message, sizeof message, "%s", ok ? "" : PQerrorMessage(conn));
    for (char *p = message; *p; p++)
        if (*p == '\n')
            *p = ' ';
    printf("%s %s%s\n", what, ok ? "ok" : "error ", message);
    fflush(stdout);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *conninfo = argc > 2 ? argv[2] : "";
    PGconn *conn = PQconnectdb(conninfo);
    int ok = report("first", conn);
    while (access(argv[1], F_OK) != 0)
        usleep(10000);
    PQreset(conn);
    report("reset", conn);
    PQfinish(conn);
    PGconn *fresh = PQconnectdb(conninfo);
    ok &= report("new", fresh);
    PQfinish(fresh);
    return ok ? 0 : 1;
}
