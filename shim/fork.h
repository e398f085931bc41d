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

/* Register the handlers (pthread_atfork), once per process: called when the
 * shim is first found on (shim_on.h), so a process with it off never has
 * them. */
void hpq_fork_handlers_register(void);

#endif
