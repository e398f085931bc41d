/* shim_on.h — whether the shim is on in this process. */
#ifndef HPQ_SHIM_ON_H
#define HPQ_SHIM_ON_H

#include <stdbool.h>

/* Whether the shim is on (the config's enabled), the fork handlers registered
 * first (fork.h): the policy files ask this instead of the config. */
bool hpq_shim_on(void);

#endif
