/* config.h — the environment, read once into one immutable struct.
 *
 * Read lazily on the first intercepted call (not in a constructor), so a
 * program that sets HEROKU_APP itself before connecting is honoured. */
#ifndef HPQ_CONFIG_H
#define HPQ_CONFIG_H

#include <stdbool.h>

#include "log.h"

#define HPQ_MAX_TARGETS 16
#define HPQ_DEFAULT_API "https://api.heroku.com"
#define HPQ_DEFAULT_VAR "DATABASE_URL"

/* HEROKUPQ_SOURCE: where the URL comes from. */
enum hpq_source_kind {
    HPQ_SOURCE_HEROKU, /* heroku (default): the app's config var, from the Platform API */
    HPQ_SOURCE_FILE,   /* file:PATH: a file holding the URL */
    HPQ_SOURCE_EXEC,   /* exec:COMMAND: a command printing the URL */
};

struct hpq_config {
    bool enabled;          /* HEROKU_APP set, or a source other than heroku; HEROKUPQ_DISABLE not 1 */
    enum hpq_source_kind source;
    char *source_arg;      /* the PATH or COMMAND of HEROKUPQ_SOURCE */
    char *app;       /* HEROKU_APP */
    char *api_url;         /* from HEROKU_HOST, without a trailing slash */
    char *token;     /* HEROKU_API_KEY, or NULL: use netrc */
    char *netrc;     /* NETRC, or NULL: libcurl's default ~/.netrc */
    char *config_var;
    char *cafile;
    char *cache_dir; /* the cross-process cache's directory, NULL: off */
    long ttl_s;
    long retry_ms;
    long api_timeout_ms;
    bool strict;
    bool async_start; /* HEROKUPQ_ASYNC=start, else complete */
    bool target_all;
    unsigned n_targets;
    char *targets[HPQ_MAX_TARGETS];
    char *target_vars[HPQ_MAX_TARGETS]; /* placeholder=CONFIG_VAR; NULL: config_var */
    enum hpq_level log_level;
};

typedef const char *(*hpq_getenv_fn)(const char *name);

/* The process-wide configuration (parsed from getenv on first use). */
const struct hpq_config *hpq_config(void);

/* Parse a configuration from any environment; logs one line per bad value
 * and uses the documented default for it. Exposed for the unit tests. */
void hpq_config_parse(struct hpq_config *cfg, hpq_getenv_fn env);
void hpq_config_release(struct hpq_config *cfg);

/* Where the URL comes from, for log lines, without secrets: "app A, config
 * var V", "file PATH", "command PROGRAM" (a command's arguments may hold one). */
const char *hpq_config_origin(const struct hpq_config *cfg, char *buf, unsigned long len);

/* Whether host (one name, as a program wrote it) is one of the targets. */
bool hpq_config_targets_host(const struct hpq_config *cfg, const char *host);

/* The config var whose URL a connection naming host goes to: config_var with
 * HEROKUPQ_TARGET=all or for a bare name, the pair's var for a
 * placeholder=CONFIG_VAR one; NULL if host is not a target. */
const char *hpq_config_var_for_host(const struct hpq_config *cfg, const char *host);

#endif
