/* real.h — the real libpq behind each call.
 *
 * The shim never links libpq: it binds to the copy its caller uses, so a
 * process holding two copies (a system libpq and a wheel's private one) keeps
 * each PGconn with the libpq that made it. */
#ifndef HPQ_REAL_H
#define HPQ_REAL_H

#include <libpq-fe.h>

/* One copy of libpq: every function the shim calls, all from that copy. */
struct hpq_libpq {
    const void *base; /* load address, the copy's identity */
    PGconn *(*connectdb)(const char *conninfo);
    PGconn *(*connectdb_params)(const char *const *keywords, const char *const *values,
                                int expand_dbname);
    PGconn *(*setdb_login)(const char *host, const char *port, const char *options,
                           const char *tty, const char *dbname, const char *login,
                           const char *pwd);
    PGconn *(*connect_start)(const char *conninfo);
    PGconn *(*connect_start_params)(const char *const *keywords, const char *const *values,
                                    int expand_dbname);
    PostgresPollingStatusType (*connect_poll)(PGconn *conn);
    PGPing (*ping)(const char *conninfo);
    PGPing (*ping_params)(const char *const *keywords, const char *const *values,
                          int expand_dbname);
    void (*reset)(PGconn *conn);
    int (*reset_start)(PGconn *conn);
    PostgresPollingStatusType (*reset_poll)(PGconn *conn);
    PQconninfoOption *(*conninfo_parse)(const char *conninfo, char **errmsg);
    void (*conninfo_free)(PQconninfoOption *options);
    void (*freemem)(void *ptr);
    ConnStatusType (*status)(const PGconn *conn);
    char *(*error_message)(const PGconn *conn);
    PGVerbosity (*set_error_verbosity)(PGconn *conn, PGVerbosity verbosity);
    void (*finish)(PGconn *conn);
};

/* The libpq that code at address caller uses, or NULL (logged) if none. */
const struct hpq_libpq *hpq_libpq_for(const void *caller);

/* fn is a function of a libpq that the program looked up with dlsym: use that
 * libpq for callers with none of their own (ctypes calls come from libffi). */
void hpq_libpq_seen(const void *fn);

/* Fork handlers. */
void hpq_real_lock(void);
void hpq_real_unlock(void);

#define HPQ_CALLER __builtin_return_address(0)

#endif
