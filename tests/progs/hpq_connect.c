/* hpq_connect — the tests' own libpq program.
 *
 *   hpq_connect [-e connectdb|params|setdb|start] [-t THREADS] [-r ROUNDS]
 *               [-w FILE] [-u FILE] [CONNINFO]
 *
 * Connects THREADS times at once (default 1) through the chosen entry point
 * (start: PQconnectStart and a PQconnectPoll loop, as psycopg 3 and Ruby's pg
 * do), each connection running one query, and prints one line per connection:
 *   ok user=<current_user> db=<current_database> ssl=<t|f>
 *   error <PQerrorMessage, newlines folded>
 * ROUNDS repeats that, one round after the other, in the same process. With
 * -w, one connection first ("warm ..."), then it waits until FILE exists.
 * With -u, rounds go on (50 ms apart, at least ROUNDS) until FILE exists: a
 * process connecting in a loop.
 * Exits 0 only if every connection succeeded. */
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *entry = "connectdb";
static const char *conninfo = "";
static pthread_barrier_t start_line;

/* The asynchronous connect loop libpq documents for PQconnectPoll. */
static PGconn *start_conn(void)
{
    PGconn *conn = PQconnectStart(conninfo);
    if (!conn || PQstatus(conn) == CONNECTION_BAD)
        return conn;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        struct pollfd pfd = {PQsocket(conn), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, 0};
        if (poll(&pfd, 1, 30000) <= 0)
            break;
        st = PQconnectPoll(conn);
    }
    return conn;
}

static PGconn *open_conn(void)
{
    if (strcmp(entry, "start") == 0)
        return start_conn();
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

/* One round: THREADS connections at once. Returns the number that failed. */
static int round_of(int threads)
{
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
    fflush(stdout);
    pthread_barrier_destroy(&start_line);
    free(tids);
    free(lines);
    return failed;
}

static void warm_then_wait(const char *file)
{
    PGconn *conn = open_conn();
    printf("warm %s\n", PQstatus(conn) == CONNECTION_OK ? "ok" : "error");
    fflush(stdout);
    PQfinish(conn);
    while (access(file, F_OK) != 0)
        usleep(10000);
}

int main(int argc, char **argv)
{
    int threads = 1, rounds = 1, opt;
    const char *wait_file = NULL, *until_file = NULL;
    while ((opt = getopt(argc, argv, "e:t:r:w:u:")) != -1) {
        if (opt == 'e')
            entry = optarg;
        else if (opt == 't')
            threads = atoi(optarg);
        else if (opt == 'r')
            rounds = atoi(optarg);
        else if (opt == 'w')
            wait_file = optarg;
        else if (opt == 'u')
            until_file = optarg;
        else
            return 2;
    }
    if (optind < argc)
        conninfo = argv[optind];
    if (threads < 1 || threads > 1024 || rounds < 1)
        return 2;
    if (wait_file)
        warm_then_wait(wait_file);
    int failed = 0;
    for (int r = 0; r < rounds || (until_file && access(until_file, F_OK) != 0); r++) {
        if (r > 0 && until_file)
            usleep(50000);
        failed += round_of(threads);
    }
    return failed ? 1 : 0;
}
