/* fork_early — a fork during another thread's first connection.
 *
 *   fork_early CONNINFO RUNS MAX_DELAY_MS
 *
 * Each run is a fresh process (this program again, through /proc/self/exe,
 * so the shim, libcurl and libpq start cold): a thread makes the process's
 * first connection while the main thread, after a delay spread over
 * 0..MAX_DELAY_MS across the runs, forks; the child connects on its own and
 * exits. A child that has not exited after 10 s has hung: it is killed.
 * Prints a line per run that went wrong ("run N delay D us: hung", "crashed"
 * or "failed": the child's or the thread's connection failed), then "runs N
 * ok N hung N crashed N failed N", N the runs made: it stops once 3 went wrong,
 * so that it stays bounded. Exits 0 if every run was ok.
 *
 * FORK_EARLY_REFUSED=PORT: a connection is ok when refused on PORT (see
 * connect_once). FORK_EARLY_GDB set: a hung child's backtraces (gdb) go to
 * stderr before it is killed. */
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

enum outcome { OK, HUNG, CRASHED, FAILED, N_OUTCOMES };
#ifndef MAX_WRONG
#define MAX_WRONG 3 /* -DMAX_WRONG=1000 to count every run */
#endif
static const char *const outcome_names[] = {"ok", "hung", "crashed", "failed"};

static const char *conninfo;
static const char *refused; /* getenv("FORK_EARLY_REFUSED") */

/* Connected; or, with FORK_EARLY_REFUSED set, refused by the server of the
 * URL the shim fetched, whose port nothing listens on (then the run tests the
 * shim's own fetch alone: libpq never reaches TLS). */
static int connect_once(void)
{
    PGconn *conn = PQconnectdb(conninfo);
    int ok = refused ? PQstatus(conn) == CONNECTION_BAD &&
                           strstr(PQerrorMessage(conn), "Connection refused") &&
                           strstr(PQerrorMessage(conn), refused)
                     : PQstatus(conn) == CONNECTION_OK;
    if (!ok)
        fprintf(stderr, "fork_early[%d]: %s", (int)getpid(), PQerrorMessage(conn));
    PQfinish(conn);
    return ok;
}

static void *thread_main(void *arg)
{
    *(int *)arg = connect_once();
    return NULL;
}

/* With FORK_EARLY_GDB set, a hung child's threads' backtraces, on stderr. */
static void show_threads(pid_t pid)
{
    if (!getenv("FORK_EARLY_GDB"))
        return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "gdb -p %d -batch -ex 'thread apply all bt' 2>&1 | grep '^#' >&2",
             (int)pid);
    if (system(cmd) != 0)
        fprintf(stderr, "fork_early: gdb failed\n");
}

/* How PID ended, waiting at most TENTHS/10 s (then it is killed: hung). */
static enum outcome wait_for(pid_t pid, int tenths, int *signo)
{
    for (int i = 0; i < tenths * 10; i++) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            *signo = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
            if (WIFSIGNALED(status))
                return CRASHED;
            return WEXITSTATUS(status) == 0 ? OK : FAILED;
        }
        usleep(10000);
    }
    show_threads(pid);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return HUNG;
}

/* One run, in a fresh process: exits with the child's outcome (FAILED when
 * the child was fine but the thread's own connection failed). */
static int one_run(int delay_us)
{
    int thread_ok = 0;
    pthread_t tid;
    pthread_create(&tid, NULL, thread_main, &thread_ok);
    if (delay_us > 0)
        usleep(delay_us);
    pid_t pid = fork();
    if (pid == 0)
        _exit(connect_once() ? OK : FAILED);
    int signo = 0;
    enum outcome child = pid < 0 ? FAILED : wait_for(pid, 100, &signo);
    if (child == CRASHED)
        fprintf(stderr, "fork_early: child %d killed by signal %d\n", (int)pid, signo);
    if (child == HUNG)
        fprintf(stderr, "fork_early: child %d hung, killed\n", (int)pid);
    pthread_join(tid, NULL);
    return child == OK && !thread_ok ? FAILED : (int)child;
}

/* Runs this program once more as "--one CONNINFO DELAY_US"; the run's outcome
 * (a run that itself hangs or crashes counts as such). */
static enum outcome spawn_run(int delay_us)
{
    char delay[16];
    snprintf(delay, sizeof delay, "%d", delay_us);
    char *argv[] = {"fork_early", "--one", (char *)conninfo, delay, NULL};
    /* in a process group of its own, so that a run that overstays is killed
     * with its child */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    pid_t pid;
    int spawned = posix_spawn(&pid, "/proc/self/exe", NULL, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    if (spawned != 0)
        return FAILED;
    int status;
    for (int i = 0; i < 3000; i++) { /* 30 s: the run waits 10 s for its child */
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) && WEXITSTATUS(status) < N_OUTCOMES
                       ? (enum outcome)WEXITSTATUS(status)
                       : CRASHED;
        usleep(10000);
    }
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return HUNG;
}

int main(int argc, char **argv)
{
    refused = getenv("FORK_EARLY_REFUSED");
    if (argc == 4 && strcmp(argv[1], "--one") == 0) {
        conninfo = argv[2];
        return one_run(atoi(argv[3]));
    }
    if (argc != 4)
        return 2;
    conninfo = argv[1];
    int runs = atoi(argv[2]), max_delay_us = atoi(argv[3]) * 1000;
    int counts[N_OUTCOMES] = {0};
    int made = 0;
    for (int i = 0; i < runs && made - counts[OK] < MAX_WRONG; i++, made++) {
        int delay_us = runs > 1 ? (int)((long)max_delay_us * i / (runs - 1)) : 0;
        enum outcome o = spawn_run(delay_us);
        counts[o]++;
        if (o != OK)
            printf("run %d delay %d us: %s\n", i, delay_us, outcome_names[o]);
    }
    printf("runs %d ok %d hung %d crashed %d failed %d\n", made, counts[OK], counts[HUNG],
           counts[CRASHED], counts[FAILED]);
    return counts[OK] == runs ? 0 : 1;
}
