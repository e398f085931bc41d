/* dlopen_client — a libpq program that does not link libpq: it dlopens a libpq
 * and calls it only through dlsym on that handle, as ctypes, FFI bindings,
 * plugin hosts and wheels or gems that bundle their own copy do.
 *
 *   dlopen_client local  LIBPATH [CONNINFO]   dlopen(LIBPATH, RTLD_NOW | RTLD_LOCAL)
 *   dlopen_client global LIBPATH [CONNINFO]   dlopen(LIBPATH, RTLD_NOW | RTLD_GLOBAL)
 *   dlopen_client both   LIBPATH [CONNINFO]   the system libpq (libpq.so.5) RTLD_GLOBAL
 *                                             and LIBPATH (a private copy) RTLD_LOCAL
 *
 * Connects once through each libpq opened (PQconnectdb), runs one query and
 * prints one line per connection, in that order:
 *   ok user=<current_user> db=<current_database> ssl=<t|f>
 *   error <message on one line>
 * Each connection is checked to have been made by a libpq this program opened
 * (in local/global mode: the one called), and no other libpq may have been
 * loaded meanwhile (a shim must use the program's copy, never bring its own);
 * in `both` mode the two handles must be two different objects.
 * Exit status: 0 every connection ok, 1 one failed, 2 usage or setup error (a
 * setup error is an "error dlopen_client: ..." line too).
 *
 * It must be built WITHOUT -lpq: libpq may not be in the process before the
 * dlopen. It checks that at start and refuses to run otherwise. */
#include <dlfcn.h>
#include <libpq-fe.h> /* types and constants only: no libpq symbol is referenced */
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYSTEM_LIBPQ "libpq.so.5"
#define WHOAMI                                                                               \
    "SELECT current_user, current_database(), ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"

struct libpq {
    const char *path;
    void *handle;
    PGconn *(*connectdb)(const char *conninfo);
    ConnStatusType (*status)(const PGconn *conn);
    char *(*error_message)(const PGconn *conn);
    PGresult *(*exec)(PGconn *conn, const char *query);
    ExecStatusType (*result_status)(const PGresult *res);
    char *(*getvalue)(const PGresult *res, int row, int column);
    void (*clear)(PGresult *res);
    void (*finish)(PGconn *conn);
    PQnoticeProcessor (*set_notice_processor)(PGconn *conn, PQnoticeProcessor proc, void *arg);
};

static void fold(char *s)
{
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    /* no trailing blanks: libpq's messages end with a newline */
    for (size_t n = strlen(s); n > 0 && s[n - 1] == ' '; n--)
        s[n - 1] = '\0';
}

#define RESOLVE(lib, field, name)                                                            \
    do {                                                                                     \
        *(void **)&(lib)->field = dlsym((lib)->handle, (name));                              \
        if (!(lib)->field) {                                                                 \
            printf("error dlopen_client: %s: no %s: %s\n", (lib)->path, (name), dlerror());    \
            return -1;                                                                       \
        }                                                                                    \
    } while (0)

static int open_libpq(struct libpq *lib, const char *path, int scope)
{
    memset(lib, 0, sizeof *lib);
    lib->path = path;
    lib->handle = dlopen(path, RTLD_NOW | scope);
    if (!lib->handle) {
        printf("error dlopen_client: dlopen %s: %s\n", path, dlerror());
        return -1;
    }
    RESOLVE(lib, connectdb, "PQconnectdb");
    RESOLVE(lib, status, "PQstatus");
    RESOLVE(lib, error_message, "PQerrorMessage");
    RESOLVE(lib, exec, "PQexec");
    RESOLVE(lib, result_status, "PQresultStatus");
    RESOLVE(lib, getvalue, "PQgetvalue");
    RESOLVE(lib, clear, "PQclear");
    RESOLVE(lib, finish, "PQfinish");
    RESOLVE(lib, set_notice_processor, "PQsetNoticeProcessor");
    return 0;
}

/* The loaded object a handle stands for. */
static struct link_map *object_of_handle(void *handle)
{
    struct link_map *map = NULL;
    return dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 ? map : NULL;
}

