/* fork.h — the shim's locks across fork().
 *
 * A child is forked with one thread; if another thread of the parent was
 * inside the shim (holding a lock, or fetching the URL that other threads wait
 * for), the child must not inherit that half-done state. The prepare handler
 * takes every lock, so the fork happens between critical sections; the child
 * handler releases them and forgets the fetch its own process will never
 * finish. */
#ifndef HPQ_FORK_H
#define HPQ_FORK_H

/* Register the handlers (once; called on the shim's first use). */
void hpq_fork_guard(void);

#endif
