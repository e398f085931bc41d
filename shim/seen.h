/* seen.h — the servers the URLs resolved in this process name.
 *
 * With host names in HEROKUPQ_TARGET, a program that reconnects with what
 * libpq reports about a rewritten connection (PQconninfo, PQhost, PQport:
 * pg_activity, poolers and ORMs copy them) names the app's real server, not
 * the placeholder, and usually no password: such a connection is a target
 * too, rewritten with the current credentials. Remembered for the process's
 * life (at most HPQ_MAX_SEEN servers: a URL changes host only on failover). */
#ifndef HPQ_SEEN_H
#define HPQ_SEEN_H

#include <stdbool.h>

#define HPQ_MAX_SEEN 32

/* A URL of config var var (a string that lives as long as the process) names
 * host and port (NULL or "": 5432). */
void hpq_seen_add(const char *host, const char *port, const char *var);

/* The config var whose URL named one of hosts (a comma list, as libpq takes
 * it) on the matching one of ports (one port for all, or one per host), or
 * NULL. */
const char *hpq_seen_var(const char *hosts, const char *ports);

/* For the unit tests. */
void hpq_seen_forget_all(void);

/* Fork handlers. */
void hpq_seen_lock(void);
void hpq_seen_unlock(void);

#endif
