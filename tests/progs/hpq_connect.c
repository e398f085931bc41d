/* hpq_connect — the tests' own libpq program.
 *
 *   hpq_connect [-e connectdb|params|setdb] [-t THREADS] [CONNINFO]
 *
 * Connects THREADS times at once (default 1) through the chosen entry point,
 * each connection running one query, and prints one line per connection:
 *   ok user=<current_user> db=<current_database> ssl=<t|f>
 *   error <PQerrorMessage, newlines folded>
 * Exits 0 only if every connection succeeded. */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *entry = "connectdb";
static const char *conninfo = "";
static pthread_barrier_t start_line;

static PGconn *open_conn(void)
{
    if (strcmp(entry, "params") == 0) {
        const char *keywords[] = {"dbname", NULL};
        const char *values[] = {conninfo, NULL};
        return PQconnectdbParams(keywords, values, 1);
    }
    if (strcmp(entry, "setdb") == 0)
        return PQsetdbLogin(NULL, NULL, NULL, NULL, conninfo, NULL, NULL);
    return PQconnectdb(conninfo);
}

static void fold(char *s)
{
    for (; *s; s++)
        if (*s == '\n')
            *s = ' ';
}

static void report(PGconn *conn, char *line, size_t len)
{
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(line, len, "error %s", PQerrorMessage(conn));
        fold(line);
        return;
    }
    PGresult *res = PQexec(conn, "SELECT current_user, current_database(), "
                                 "(SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())");
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        snprintf(line, len, "ok user=%s db=%s ssl=%s", PQgetvalue(res, 0, 0),
                 PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
    else
        snprintf(line, len, "error %s", PQresultErrorMessage(res));
    fold(line);
    PQclear(res);
}

static void *worker(void *arg)
{
    char *line = arg;
    pthread_barrier_wait(&start_line);
    PGconn *conn = open_conn();
    if (!conn)
        snprintf(line, 1024, "error out of memory");
    else
        report(conn, line, 1024);
    PQfinish(conn);
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = 1, opt;
    while ((opt = getopt(argc, argv, "e:t:")) != -1) {
        if (opt == 'e')
            entry = optarg;
        else if (opt == 't')
            threads = atoi(optarg);
        else
            return 2;
    }
    if (optind < argc)
        conninfo = argv[optind];
    if (threads < 1 || threads > 1024)
        return 2;
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    char *lines = calloc((size_t)threads, 1024);
    pthread_barrier_init(&start_line, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++)
        pthread_create(&tids[i], NULL, worker, lines + (size_t)i * 1024);
    int failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(tids[i], NULL);
        printf("%s\n", lines + (size_t)i * 1024);
        failed += strncmp(lines + (size_t)i * 1024, "ok ", 3) != 0;
    }
    free(tids);
    free(lines);
    return failed ? 1 : 0;
}
