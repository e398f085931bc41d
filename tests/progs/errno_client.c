/* errno_client — what a program sees of errno and of its signal handlers
 * across libpq calls through the shim.
 *
 *   errno_client CONNINFO
 *
 * Before each call errno is set to a sentinel; after it, errno must still be
 * the sentinel. PQconnectdb, PQping, PQconnectStart + PQconnectPoll and PQfinish
 * are called (the shim rewrites the first three; its first call also reads the
 * configuration). The disposition of common signals and the SigCgt mask of
 * /proc/self/status must be the same after as before. Prints one line per
 * check: "ok <what>" or "changed <what>: ..."; exits 0 only if all are ok. */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define SENTINEL 4242

static int failures;

static void check_errno(const char *what)
{
    int e = errno;
    if (e == SENTINEL) {
        printf("ok errno after %s\n", what);
    } else {
        printf("changed errno after %s: %d (%s)\n", what, e, strerror(e));
        failures++;
    }
}

/* SigCgt: the signals this process catches, as the kernel reports it. */
static void sigcgt(char *out, size_t outlen)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    snprintf(out, outlen, "?");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "SigCgt:", 7) == 0)
            snprintf(out, outlen, "%s", line + 7);
    if (f)
        fclose(f);
}

static const int watched[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGALRM,
                              SIGSEGV, SIGBUS,  SIGABRT, SIGUSR1, SIGUSR2};
#define N_WATCHED (sizeof watched / sizeof watched[0])

static void dispositions(void *out[N_WATCHED])
{
    for (size_t i = 0; i < N_WATCHED; i++) {
        struct sigaction sa;
        sigaction(watched[i], NULL, &sa);
        out[i] = (void *)sa.sa_handler;
    }
}

static PGconn *start_and_poll(const char *conninfo)
{
    PGconn *conn = PQconnectStart(conninfo);
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (conn && PQstatus(conn) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
           st != PGRES_POLLING_FAILED) {
        struct pollfd pfd = {PQsocket(conn), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, 0};
        if (poll(&pfd, 1, 30000) <= 0)
            break;
        errno = SENTINEL;
        st = PQconnectPoll(conn);
    }
    return conn;
}

static void exercise(const char *conninfo)
{
    errno = SENTINEL;
    PGconn *conn = PQconnectdb(conninfo);
    check_errno("PQconnectdb (the first call: it reads the configuration)");
    printf("%s connection\n", PQstatus(conn) == CONNECTION_OK ? "ok" : "bad");
    errno = SENTINEL;
    PGPing ping = PQping(conninfo);
    check_errno("PQping");
    printf("%s ping\n", ping == PQPING_OK ? "ok" : "bad");
    errno = SENTINEL;
    PQfinish(conn);
    check_errno("PQfinish");
    errno = SENTINEL;
    conn = start_and_poll(conninfo);
    check_errno("PQconnectStart + PQconnectPoll");
    errno = SENTINEL;
    PQfinish(conn);
    check_errno("PQfinish");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: errno_client CONNINFO\n");
        return 2;
    }
    char cgt_before[64], cgt_after[64];
    void *before[N_WATCHED], *after[N_WATCHED];
    sigcgt(cgt_before, sizeof cgt_before);
    dispositions(before);
    exercise(argv[1]);
    sigcgt(cgt_after, sizeof cgt_after);
    dispositions(after);
    if (strcmp(cgt_before, cgt_after) == 0 && memcmp(before, after, sizeof before) == 0) {
        printf("ok signal handlers\n");
    } else {
        printf("changed signal handlers: SigCgt %.16s -> %.16s\n", cgt_before, cgt_after);
        failures++;
    }
    return failures ? 1 : 0;
}
