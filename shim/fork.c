/* fork.c — see fork.h. (The file cache's host lock is a flock on a
 * descriptor the cache records, not a mutex: the cache's child handler closes
 * the child's copy without releasing the parent's lock.) */
#include "fork.h"

#include <pthread.h>

#include "cache.h"
#include "cjson.h"
#include "conns.h"
#include "curl.h"
#include "libc.h"
#include "log.h"
#include "parse_memo.h"
#include "rewrite_memo.h"
#include "real.h"
#include "seen.h"
#include "sha256.h"
#include "source.h"
#include "source_file.h"

/* Every global lock of the shim, in the order they are taken: a thread that
 * holds one may take only those after it. Add new global locks here: the
 * module's hpq_<file>_..._lock and _unlock functions, and what a child does
 * with its copy (unlock it, and forget what only the parent's other threads
 * would have finished). tests/check_structure.py fails when a file of shim/
 * defines more global mutexes than it has entries here. */
static const struct global_lock {
    void (*lock)(void);
    void (*unlock)(void);
    void (*in_child)(void);
} global_locks[] = {
    /* first: waits, bounded, for the API requests in flight (cache.h), which
     * may take the locks below; its holders take only those below */
    {hpq_cache_lock, hpq_cache_unlock, hpq_cache_after_fork_child},
    /* first-use work a fork waits for, boundedly (once.h) */
    {hpq_curl_lock, hpq_curl_unlock, hpq_curl_after_fork_child},
    {hpq_cjson_lock, hpq_cjson_unlock, hpq_cjson_after_fork_child},
    {hpq_real_lock, hpq_real_unlock, hpq_real_unlock},
    {hpq_conns_lock, hpq_conns_unlock, hpq_conns_unlock},
    /* after the cache's: the cache names its first entry, loading libcrypto, under its lock */
    {hpq_sha256_lock, hpq_sha256_unlock, hpq_sha256_after_fork_child},
    {hpq_source_lock, hpq_source_unlock, hpq_source_after_fork_child},
    {hpq_seen_lock, hpq_seen_unlock, hpq_seen_unlock},
    {hpq_source_file_lock, hpq_source_file_unlock, hpq_source_file_unlock},
    {hpq_parse_memo_lock, hpq_parse_memo_unlock, hpq_parse_memo_unlock},
    {hpq_rewrite_memo_lock, hpq_rewrite_memo_unlock, hpq_rewrite_memo_unlock},
    {hpq_log_lock, hpq_log_unlock, hpq_log_unlock},
};

#define N_LOCKS (sizeof global_locks / sizeof global_locks[0])

static void lock_all(void)
{
    for (unsigned i = 0; i < N_LOCKS; i++)
        global_locks[i].lock();
}

static void unlock_all(void)
{
    for (unsigned i = N_LOCKS; i-- > 0;)
        global_locks[i].unlock();
}

static void reinit_all_in_child(void)
{
    for (unsigned i = N_LOCKS; i-- > 0;)
        global_locks[i].in_child();
}

/* What the handlers and the child's first calls need is bound before any lock
 * is taken: binding later, under the locks, could wait for a thread that waits
 * for them. */
static void prepare(void)
{
    hpq_libc_dlsym();
    hpq_libc_dlopen();
    lock_all();
}

static pthread_once_t registered = PTHREAD_ONCE_INIT;

static void register_handlers(void) { pthread_atfork(prepare, unlock_all, reinit_all_in_child); }

void hpq_fork_protect(void) { pthread_once(&registered, register_handlers); }
