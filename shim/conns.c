/* conns.c — see conns.h. A chained hash table keyed by the PGconn pointer. */
#include "conns.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

#define N_BUCKETS 256

struct entry {
    PGconn *conn;
    char *url;
    const char *var;
    bool watching;
    struct hpq_watch watch;
    struct entry *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *buckets[N_BUCKETS];
static unsigned long count; /* lets PQfinish skip the lock when nothing is tracked */

static struct entry **bucket(const PGconn *conn)
{
    uintptr_t p = (uintptr_t)conn;
    return &buckets[(p >> 4 ^ p >> 12) % N_BUCKETS];
}

static struct entry *find_locked(const PGconn *conn)
{
    for (struct entry *e = *bucket(conn); e; e = e->next)
        if (e->conn == conn)
            return e;
    return NULL;
}

static void release(struct entry *e)
{
    hpq_free_secret(e->url); /* it holds a password */
    free(e);
}

void hpq_conns_add(PGconn *conn, const char *url, const char *var)
{
    struct entry *e = calloc(1, sizeof *e);
    if (!e || !(e->url = strdup(url))) {
        free(e);
        return; /* out of memory: the connection just goes unobserved */
    }
    e->conn = conn;
    e->var = var;
    pthread_mutex_lock(&lock);
    struct entry *old = find_locked(conn);
    if (old) { /* a PGconn address reused after a PQfinish we did not see */
        char *swap = old->url;
        old->url = e->url;
        e->url = swap;
        old->var = var;
        old->watching = false;
        release(e);
    } else {
        struct entry **b = bucket(conn);
        e->next = *b;
        *b = e;
        __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&lock);
}

bool hpq_conns_watch(PGconn *conn, const struct hpq_watch *watch)
{
    pthread_mutex_lock(&lock);
    struct entry *e = find_locked(conn);
    if (e) {
        e->watching = true;
        e->watch = *watch;
    }
    pthread_mutex_unlock(&lock);
    return e != NULL;
}

bool hpq_conns_unwatch(PGconn *conn, char **url, const char **var, struct hpq_watch *watch)
{
    if (__atomic_load_n(&count, __ATOMIC_RELAXED) == 0)
        return false;
    bool was = false;
    pthread_mutex_lock(&lock);
    struct entry *e = find_locked(conn);
    if (e && e->watching) {
        e->watching = false;
        *watch = e->watch;
        *var = e->var;
        *url = strdup(e->url);
        was = *url != NULL;
    }
    pthread_mutex_unlock(&lock);
    return was;
}

char *hpq_conns_url(PGconn *conn, const char **var)
{
    if (__atomic_load_n(&count, __ATOMIC_RELAXED) == 0)
        return NULL;
    pthread_mutex_lock(&lock);
    struct entry *e = find_locked(conn);
    char *url = e ? strdup(e->url) : NULL;
    *var = e ? e->var : NULL;
    pthread_mutex_unlock(&lock);
    return url;
}

void hpq_conns_remove(PGconn *conn)
{
    if (__atomic_load_n(&count, __ATOMIC_RELAXED) == 0)
        return;
    pthread_mutex_lock(&lock);
    for (struct entry **p = bucket(conn); *p; p = &(*p)->next) {
        if ((*p)->conn == conn) {
            struct entry *e = *p;
            *p = e->next;
            release(e);
            __atomic_sub_fetch(&count, 1, __ATOMIC_RELAXED);
            break;
        }
    }
    pthread_mutex_unlock(&lock);
}

void hpq_conns_lock(void) { pthread_mutex_lock(&lock); }
void hpq_conns_unlock(void) { pthread_mutex_unlock(&lock); }
