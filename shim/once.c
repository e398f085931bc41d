/* once.c — see once.h. */
#include "once.h"

#include <time.h>

#include "log.h"

bool hpq_once(struct hpq_once *o, void (*work)(void))
{
    if (atomic_load_explicit(&o->done, memory_order_acquire))
        return true;
    pthread_mutex_lock(&o->lock);
    bool ok = !o->broken_by_fork;
    if (ok && !atomic_load_explicit(&o->done, memory_order_relaxed)) {
        work();
        atomic_store_explicit(&o->done, true, memory_order_release);
    }
    pthread_mutex_unlock(&o->lock);
    return ok;
}

bool hpq_once_loaded(struct hpq_once *o, void (*load)(void), const char *soname,
                     const char *without)
{
    if (hpq_once(o, load))
        return true;
    if (!atomic_exchange(&o->said, true))
        hpq_log(HPQ_ERROR, "this process was forked while another thread was loading %s: %s",
                soname, without);
    return false;
}

void hpq_once_fork_prepare(struct hpq_once *o)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += HPQ_ONCE_FORK_WAIT_S;
    o->fork_holds = pthread_mutex_timedlock(&o->lock, &deadline) == 0;
}

void hpq_once_fork_parent(struct hpq_once *o)
{
    if (o->fork_holds)
        pthread_mutex_unlock(&o->lock);
}

void hpq_once_fork_child(struct hpq_once *o)
{
    if (o->fork_holds) {
        pthread_mutex_unlock(&o->lock);
        return;
    }
    /* held by a thread this process does not have, halfway through the work */
    pthread_mutex_init(&o->lock, NULL);
    o->broken_by_fork = !atomic_load_explicit(&o->done, memory_order_acquire);
}
