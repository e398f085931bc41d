/* warm.c — the warm-path benchmark client: PQconnectdb + SELECT 1 + PQfinish.
 *
 *   warm CONNINFO              one connection per line read on stdin; prints the
 *                              nanoseconds each took (bench/bench.py drives two of
 *                              these, one through the shim, in lock step)
 *   warm CONNINFO WARMUP N     WARMUP connections, then N inside measured(), the
 *                              function callgrind is told to count (--toggle-collect)
 *
 * Linked with libpq like any program; exits 1 on the first failed connection. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int one_connection(const char *conninfo)
{
    PGconn *conn = PQconnectdb(conninfo);
    int ok = PQstatus(conn) == CONNECTION_OK;
    if (ok) {
        PGresult *res = PQexec(conn, "SELECT 1");
        ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        PQclear(res);
    }
    if (!ok)
        fprintf(stderr, "warm: %s", PQerrorMessage(conn));
    PQfinish(conn);
    return ok;
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int serve(const char *conninfo)
{
    char line[16];
    while (fgets(line, sizeof line, stdin)) {
        long long start = now_ns();
        if (!one_connection(conninfo))
            return 1;
        printf("%lld\n", now_ns() - start);
        fflush(stdout);
    }
    return 0;
}

/* Not inlined: callgrind counts this function's inclusive cost by name. */
__attribute__((noinline)) int measured(const char *conninfo, long n)
{
    for (long i = 0; i < n; i++)
        if (!one_connection(conninfo))
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    if (argc == 2)
        return serve(argv[1]);
    if (argc != 4) {
        fprintf(stderr, "usage: warm CONNINFO [WARMUP N]\n");
        return 2;
    }
    for (long i = 0; i < atol(argv[2]); i++)
        if (!one_connection(argv[1]))
            return 1;
    return measured(argv[1], atol(argv[3])) ? 0 : 1;
}
