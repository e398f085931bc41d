/* fork_locks — forks while other threads are inside each of the shim's locked
 * regions, through the program's ordinary calls.
 *
 *   fork_locks CONNINFO FORKS
 *
 * Threads, for the whole run:
 *   fetch:   one connection whose URL fetch the tests make slow (the API
 *            double's delay fault): the cache has a fetch in flight;
 *   finish:  PQfinish(NULL) in a loop: the caller's libpq table (real.c) and,
 *            once a connection is tracked, the connection registry (conns.c);
 *   poll:    PQconnectPoll on a connection it holds open: the registry;
 *   log:     dlsym(libpq, "PQconnectdb") in a loop: the shim answers and logs a
 *            debug line, scrubbed under the log's lock (log.c);
 *   connect: connect and finish in a loop: the URL cache (cache.c), the
 *            registry, the log.
 * The loops run flat out for a moment before each fork, and idle otherwise.
 * Meanwhile the main thread forks FORKS times, one child at a time; each child
 * makes those calls once itself (every lock again) and exits. A child that has
 * not exited after 20 s has deadlocked. Prints "forks N ok N hung N failed N",
 * then "threads ok" or "threads error ..."; exits 0 if every child and every
 * thread connected. FORK_LOCKS_GDB set: a hung child's backtraces (gdb) go to
 * stderr before it is killed. */
#include <dlfcn.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *conninfo;
static volatile int stop;
static volatile int hot; /* set around each fork: the loops run flat out only then */
static volatile int threads_failed;
static void *libpq; /* a handle on the libpq this program links */

static int connect_once(void)
{
    PGconn *conn = PQconnectdb(conninfo);
    int ok = PQstatus(conn) == CONNECTION_OK;
    if (!ok)
        fprintf(stderr, "fork_locks: %s", PQerrorMessage(conn));
    PQfinish(conn);
    return ok;
}

static void *fetch_thread(void *arg)
{
    (void)arg;
    if (!connect_once())
        threads_failed = 1;
    return NULL;
}

/* Wait for the next fork, without burning a core meanwhile. */
static int cold(void)
{
    if (hot)
        return 0;
    usleep(1000);
    return 1;
}

static void *finish_thread(void *arg)
{
    (void)arg;
    while (!stop)
        if (!cold())
            PQfinish(NULL);
    return NULL;
}

static void *poll_thread(void *arg)
{
    (void)arg;
    PGconn *conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK)
        threads_failed = 1;
    while (!stop && PQstatus(conn) == CONNECTION_OK)
        if (!cold())
            PQconnectPoll(conn);
    PQfinish(conn);
    return NULL;
}

static void *log_thread(void *arg)
{
    (void)arg;
    while (!stop)
        if (!cold() && !dlsym(libpq, "PQconnectdb"))
            threads_failed = 1;
    return NULL;
}

static void *connect_thread(void *arg)
{
    (void)arg;
    while (!stop) {
        if (!connect_once())
            threads_failed = 1;
        usleep(10 * 1000); /* leave the machine's cores to the children */
    }
    return NULL;
}

/* What a child does: every locked region once, then one connection. */
static int child_main(void)
{
    PQfinish(NULL);
    return dlsym(libpq, "PQconnectdb") && connect_once() ? 0 : 1;
}

static void show_threads(pid_t pid)
{
    if (!getenv("FORK_LOCKS_GDB"))
        return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "gdb -p %d -batch -ex 'thread apply all bt' 2>&1 | grep '^#' >&2",
             (int)pid);
    if (system(cmd) != 0)
        fprintf(stderr, "fork_locks: gdb failed\n");
}

/* 0 exited ok, 1 failed, 2 hung (killed after 20 s). */
static int wait_child(pid_t pid)
{
    for (int i = 0; i < 2000; i++) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
        usleep(10000);
    }
    show_threads(pid);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    conninfo = argv[1];
    int forks = atoi(argv[2]);
    libpq = dlopen("libpq.so.5", RTLD_LAZY | RTLD_NOLOAD);
    if (!libpq)
        return 2;
    void *(*mains[])(void *) = {fetch_thread, finish_thread, poll_thread, log_thread,
                                connect_thread};
    enum { N_THREADS = sizeof mains / sizeof mains[0] };
    pthread_t tids[N_THREADS];
    pthread_create(&tids[0], NULL, mains[0], NULL);
    usleep(300 * 1000); /* the fetch is now in flight: the others wait for it */
    for (int i = 1; i < N_THREADS; i++)
        pthread_create(&tids[i], NULL, mains[i], NULL);
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < forks; i++) {
        hot = 1;
        usleep(2000); /* the loops are inside the shim now */
        pid_t pid = fork();
        hot = 0;
        if (pid == 0)
            _exit(child_main());
        counts[pid < 0 ? 1 : wait_child(pid)]++;
    }
    stop = 1;
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(tids[i], NULL);
    printf("forks %d ok %d hung %d failed %d\n", forks, counts[0], counts[2], counts[1]);
    printf("threads %s\n", threads_failed ? "error" : "ok");
    return counts[0] == forks && !threads_failed ? 0 : 1;
}
