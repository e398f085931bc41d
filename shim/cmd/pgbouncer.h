/* pgbouncer.h — PgBouncer as herokupq proxy's child: its configuration, the
 * process, its log stream.
 *
 * The files live in the proxy's private directory (0700): pgbouncer.ini
 * (0600, holds the database password), and with --listen users.txt and
 * hba.conf (the local SCRAM user). Every file is written whole (a temporary
 * file renamed over it) after the old one was wiped, and wiped and removed at
 * exit. PgBouncer reads them on start and on SIGHUP; it gets no password on
 * its command line and an empty environment (never the API token).
 *
 * As root, PgBouncer (which refuses to run as root) runs as an unprivileged
 * user (HEROKUPQ_PROXY_USER, else herokupq-proxy if it exists, else nobody):
 * the child drops to it before exec, the directory and files belong to it. */
#ifndef HPQ_CMD_PGBOUNCER_H
#define HPQ_CMD_PGBOUNCER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../rewrite.h"

#define HPQ_PROXY_USER "herokupq" /* the TCP clients' user name (SCRAM) */

struct hpq_bouncer_opts {
    const char *dir;          /* the private directory (absolute) */
    int port;                 /* the socket's port: DIR/.s.PGSQL.PORT */
    const char *listen_host;  /* --listen HOST, NULL: the socket only */
    int listen_port;          /* --listen PORT */
    bool listen_trust;        /* --listen-trust: no password on TCP */
    const char *pool_mode;    /* session | transaction */
    int max_client_conn, pool_size;
    const char *local_password; /* DIR/password's content, with --listen */
    const char *login_name;   /* the invoking user's name (a socket user name with --listen) */
};

struct hpq_bouncer {
    pid_t pid;       /* the child, 0 once reaped */
    int log_fd;      /* read end of its stdout and stderr */
    uid_t uid;       /* who it runs as, and owns its files */
    gid_t gid;
    bool drop;       /* we are root: the child drops to uid/gid */
    char binary[512];
    char buf[8192];  /* a log line being read */
    size_t used;
};

/* Find the pgbouncer program: HEROKUPQ_PGBOUNCER, else PATH, else /usr/sbin.
 * 0, or -1 with the reason in err. */
int hpq_bouncer_find(struct hpq_bouncer *b, char *err, size_t errlen);

/* Who PgBouncer runs as (see above). 0, or -1 with the reason in err. */
int hpq_bouncer_pick_user(struct hpq_bouncer *b, char *err, size_t errlen);

/* Write every file for the URL's parameters (host, port, dbname, user,
 * password, sslmode). 0, or -1 with the reason (no secrets) in err. */
int hpq_bouncer_write(const struct hpq_bouncer *b, const struct hpq_bouncer_opts *o,
                      const struct hpq_params *url, char *err, size_t errlen);

/* Start the child. 0, or -1 with the reason in err. */
int hpq_bouncer_start(struct hpq_bouncer *b, const struct hpq_bouncer_opts *o, char *err,
                      size_t errlen);

/* Signal the child (SIGHUP reload, SIGUSR1 pause, SIGUSR2 resume, SIGINT safe
 * shutdown, SIGTERM immediate shutdown); nothing once it is gone. */
void hpq_bouncer_signal(const struct hpq_bouncer *b, int sig);

/* Read what the child wrote; call line() once per whole line (its prefix of
 * time and pid removed). 0; -1 at end of file (the child closed it). */
int hpq_bouncer_read(struct hpq_bouncer *b, void (*line)(void *ctx, const char *text), void *ctx);

/* Whether the child is gone (reaps it): its exit status in *status. */
bool hpq_bouncer_reaped(struct hpq_bouncer *b, int *status);

/* Wipe and remove every file written (not the directory). */
void hpq_bouncer_remove_files(const struct hpq_bouncer_opts *o);

/* The configuration's text (pure; malloc'd, NULL if a value cannot be
 * written safely: a quote, a control character). For the unit tests. */
char *hpq_bouncer_ini(const struct hpq_bouncer_opts *o, const struct hpq_params *url);

#endif
