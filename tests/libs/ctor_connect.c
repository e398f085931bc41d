/* libctor_connect.so — a library that connects from its constructor, before
 * main, as some plugins and instrumentation do. Connects to
 * $HPQ_CTOR_CONNINFO and prints "ctor ok ssl=<t|f>" or "ctor error ...". */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void connect_early(void)
{
    const char *conninfo = getenv("HPQ_CTOR_CONNINFO");
    PGconn *conn = PQconnectdb(conninfo ? conninfo : "");
    if (PQstatus(conn) == CONNECTION_OK)
        printf("ctor ok ssl=%s\n", PQsslInUse(conn) ? "t" : "f");
    else
        printf("ctor error %s", PQerrorMessage(conn));
    fflush(stdout);
    PQfinish(conn);
}
