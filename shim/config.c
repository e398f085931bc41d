/* config.c — see config.h. */
#include "config.h"
#include "secret.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *env_nonempty(hpq_getenv_fn env, const char *name)
{
    const char *v = env(name);
    return v && *v ? v : NULL;
}

/* Our own copy: the program may change its environment later. */
static char *env_copy(hpq_getenv_fn env, const char *name, const char *dflt)
{
    const char *v = env_nonempty(env, name);
    return v ? strdup(v) : dflt ? strdup(dflt) : NULL;
}

static enum hpq_level parse_level(const char *v)
{
    static const char *const names[] = {"off", "error", "warn", "info", "debug"};
    if (!v)
        return HPQ_WARN;
    for (int i = 0; i <= HPQ_DEBUG; i++)
        if (strcasecmp(v, names[i]) == 0)
            return (enum hpq_level)i;
    hpq_log(HPQ_WARN, "HEROKUPQ_LOG=%s is not one of off, error, warn, info, debug; using warn", v);
    return HPQ_WARN;
}

static long parse_long(hpq_getenv_fn env, const char *name, long dflt, long min, long max)
{
    const char *v = env_nonempty(env, name);
    if (!v)
        return dflt;
    char *end;
    int saved = errno; /* the program's errno is not ours to change */
    errno = 0;
    long n = strtol(v, &end, 10);
    bool bad = errno || end == v || *end || n < min || n > max;
    errno = saved;
    if (bad) {
        hpq_log(HPQ_WARN, "%s=%s is not a whole number from %ld to %ld; using %ld", name, v, min,
                max, dflt);
        return dflt;
    }
    return n;
}

static bool parse_flag(hpq_getenv_fn env, const char *name)
{
    const char *v = env_nonempty(env, name);
    if (!v || strcmp(v, "0") == 0)
        return false;
    if (strcmp(v, "1") != 0)
        hpq_log(HPQ_WARN, "%s=%s should be 0 or 1; taking it as 1", name, v);
    return true;
}

/* As the Heroku CLI reads HEROKU_HOST: a full http(s) URL, or a bare domain
 * meaning https://api.<domain>. Whether the token may go there is checked by
 * the API client, which parses the URL with libcurl. */
/* Whether HEROKU_HOST carries user information ("user:pass@"): Heroku's API
 * takes the token in a header, and a password in the URL would be printed
 * wherever the API's address is. */
static bool has_userinfo(const char *host)
{
    const char *auth = strstr(host, "://");
    auth = auth ? auth + 3 : host;
    const char *at = strchr(auth, '@');
    return at && at < auth + strcspn(auth, "/?#");
}

static char *api_url_from(const char *host)
{
    char *url;
    if (host && has_userinfo(host)) {
        char shown[256];
        hpq_log(HPQ_WARN,
                "HEROKU_HOST=%s has user information: refused (the token goes in a header; "
                "put no credentials in HEROKU_HOST)",
                hpq_log_shown(hpq_redact_userinfo, host, shown, sizeof shown));
        return NULL;
    }
    if (!host)
        url = strdup(HPQ_DEFAULT_API);
    else if (strncmp(host, "https://", 8) == 0 || strncmp(host, "http://", 7) == 0)
        url = strdup(host);
    else if (asprintf(&url, "https://api.%s", host) < 0)
        url = NULL;
    if (url) {
        size_t n = strlen(url);
        while (n > 0 && url[n - 1] == '/')
            url[--n] = '\0';
    }
    return url;
}

/* HEROKUPQ_CACHE_DIR: an absolute path, or off; by default the user's
 * runtime directory, else a per-uid directory under /tmp (checked, not
 * trusted, by the file cache: it refuses one it does not own). */
static char *cache_dir_from(hpq_getenv_fn env)
{
    const char *v = env_nonempty(env, "HEROKUPQ_CACHE_DIR");
    if (v && strcmp(v, "off") == 0)
        return NULL;
    if (v && v[0] == '/')
        return strdup(v);
    if (v)
        hpq_log(HPQ_WARN, "HEROKUPQ_CACHE_DIR=%s is not an absolute path nor off; using the default",
                v);
    const char *runtime = env_nonempty(env, "XDG_RUNTIME_DIR");
    char *dir;
    if (runtime && runtime[0] == '/' ? asprintf(&dir, "%s/herokupq", runtime) < 0
                                     : asprintf(&dir, "/tmp/herokupq-%u", (unsigned)geteuid()) < 0)
        return NULL;
    return dir;
}

