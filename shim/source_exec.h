/* source_exec.h — HEROKUPQ_SOURCE=exec:COMMAND: a command printing the URL.
 *
 * COMMAND is split into words like a shell would, without expanding anything,
 * and run without a shell (ask for one: exec:sh -c '...'), stdin from
 * /dev/null, in a process group of its own, started with posix_spawn (no fork
 * handlers run, no SIGCHLD handler installed). Its first line of output is
 * the URL.
 *
 * Its environment is the program's without the shim: the shim's entry of
 * LD_PRELOAD and every HEROKUPQ_* setting are left out (a command that uses
 * libpq itself would otherwise run the source again, and again), the rest is
 * kept (HEROKU_API_KEY, HOME: what `heroku config:get` needs), and
 * HEROKUPQ_CONFIG_VAR names the config var wanted.
 *
 * Bounded by HEROKUPQ_API_TIMEOUT_MS. When the command ends, or overstays,
 * its whole group is killed: nothing it started outlives the fetch, and a
 * child left holding its stdout is not waited for. The child is always
 * reaped with waitpid (never a zombie); every descriptor is O_CLOEXEC.
 *
 * Its stderr is logged after its output was read and every password in it
 * (the URL's, any other URL's) registered as a secret, one line each,
 * redacted; past 4 KiB it is cut and the cut line dropped, never shown in part. */
#ifndef HPQ_SOURCE_EXEC_H
#define HPQ_SOURCE_EXEC_H

#include <stddef.h>

#include "config.h"

#define HPQ_MAX_OUTPUT (64 * 1024)

/* Run the command for config var var (NULL: HEROKUPQ_CONFIG_VAR's): the URL
 * it printed, malloc'd; or NULL with the reason. */
char *hpq_source_exec_fetch(const struct hpq_config *cfg, const char *var, char *err,
                            size_t errlen);

#endif
