/* doctor_db.c — the database checks of herokupq doctor: the server answers,
 * offers SSL (asked the way libpq asks, with an SSLRequest, before any
 * credential is sent), and accepts the URL's login over TLS 1.2 or later. */
#include "cmd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../log.h"

#define PROBE_TIMEOUT_MS 5000
#define SSL_REQUEST_CODE 80877103 /* PostgreSQL protocol: 1234 << 16 | 5679 */

static const char down_fix[] =
    "the database is down or moved: heroku pg:info -a APP; after a failover or maintenance "
    "the config var changes within minutes, run doctor again";

/* A TCP connection to host:port within the timeout, or -1 with errno. */
static int dial(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0) {
        errno = EHOSTUNREACH;
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int rc = fd < 0 ? -1 : connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc < 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t len = sizeof err;
        rc = poll(&p, 1, PROBE_TIMEOUT_MS) == 1 ? 0 : (errno = ETIMEDOUT, -1);
        if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err)
            rc = (errno = err, -1);
    }
    if (rc < 0 && fd >= 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* The server's one-byte answer to an SSLRequest: 'S', 'N', or 0 (none). */
static char ssl_answer(int fd)
{
    uint32_t request[2] = {htonl(8), htonl(SSL_REQUEST_CODE)};
    char answer = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (send(fd, request, sizeof request, MSG_NOSIGNAL) != (ssize_t)sizeof request)
        return 0;
    if (poll(&p, 1, PROBE_TIMEOUT_MS) != 1 || recv(fd, &answer, 1, 0) != 1)
        return 0;
    return answer;
}

/* The database's rows, in the order they are checked. */
static const char *const rows[] = {"database reachable", "SSL",         "database login",
                                   "SSL in use",         "TLS version", "server version", NULL};

/* "reachable" and "offers SSL", for the first host of the URL. */
static int probe(const char *host, const char *port)
{
    if (host[0] == '/')
        return hpq_check_skip("database reachable", "a unix socket: nothing to probe");
    int fd = dial(host, port);
    if (fd < 0) {
        hpq_check_fail("database reachable", down_fix, "cannot connect to %s port %s: %s", host,
                       port, strerror(errno));
        hpq_check_skip_after(rows, "database reachable", "the server did not answer");
        return 1;
    }
    char answer = ssl_answer(fd);
    close(fd);
    hpq_check_ok("database reachable", "%s port %s answers", host, port);
    if (answer == 'S')
        return hpq_check_ok("SSL", "offered");
    if (answer == 'N')
        hpq_check_fail("SSL", "Heroku Postgres always offers SSL: the config var names another "
                       "server, or something in between strips SSL; herokupq never connects without it",
                       "the server at %s port %s does not offer SSL", host, port);
    else
        hpq_check_fail("SSL", "check that the URL's host and port are PostgreSQL's",
                       "%s port %s did not answer an SSLRequest as PostgreSQL does", host, port);
    hpq_check_skip_after(rows, "SSL", "herokupq never logs in without SSL");
    return 1;
}

/* The URL's login, rewritten as the library would (sslmode at least require). */
static PGconn *login(const char *url)
{
    const struct hpq_libpq *lib = hpq_cmd_libpq();
    struct hpq_params program = {0}, parsed = {0}, out = {0};
    char err[256];
    PGconn *conn = NULL;
    /* An image with LD_PRELOAD in its ENV preloads the library into this
     * command too; it reads its configuration at the first connection: this
     * one must be the doctor's own, exactly as written. */
    setenv("HEROKUPQ_DISABLE", "1", 1);
    hpq_params_set(&program, "connect_timeout", "10");
    hpq_params_set(&program, "application_name", "herokupq doctor");
    if (hpq_url_parse(lib, url, &parsed, err, sizeof err) == 0 &&
        hpq_rewrite(&program, &parsed, NULL, &out) == 0) {
        char *conninfo = hpq_params_to_conninfo(&out);
        conn = conninfo ? PQconnectdb(conninfo) : NULL;
        if (conninfo)
            explicit_bzero(conninfo, strlen(conninfo));
        free(conninfo);
    }
    hpq_params_clear(&program);
    hpq_params_clear(&parsed);
    hpq_params_clear(&out);
    return conn;
}

static int check_session(PGconn *conn)
{
    const char *proto = PQsslAttribute(conn, "protocol");
    int failures = 0;
    if (!PQsslInUse(conn) || !proto) {
        hpq_check_fail("SSL in use", "report this: sslmode=require should forbid it",
                       "the connection is not encrypted");
        hpq_check_skip_after(rows, "SSL in use", "the session is not encrypted");
        return 1;
    }
    hpq_check_ok("SSL in use", "yes");
    if (strcmp(proto, "TLSv1") == 0 || strcmp(proto, "TLSv1.1") == 0)
        failures += hpq_check_fail("TLS version", "the server must offer TLS 1.2 or later",
                                   "%s is older than TLS 1.2", proto);
    else
        hpq_check_ok("TLS version", "%s, %s", proto, PQsslAttribute(conn, "cipher"));
    const char *version = PQparameterStatus(conn, "server_version");
    hpq_check_ok("server version", "PostgreSQL %s, logged in as %s to database %s",
                 version ? version : "?", PQuser(conn), PQdb(conn));
    return failures;
}

int hpq_doctor_database(const struct hpq_config *cfg, const char *url)
{
    (void)cfg;
    struct hpq_params parsed = {0};
    char err[256], host[256];
    hpq_url_parse(hpq_cmd_libpq(), url, &parsed, err, sizeof err);
    const char *h = hpq_params_get(&parsed, "host"), *p = hpq_params_get(&parsed, "port");
    snprintf(host, sizeof host, "%.*s", (int)strcspn(h ? h : "", ","), h ? h : "");
    char port[32];
    snprintf(port, sizeof port, "%.*s", (int)strcspn(p && *p ? p : "5432", ","), p && *p ? p : "5432");
    hpq_params_clear(&parsed);
    int failures = probe(host, port);
    if (failures)
        return failures;
    PGconn *conn = login(url);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        failures = hpq_check_fail("database login",
                                  "if Heroku is rotating the credentials, run doctor again in a "
                                  "minute; else check heroku pg:credentials -a APP",
                                  "%s", conn ? PQerrorMessage(conn) : "out of memory");
        hpq_check_skip_after(rows, "database login", "no session");
    } else
        failures = check_session(conn);
    PQfinish(conn);
    return failures;
}