/* The loaded object containing an address. */
static struct link_map *object_of_address(const void *addr)
{
    Dl_info info;
    struct link_map *map = NULL;
    return dladdr1(addr, &info, (void **)&map, RTLD_DL_LINKMAP) ? map : NULL;
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Which copy of libpq made conn? Its default notice processor lives there.
 * NULL if that cannot be told. */
static struct link_map *maker_of(const struct libpq *lib, PGconn *conn)
{
    PQnoticeProcessor dflt = lib->set_notice_processor(conn, quiet, NULL);
    lib->set_notice_processor(conn, dflt, NULL);
    return dflt ? object_of_address((const void *)dflt) : NULL;
}

/* The copies a connection may come from: the one called, and in `both` mode
 * the other one too, because a libpq's calls to its own exported functions
 * (PQconnectdb -> PQconnectStart -> PQconnectPoll) go through its PLT and are
 * bound to the first definition in the global scope: the system libpq loaded
 * RTLD_GLOBAL interposes on the private copy, with or without a shim. */
static struct link_map *allowed[2];
static size_t n_allowed;

/* 1 if conn comes from an allowed copy and no other libpq was loaded meanwhile. */
static int copies_ok(const struct libpq *lib, PGconn *conn, char *why, size_t len)
{
    struct link_map *maker = maker_of(lib, conn);
    int known = maker == NULL;
    for (size_t i = 0; i < n_allowed && !known; i++)
        known = maker == allowed[i];
    if (!known) {
        snprintf(why, len, "error the connection was made by %s, not by the %s that was called",
                 maker->l_name, lib->path);
        return 0;
    }
    /* A shim must use the copy the program uses, never load another one. */
    void *sys = dlopen(SYSTEM_LIBPQ, RTLD_LAZY | RTLD_NOLOAD);
    struct link_map *sys_map = sys ? object_of_handle(sys) : NULL;
    known = sys_map == NULL;
    for (size_t i = 0; i < n_allowed && !known; i++)
        known = sys_map == allowed[i];
    if (sys)
        dlclose(sys);
    if (!known) {
        snprintf(why, len, "error a second libpq (%s) was loaded into the process",
                 sys_map->l_name);
        return 0;
    }
    return 1;
}

/* Connect through lib, query, print the line; 0 if ok. */
static int connect_once(const struct libpq *lib, const char *conninfo)
{
    char line[2048];
    int ok = 0;
    PGconn *conn = lib->connectdb(conninfo);
    if (!conn) {
        snprintf(line, sizeof line, "error out of memory");
    } else if (lib->status(conn) != CONNECTION_OK) {
        snprintf(line, sizeof line, "error %s", lib->error_message(conn));
    } else if (copies_ok(lib, conn, line, sizeof line)) {
        PGresult *res = lib->exec(conn, WHOAMI);
        const char *user = res ? lib->getvalue(res, 0, 0) : NULL;
        const char *db = res ? lib->getvalue(res, 0, 1) : NULL;
        const char *ssl = res ? lib->getvalue(res, 0, 2) : NULL;
        if (res && lib->result_status(res) == PGRES_TUPLES_OK && user && db && ssl) {
            snprintf(line, sizeof line, "ok user=%s db=%s ssl=%s", user, db,
                     ssl[0] == 't' ? "t" : "f");
            ok = 1;
        } else {
            snprintf(line, sizeof line, "error %s", lib->error_message(conn));
        }
        lib->clear(res);
    }
    if (conn)
        lib->finish(conn);
    fold(line);
    printf("%s\n", line);
    fflush(stdout);
    return ok ? 0 : 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: dlopen_client local|global|both LIBPATH [CONNINFO]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4)
        return usage();
    const char *mode = argv[1], *path = argv[2], *conninfo = argc == 4 ? argv[3] : "";
    if (strcmp(mode, "local") != 0 && strcmp(mode, "global") != 0 && strcmp(mode, "both") != 0)
        return usage();

    /* Nothing may have brought libpq in before us (a -lpq link, a preloaded
     * library depending on it): the point is to find it only through dlopen. */
    void *already = dlopen(SYSTEM_LIBPQ, RTLD_LAZY | RTLD_NOLOAD);
    if (already) {
        printf("error dlopen_client: %s is already loaded before any dlopen "
               "(was this program linked with -lpq?)\n", SYSTEM_LIBPQ);
        dlclose(already);
        return 2;
    }

    struct libpq lib, system_lib;
    if (strcmp(mode, "both") != 0) {
        if (open_libpq(&lib, path, strcmp(mode, "local") == 0 ? RTLD_LOCAL : RTLD_GLOBAL))
            return 2;
        allowed[n_allowed++] = object_of_handle(lib.handle);
        return connect_once(&lib, conninfo);
    }
    if (open_libpq(&system_lib, SYSTEM_LIBPQ, RTLD_GLOBAL) || open_libpq(&lib, path, RTLD_LOCAL))
        return 2;
    struct link_map *a = object_of_handle(system_lib.handle), *b = object_of_handle(lib.handle);
    if (!a || !b || a == b) {
        printf("error dlopen_client: %s and %s are the same loaded object, not two copies\n",
               SYSTEM_LIBPQ, path);
        return 2;
    }
    allowed[n_allowed++] = a;
    allowed[n_allowed++] = b;
    int failed = connect_once(&system_lib, conninfo);
    failed |= connect_once(&lib, conninfo);
    return failed;
}
