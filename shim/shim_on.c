/* shim_on.c — see shim_on.h. */
#include "shim_on.h"

#include "config.h"
#include "fork.h"

bool hpq_shim_on(void)
{
    hpq_fork_protect(); /* before the configuration is read: that takes the log's lock */
    return hpq_config()->enabled;
}
