/* interposed.h — the one list of the libpq functions the shim uses.
 *
 * HPQ_INTERPOSED(X) lists the functions the shim interposes, one line each:
 *   X(ret, name, field, params, args)
 * From that line come: the exported wrapper `ret name params` (entry.c), which
 * calls hpq_on_<field>(caller, args...) (intercept.h: the wrapper's logic, the
 * one thing to write by hand); its entry in the table the shim's dlsym answers
 * from (entry.c); the version script (build/exports.map, from exports.map.in);
 * and the field `field` of struct hpq_libpq, the real function of the caller's
 * libpq, bound by name (real.c).
 *
 * HPQ_CALLED(X) lists the libpq functions the shim only calls, as
 *   X(ret, name, field, params)
 * each a field of struct hpq_libpq, bound with the others.
 *
 * Only macros: expanding them needs <libpq-fe.h>'s types. */
#ifndef HPQ_INTERPOSED_H
#define HPQ_INTERPOSED_H

#define HPQ_KEYWORDS_VALUES \
    (const char *const *keywords, const char *const *values, int expand_dbname)

#define HPQ_INTERPOSED(X)                                                                      \
    X(PGconn *, PQconnectdb, connectdb, (const char *conninfo), (conninfo))                     \
    X(PGconn *, PQconnectdbParams, connectdb_params, HPQ_KEYWORDS_VALUES,                       \
      (keywords, values, expand_dbname))                                                       \
    X(PGconn *, PQsetdbLogin, setdb_login,                                                      \
      (const char *host, const char *port, const char *options, const char *tty,               \
       const char *dbname, const char *login, const char *pwd),                                \
      (host, port, options, tty, dbname, login, pwd))                                          \
    X(PGconn *, PQconnectStart, connect_start, (const char *conninfo), (conninfo))              \
    X(PGconn *, PQconnectStartParams, connect_start_params, HPQ_KEYWORDS_VALUES,                \
      (keywords, values, expand_dbname))                                                       \
    X(PostgresPollingStatusType, PQconnectPoll, connect_poll, (PGconn * conn), (conn))          \
    X(PGPing, PQping, ping, (const char *conninfo), (conninfo))                                 \
    X(PGPing, PQpingParams, ping_params, HPQ_KEYWORDS_VALUES, (keywords, values, expand_dbname)) \
    X(void, PQreset, reset, (PGconn * conn), (conn))                                            \
    X(int, PQresetStart, reset_start, (PGconn * conn), (conn))                                  \
    X(PostgresPollingStatusType, PQresetPoll, reset_poll, (PGconn * conn), (conn))              \
    X(void, PQfinish, finish, (PGconn * conn), (conn))

#define HPQ_CALLED(X)                                                                          \
    X(PQconninfoOption *, PQconninfoParse, conninfo_parse,                                      \
      (const char *conninfo, char **errmsg))                                                   \
    X(void, PQconninfoFree, conninfo_free, (PQconninfoOption * options))                        \
    X(void, PQfreemem, freemem, (void *ptr))                                                    \
    X(ConnStatusType, PQstatus, status, (const PGconn *conn))                                   \
    X(char *, PQerrorMessage, error_message, (const PGconn *conn))                              \
    X(PGVerbosity, PQsetErrorVerbosity, set_error_verbosity,                                    \
      (PGconn * conn, PGVerbosity verbosity))                                                  \
    /* libpq's own copies of the credentials a reset reuses: see creds.h */                   \
    X(char *, PQpass, pass, (const PGconn *conn))                                              \
    X(char *, PQuser, user, (const PGconn *conn))

/* (a, b) → a, b: splices a parenthesised argument list into another. */
#define HPQ_UNPARENTHESISE(...) __VA_ARGS__

#endif
