/* shim_on.h — whether the shim is on in this process. */
#ifndef HPQ_SHIM_ON_H
#define HPQ_SHIM_ON_H

#include <stdbool.h>

/* Whether the shim is on (the config's enabled). The first time it is, the
 * fork handlers are registered (fork.h): the policy files ask this instead of
 * the config, so a process with the shim off never has them. */
bool hpq_shim_on(void);

#endif
