/* shim_on.c — see shim_on.h. */
#include "shim_on.h"

#include "config.h"
#include "fork.h"

bool hpq_shim_on(void)
{
    if (!hpq_config()->enabled)
        return false;
    hpq_fork_handlers_register();
    return true;
}