static bool parse_async_start(hpq_getenv_fn env)
{
    const char *v = env_nonempty(env, "HEROKUPQ_ASYNC");
    if (!v || strcmp(v, "complete") == 0)
        return false;
    if (strcmp(v, "start") == 0)
        return true;
    hpq_log(HPQ_WARN, "HEROKUPQ_ASYNC=%s is not complete or start; using complete", v);
    return false;
}

/* A config var's name as Heroku allows them in practice: letters, digits, _. */
static bool var_name_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return false;
    return true;
}

/* s[0..*n) without its leading and trailing blanks. */
static const char *trim_blanks(const char *s, size_t *n)
{
    while (*n > 0 && (*s == ' ' || *s == '\t'))
        s++, (*n)--;
    while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
        (*n)--;
    return s;
}

/* One HEROKUPQ_TARGET item, trimmed: a host name, or placeholder=CONFIG_VAR
 * (blanks around the '=' are not part of either). */
static void add_target(struct hpq_config *cfg, const char *item, size_t n)
{
    const char *eq = memchr(item, '=', n);
    size_t host_len = eq ? (size_t)(eq - item) : n, var_len = eq ? n - host_len - 1 : 0;
    const char *host = trim_blanks(item, &host_len), *var = eq ? trim_blanks(eq + 1, &var_len) : NULL;
    if (eq && (host_len == 0 || !var_name_ok(var, var_len))) {
        hpq_log(HPQ_WARN, "HEROKUPQ_TARGET item %.*s is neither a host name nor "
                "placeholder=CONFIG_VAR; ignoring it", (int)n, item);
        return;
    }
    char *name = strndup(host, host_len), *var_copy = var ? strndup(var, var_len) : NULL;
    if (!name || (var && !var_copy)) { /* out of memory: as if the item were not there */
        free(name);
        free(var_copy);
        return;
    }
    cfg->targets[cfg->n_targets] = name;
    cfg->target_vars[cfg->n_targets] = var_copy;
    cfg->n_targets++;
}

static void parse_targets(struct hpq_config *cfg, const char *v)
{
    cfg->target_all = !v || strcmp(v, "all") == 0;
    if (cfg->target_all)
        return;
    const char *p = v;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *start = trim_blanks(p, &n);
        p += strcspn(p, ",");
        p += *p == ',';
        if (n == 0)
            continue;
        if (cfg->n_targets == HPQ_MAX_TARGETS) {
            hpq_log(HPQ_WARN, "HEROKUPQ_TARGET lists more than %d hosts; ignoring the rest",
                    HPQ_MAX_TARGETS);
            return;
        }
        add_target(cfg, start, n);
    }
}

/* file:PATH holds one URL, HEROKUPQ_CONFIG_VAR's: a placeholder mapped to
 * another var cannot be served by it, and must not get that URL silently
 * (another database's user and password). Refused here, one line each; the
 * host is then not a target. file:DIR/ and exec: are told the var. */
static void refuse_unservable_targets(struct hpq_config *cfg)
{
    size_t n = cfg->source_arg ? strlen(cfg->source_arg) : 0;
    if (cfg->source != HPQ_SOURCE_FILE || (n > 0 && cfg->source_arg[n - 1] == '/'))
        return;
    unsigned kept = 0;
    for (unsigned i = 0; i < cfg->n_targets; i++) {
        const char *var = cfg->target_vars[i];
        if (var && strcmp(var, cfg->config_var) != 0) {
            hpq_log(HPQ_ERROR, "HEROKUPQ_TARGET maps %s to %s, which HEROKUPQ_SOURCE=file:%s "
                    "cannot serve (it holds one URL, %s's; file:DIR/ holds one file per var): "
                    "connections to %s are left as they are", cfg->targets[i], var,
                    cfg->source_arg, cfg->config_var, cfg->targets[i]);
            free(cfg->targets[i]);
            free(cfg->target_vars[i]);
            continue;
        }
        cfg->targets[kept] = cfg->targets[i];
        cfg->target_vars[kept++] = cfg->target_vars[i];
    }
    cfg->n_targets = kept;
}

/* HEROKUPQ_SOURCE=heroku | file:PATH | file:DIR/ | exec:COMMAND. */
static void parse_source(struct hpq_config *cfg, const char *v)
{
    static const struct {
        const char *prefix;
        enum hpq_source_kind kind;
    } kinds[] = {{"file:", HPQ_SOURCE_FILE}, {"exec:", HPQ_SOURCE_EXEC}};
    if (!v || strcmp(v, "heroku") == 0)
        return;
    for (unsigned i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i].prefix);
        if (strncmp(v, kinds[i].prefix, n) == 0 && v[n]) {
            cfg->source = kinds[i].kind;
            cfg->source_arg = strdup(v + n);
            return;
        }
    }
    hpq_log(HPQ_WARN, "HEROKUPQ_SOURCE is not heroku, file:PATH nor exec:COMMAND; using heroku");
}

