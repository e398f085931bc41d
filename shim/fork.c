/* fork.c — see fork.h. Lock order, everywhere: real, conns, cache, log. */
#include "fork.h"

#include <pthread.h>

#include "cache.h"
#include "config.h"
#include "conns.h"
#include "log.h"
#include "real.h"

static void prepare(void)
{
    hpq_real_lock();
    hpq_conns_lock();
    hpq_cache_lock();
    hpq_log_lock();
}

static void parent(void)
{
    hpq_log_unlock();
    hpq_cache_unlock();
    hpq_conns_unlock();
    hpq_real_unlock();
}

static void child(void)
{
    hpq_log_unlock();
    hpq_cache_after_fork_child();
    hpq_conns_unlock();
    hpq_real_unlock();
}

static pthread_once_t registered = PTHREAD_ONCE_INIT;

static void register_handlers(void) { pthread_atfork(prepare, parent, child); }

bool hpq_shim_on(void)
{
    if (!hpq_config()->enabled)
        return false;
    pthread_once(&registered, register_handlers);
    return true;
}
