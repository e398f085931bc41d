/* source_exec.h — HEROKUPQ_SOURCE=exec:COMMAND: a command printing the URL.
 *
 * COMMAND is split into words like a shell would, without expanding anything,
 * and run without a shell (ask for one: exec:sh -c '...'), stdin from
 * /dev/null, in a process group of its own, started with posix_spawn (no fork
 * handlers run, no SIGCHLD handler installed). Its first line of output is
 * the URL. Bounded by HEROKUPQ_API_TIMEOUT_MS: past it the whole group is
 * killed. The child is always reaped with waitpid (never a zombie); every
 * descriptor is O_CLOEXEC. Its stderr is logged, redacted, one line each. */
#ifndef HPQ_SOURCE_EXEC_H
#define HPQ_SOURCE_EXEC_H

#include <stddef.h>

#include "config.h"

#define HPQ_MAX_OUTPUT (64 * 1024)

/* Run the command: the URL it printed, malloc'd; or NULL with the reason. */
char *hpq_source_exec_fetch(const struct hpq_config *cfg, char *err, size_t errlen);

#endif