const char *hpq_config_origin(const struct hpq_config *cfg, char *buf, unsigned long len)
{
    if (cfg->source == HPQ_SOURCE_FILE)
        snprintf(buf, len, "file %s", cfg->source_arg);
    else if (cfg->source == HPQ_SOURCE_EXEC)
        snprintf(buf, len, "command %.*s", (int)strcspn(cfg->source_arg, " \t"), cfg->source_arg);
    else
        snprintf(buf, len, "app %s, config var %s", cfg->app, cfg->config_var);
    return buf;
}

static void parse_into(struct hpq_config *cfg, hpq_getenv_fn env)
{
    memset(cfg, 0, sizeof *cfg);
    /* Before any warning: a value set to the token by mistake is echoed in one. */
    hpq_log_secret(env_nonempty(env, "HEROKU_API_KEY"));
    cfg->log_level = parse_level(env_nonempty(env, "HEROKUPQ_LOG"));
    hpq_log_set_level(cfg->log_level);

    if (parse_flag(env, "HEROKUPQ_DISABLE"))
        return; /* a strict pass-through reads nothing more */
    parse_source(cfg, env_nonempty(env, "HEROKUPQ_SOURCE"));
    cfg->enabled = env_nonempty(env, "HEROKU_APP") || cfg->source != HPQ_SOURCE_HEROKU;
    if (!cfg->enabled)
        return;
    cfg->app = env_copy(env, "HEROKU_APP", NULL);

    cfg->api_url = api_url_from(env_nonempty(env, "HEROKU_HOST"));
    cfg->token = env_copy(env, "HEROKU_API_KEY", NULL);
    cfg->netrc = env_copy(env, "NETRC", NULL);
    cfg->config_var = env_copy(env, "HEROKUPQ_CONFIG_VAR", HPQ_DEFAULT_VAR);
    cfg->cafile = env_copy(env, "HEROKUPQ_CAFILE", NULL);
    cfg->cache_dir = cache_dir_from(env);
    cfg->ttl_s = parse_long(env, "HEROKUPQ_TTL", 3600, 0, 7L * 24 * 3600);
    cfg->retry_ms = parse_long(env, "HEROKUPQ_RETRY_MS", 10000, 0, 600000);
    cfg->api_timeout_ms = parse_long(env, "HEROKUPQ_API_TIMEOUT_MS", 10000, 100, 120000);
    cfg->strict = parse_flag(env, "HEROKUPQ_STRICT");
    cfg->async_start = parse_async_start(env);
    parse_targets(cfg, env_nonempty(env, "HEROKUPQ_TARGET"));
    refuse_unservable_targets(cfg);
}

void hpq_config_parse(struct hpq_config *cfg, hpq_getenv_fn env)
{
    int saved = errno; /* strdup, asprintf and logging may set it */
    parse_into(cfg, env);
    errno = saved;
}

void hpq_config_release(struct hpq_config *cfg)
{
    free(cfg->app);
    free(cfg->source_arg);
    free(cfg->api_url);
    hpq_free_secret(cfg->token);
    free(cfg->netrc);
    free(cfg->config_var);
    free(cfg->cafile);
    free(cfg->cache_dir);
    for (unsigned i = 0; i < cfg->n_targets; i++) {
        free(cfg->targets[i]);
        free(cfg->target_vars[i]);
    }
    memset(cfg, 0, sizeof *cfg);
}

const char *hpq_config_var_for_host(const struct hpq_config *cfg, const char *host)
{
    const char *dflt = cfg->config_var ? cfg->config_var : HPQ_DEFAULT_VAR;
    if (cfg->target_all)
        return dflt;
    for (unsigned i = 0; i < cfg->n_targets; i++)
        if (host && strcasecmp(cfg->targets[i], host) == 0)
            return cfg->target_vars[i] ? cfg->target_vars[i] : dflt;
    return NULL;
}

bool hpq_config_targets_host(const struct hpq_config *cfg, const char *host)
{
    return hpq_config_var_for_host(cfg, host) != NULL;
}

static struct hpq_config process_config;
static pthread_once_t process_config_once = PTHREAD_ONCE_INIT;

static const char *process_getenv(const char *name) { return getenv(name); }

static void load_process_config(void) { hpq_config_parse(&process_config, process_getenv); }

const struct hpq_config *hpq_config(void)
{
    pthread_once(&process_config_once, load_process_config);
    return &process_config;
}
