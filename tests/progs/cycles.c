/* cycles — connect and finish many times in one process, watching its resources.
 *
 *   cycles [-n CYCLES] [-i INTERVAL_MS] [CONNINFO]
 *
 * Makes CYCLES (default 10000) PQconnectdb + PQfinish cycles, one after the
 * other, each checking the connection is CONNECTION_OK. Prints one line after
 * the first cycle, one after the middle one and one after the last:
 *   at <cycle> fds=<open fds> threads=<threads> rss_kb=<VmRSS> failed=<so far>
 *      max_ms=<the longest cycle so far>
 * and, for each failed cycle, "error <cycle> <PQerrorMessage, newlines folded>"
 * (at most 10 of them). With -i, sleeps INTERVAL_MS between cycles.
 * Exits 0 only if every cycle connected. */
#include <dirent.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the directory's own fd */
}

/* A numeric field of /proc/self/status ("Threads", "VmRSS"). */
static long status_field(const char *name)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long value = -1;
    size_t len = strlen(name);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, name, len) == 0 && line[len] == ':')
            value = strtol(line + len + 1, NULL, 10);
    if (f)
        fclose(f);
    return value;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void report(int cycle, int failed, long long max_ms)
{
    printf("at %d fds=%d threads=%ld rss_kb=%ld failed=%d max_ms=%lld\n", cycle, open_fds(),
           status_field("Threads"), status_field("VmRSS"), failed, max_ms);
    fflush(stdout);
}

static void print_error(int cycle, PGconn *conn)
{
    char *msg = strdup(conn ? PQerrorMessage(conn) : "out of memory");
    for (char *p = msg; p && *p; p++)
        if (*p == '\n')
            *p = ' ';
    printf("error %d %s\n", cycle, msg ? msg : "");
    free(msg);
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    int cycles = 10000, opt;
    long interval = 0;
    while ((opt = getopt(argc, argv, "n:i:")) != -1) {
        if (opt == 'n')
            cycles = atoi(optarg);
        else if (opt == 'i')
            interval = atol(optarg);
        else
            return 2;
    }
    const char *conninfo = optind < argc ? argv[optind] : "";
    if (cycles < 2 || interval < 0)
        return 2;
    int failed = 0;
    long long max_ms = 0;
    for (int i = 1; i <= cycles; i++) {
        long long start = now_ms();
        PGconn *conn = PQconnectdb(conninfo);
        if (!conn || PQstatus(conn) != CONNECTION_OK) {
            if (++failed <= 10)
                print_error(i, conn);
        }
        PQfinish(conn);
        if (now_ms() - start > max_ms)
            max_ms = now_ms() - start;
        if (i == 1 || i == cycles / 2 || i == cycles)
            report(i, failed, max_ms);
        if (interval)
            pause_ms(interval);
    }
    return failed ? 1 : 0;
}
