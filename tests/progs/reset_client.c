/* reset_client — PQreset (or PQresetStart + PQresetPoll) on a connection
 * whose session the tests end while they rotate the credentials.
 *
 *   reset_client [-a] [-x] [-c CONNINFO2] FILE [CONNINFO]
 *
 * Connects with CONNINFO, then waits until FILE exists (the tests rotate the
 * credentials and terminate the session meanwhile), runs a query on the old
 * session, resets the same PGconn (-a: PQresetStart, then PQresetPoll until
 * it is done, waiting on PQsocket as libpq asks), runs a query on it, then
 * opens a new connection (with CONNINFO2 if given). Prints one line each:
 *   first ok|error <message>
 *   before ok|error <message>       the query on the old session
 *   reset ok|error <message>        PQstatus of the same PGconn after the reset
 *   after ok <user> <db> <ssl>|error <message>   a query on it
 *   new ok|error <message>
 * Exits 0 if the first and the new connection succeeded; with -x through
 * _exit, skipping the libraries' destructors (under AddressSanitizer,
 * libp11-kit's waits forever for glibc's locale lock). */
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void print_line(const char *what, int ok, const char *detail)
{
    char text[768];
    snprintf(text, sizeof text, "%s", detail);
    for (char *p = text; *p; p++)
        if (*p == '\n')
            *p = ' ';
    printf("%s %s%s%s\n", what, ok ? "ok" : "error", *text ? " " : "", text);
    fflush(stdout);
}

static int report(const char *what, PGconn *conn)
{
    int ok = PQstatus(conn) == CONNECTION_OK;
    print_line(what, ok, ok ? "" : PQerrorMessage(conn));
    return ok;
}

static void query(const char *what, PGconn *conn)
{
    PGresult *res = PQexec(conn, "SELECT current_user || ' ' || current_database() || ' ' || ssl "
                                 "FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    print_line(what, ok, ok ? PQgetvalue(res, 0, 0) : PQerrorMessage(conn));
    PQclear(res);
}

/* The asynchronous reset, the way libpq's documentation says to drive it. */
static void reset_async(PGconn *conn)
{
    if (!PQresetStart(conn))
        return;
    PostgresPollingStatusType status = PGRES_POLLING_WRITING;
    while (status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED) {
        struct pollfd p = {.fd = PQsocket(conn),
                           .events = status == PGRES_POLLING_READING ? POLLIN : POLLOUT};
        if (poll(&p, 1, 20000) != 1)
            break;
        status = PQresetPoll(conn);
    }
}

int main(int argc, char **argv)
{
    int async = 0, quick_exit = 0, opt;
    const char *second = NULL;
    while ((opt = getopt(argc, argv, "axc:")) != -1) {
        if (opt == 'a')
            async = 1;
        else if (opt == 'x')
            quick_exit = 1;
        else if (opt == 'c')
            second = optarg;
        else
            return 2;
    }
    if (optind >= argc)
        return 2;
    const char *go = argv[optind];
    const char *conninfo = optind + 1 < argc ? argv[optind + 1] : "";
    PGconn *conn = PQconnectdb(conninfo);
    int ok = report("first", conn);
    while (access(go, F_OK) != 0)
        usleep(10000);
    query("before", conn);
    if (async)
        reset_async(conn);
    else
        PQreset(conn);
    report("reset", conn);
    query("after", conn);
    PQfinish(conn);
    PGconn *fresh = PQconnectdb(second ? second : conninfo);
    ok &= report("new", fresh);
    PQfinish(fresh);
    fflush(stdout);
    if (quick_exit)
        _exit(ok ? 0 : 1);
    return ok ? 0 : 1;
}
