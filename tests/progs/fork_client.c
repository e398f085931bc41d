/* fork_client — a fork while another thread is inside the shim.
 *
 *   fork_client CONNINFO [WAIT_S]
 *
 * A thread connects (the tests make the API answer slowly, so the thread is
 * in the middle of the shim's URL fetch); meanwhile the main thread forks,
 * and the child connects on its own. Prints "child ok", "child error ...",
 * "child hung" (no exit within WAIT_S seconds, default 20; more under
 * memcheck) or "child crashed", then the thread's result as "thread ok" /
 * "thread error ...". Exits 0 if both connected. */
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *conninfo;

static int connect_once(char *why, size_t len)
{
    PGconn *conn = PQconnectdb(conninfo);
    int ok = PQstatus(conn) == CONNECTION_OK;
    snprintf(why, len, "%s", ok ? "" : PQerrorMessage(conn));
    PQfinish(conn);
    return ok;
}

static void *thread_main(void *arg)
{
    char *result = arg;
    char why[512];
    int ok = connect_once(why, sizeof why);
    snprintf(result, 600, "thread %s%s", ok ? "ok" : "error ", why);
    return NULL;
}

/* The child's fate, waiting at most WAIT_S seconds. */
static const char *wait_child(pid_t pid, int wait_s)
{
    for (int i = 0; i < wait_s * 100; i++) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? (WEXITSTATUS(status) == 0 ? "child ok" : "child error")
                                     : "child crashed";
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return "child hung";
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3)
        return 2;
    conninfo = argv[1];
    int wait_s = argc == 3 ? atoi(argv[2]) : 20;
    char thread_result[600] = "";
    pthread_t tid;
    pthread_create(&tid, NULL, thread_main, thread_result);
    usleep(300 * 1000); /* the thread is now waiting on the API */
    pid_t pid = fork();
    if (pid == 0) {
        char why[512];
        _exit(connect_once(why, sizeof why) ? 0 : 1);
    }
    const char *child = wait_child(pid, wait_s > 0 ? wait_s : 20);
    pthread_join(tid, NULL);
    printf("%s\n%s\n", child, thread_result);
    return strcmp(child, "child ok") == 0 && strncmp(thread_result, "thread ok", 9) == 0 ? 0 : 1;
}
