/* fork.h — the shim's locks across fork().
 *
 * A child is forked with one thread; if another thread of the parent was
 * inside the shim (holding a lock, or fetching the URL that other threads wait
 * for), the child must not inherit that half-done state. The prepare handler
 * binds what it needs, then takes every lock (fork.c's global_locks, the one
 * list of them), so the fork happens between critical sections; the parent
 * releases them; the child releases them and forgets the fetch its own process
 * will never finish. */
#ifndef HPQ_FORK_H
#define HPQ_FORK_H

/* Registers the handlers, once. Called before any of the shim's locks is
 * first taken: a child forked while another thread held one (the libpq
 * table's, the log's while the configuration is read), before the handlers
 * existed, hung in its own first call. A process that calls libpq with the
 * shim off pays one pthread_atfork for it. */
void hpq_fork_protect(void);

#endif
