/* seen.c — see seen.h. A small table under one lock; lookups compare strings. */
#include "seen.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HOST_MAX 256
#define PORT_MAX 16

struct server {
    char host[HOST_MAX];
    char port[PORT_MAX];
    const char *var;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct server servers[HPQ_MAX_SEEN];
static unsigned n_servers;
static unsigned next_slot; /* when full, the oldest is replaced */

static const char *port_or_default(const char *port) { return port && *port ? port : "5432"; }

/* The entry for host:port, or NULL. Under lock. */
static struct server *find_locked(const char *host, size_t host_len, const char *port,
                                  size_t port_len)
{
    for (unsigned i = 0; i < n_servers; i++) {
        struct server *s = &servers[i];
        if (strlen(s->host) == host_len && strncasecmp(s->host, host, host_len) == 0 &&
            strlen(s->port) == port_len && strncmp(s->port, port, port_len) == 0)
            return s;
    }
    return NULL;
}

void hpq_seen_add(const char *host, const char *port, const char *var)
{
    port = port_or_default(port);
    if (!host || !*host || strlen(host) >= HOST_MAX || strlen(port) >= PORT_MAX)
        return;
    pthread_mutex_lock(&lock);
    struct server *s = find_locked(host, strlen(host), port, strlen(port));
    if (!s) {
        s = &servers[n_servers < HPQ_MAX_SEEN ? n_servers++ : next_slot];
        next_slot = (unsigned)(s - servers + 1) % HPQ_MAX_SEEN;
        snprintf(s->host, sizeof s->host, "%s", host);
        snprintf(s->port, sizeof s->port, "%s", port);
    }
    s->var = var; /* the newest URL naming it wins */
    pthread_mutex_unlock(&lock);
}

/* Item i of a comma list: its start and length; false if there is none. */
static bool item(const char *list, unsigned i, const char **start, size_t *len)
{
    const char *p = list;
    for (unsigned k = 0; k < i; k++) {
        p = strchr(p, ',');
        if (!p)
            return false;
        p++;
    }
    *start = p;
    *len = strcspn(p, ",");
    return true;
}

const char *hpq_seen_var(const char *hosts, const char *ports)
{
    if (!hosts || !*hosts)
        return NULL;
    bool one_port = !ports || !strchr(ports, ',');
    const char *var = NULL, *host, *port;
    size_t host_len, port_len;
    pthread_mutex_lock(&lock);
    for (unsigned i = 0; !var && item(hosts, i, &host, &host_len); i++) {
        if (!item(port_or_default(ports), one_port ? 0 : i, &port, &port_len))
            break; /* fewer ports than hosts: libpq rejects that itself */
        if (port_len == 0)
            port = "5432", port_len = 4;
        struct server *s = find_locked(host, host_len, port, port_len);
        var = s ? s->var : NULL;
    }
    pthread_mutex_unlock(&lock);
    return var;
}

void hpq_seen_forget_all(void)
{
    pthread_mutex_lock(&lock);
    n_servers = next_slot = 0;
    pthread_mutex_unlock(&lock);
}

void hpq_seen_lock(void) { pthread_mutex_lock(&lock); }
void hpq_seen_unlock(void) { pthread_mutex_unlock(&lock); }
