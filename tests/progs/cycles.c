/* cycles — connect and finish many times in one process, watching its resources.
 *
 *   cycles [-n CYCLES] [-i INTERVAL_MS] [-T SECONDS] [CONNINFO]
 *
 * Makes CYCLES (default 10000) PQconnectdb + PQfinish cycles, one after the
 * other, each checking the connection is CONNECTION_OK. Prints a line after
 * the first cycle, after every hundredth of CYCLES and after the last one made:
 *   at <cycle> fds=<open fds> threads=<threads> rss_kb=<VmRSS> failed=<so far>
 *      max_ms=<the longest cycle so far>
 * and, for each failed cycle, "error <cycle> <PQerrorMessage, newlines folded>"
 * (at most 10 of them). With -i, sleeps INTERVAL_MS between cycles. With -T,
 * stops after SECONDS even if CYCLES are not done, and says so last:
 *   stopped <cycles done> after <SECONDS> s
 * Exits 0 only if every cycle made connected. */
#include <dirent.h>
#include <libpq-fe.h>
#include <stdbool.h>
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

struct options {
    int cycles;
    long interval_ms;
    long budget_s;
    const char *conninfo;
};

static int parse(int argc, char **argv, struct options *o)
{
    int opt;
    *o = (struct options){10000, 0, 0, ""};
    while ((opt = getopt(argc, argv, "n:i:T:")) != -1) {
        if (opt == 'n')
            o->cycles = atoi(optarg);
        else if (opt == 'i')
            o->interval_ms = atol(optarg);
        else if (opt == 'T')
            o->budget_s = atol(optarg);
        else
            return -1;
    }
    if (optind < argc)
        o->conninfo = argv[optind];
    return o->cycles >= 10 && o->interval_ms >= 0 && o->budget_s >= 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse(argc, argv, &o))
        return 2;
    int failed = 0, step = o.cycles >= 100 ? o.cycles / 100 : 1, i;
    long long max_ms = 0, stop_at = o.budget_s ? now_ms() + o.budget_s * 1000 : 0;
    for (i = 1; i <= o.cycles; i++) {
        long long start = now_ms();
        PGconn *conn = PQconnectdb(o.conninfo);
        if ((!conn || PQstatus(conn) != CONNECTION_OK) && ++failed <= 10)
            print_error(i, conn);
        PQfinish(conn);
        if (now_ms() - start > max_ms)
            max_ms = now_ms() - start;
        bool out_of_time = stop_at && now_ms() >= stop_at && i < o.cycles;
        if (i == 1 || i % step == 0 || out_of_time)
            report(i, failed, max_ms);
        if (out_of_time) {
            printf("stopped %d after %ld s\n", i, o.budget_s);
            break;
        }
        if (o.interval_ms)
            pause_ms(o.interval_ms);
    }
    return failed ? 1 : 0;
}
