/* once.h — work done once per process, which a fork waits for.
 *
 * pthread_once is not enough for work that takes other libraries' locks (the
 * loader's, libcurl's, OpenSSL's): a fork while another thread is inside it
 * leaves the child with those locks held by a thread it does not have (it
 * hung in OpenSSL's RAND_get0_primary), and glibc runs the interrupted work
 * again in the child, over the half-made state (it crashed calling into a
 * libcurl that dlopen had mapped but not finished). Here the fork handlers
 * (fork.c) wait for work in progress, at most HPQ_ONCE_FORK_WAIT_S: a thread
 * inside it may itself wait for the fork (a library's constructor registering
 * fork handlers waits for glibc's atfork lock, which the forking thread holds).
 * A child forked in the middle of the work anyway never does it. */
#ifndef HPQ_ONCE_H
#define HPQ_ONCE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define HPQ_ONCE_FORK_WAIT_S 2

struct hpq_once {
    pthread_mutex_t lock;
    atomic_bool done;
    bool fork_holds;     /* the prepare handler got the lock */
    bool broken_by_fork; /* this process was forked in the middle of the work */
    atomic_bool said;    /* hpq_once_loaded's line was logged */
};
#define HPQ_ONCE_INIT {PTHREAD_MUTEX_INITIALIZER, false, false, false, false}

/* Runs work the first time (later calls wait for it, then return at once);
 * false in a process forked in the middle of it, where it never runs. */
bool hpq_once(struct hpq_once *o, void (*work)(void));

/* hpq_once for loading a library (its soname), with one error line per
 * process where it is false: forked while another thread was loading it, so
 * the process goes without (what it then does not do, e.g. "it makes no API
 * request"). */
bool hpq_once_loaded(struct hpq_once *o, void (*load)(void), const char *soname,
                     const char *without);

/* For the fork handlers: prepare (bounded wait), parent, child. */
void hpq_once_fork_prepare(struct hpq_once *o);
void hpq_once_fork_parent(struct hpq_once *o);
void hpq_once_fork_child(struct hpq_once *o);

#endif
