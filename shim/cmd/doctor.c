/* doctor.c — herokupq doctor: the set-up checked in the order a connection
 * needs it (configuration, library, token, API, app and scope, config var,
 * database, cache directory, CA bundle), each line ok/FAIL with the fix.
 * Every line goes through the log's scrubber: no token, no password. */
#include "cmd.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../curl.h"
#include "../log.h"
#include "../source.h"
#include "../version.h"

#define TOKEN_HOWTO                                                                            \
    "heroku authorizations:create --scope read-protected --description herokupq --short"

static void print_scrubbed(const char *tag, const char *name, const char *fmt, va_list ap)
{
    char raw[1024], line[1024];
    vsnprintf(raw, sizeof raw, fmt, ap);
    hpq_log_scrub(raw, line, sizeof line);
    printf("%-4s %s: %s\n", tag, name, line);
}

int hpq_check_ok(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_scrubbed("ok", name, fmt, ap);
    va_end(ap);
    return 0;
}

int hpq_check_fail(const char *name, const char *fix, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_scrubbed("FAIL", name, fmt, ap);
    va_end(ap);
    char line[1024];
    hpq_log_scrub(fix, line, sizeof line);
    printf("     fix: %s\n", line);
    return 1;
}

int hpq_check_skip(const char *name, const char *why)
{
    printf("--   %s: skipped, %s\n", name, why);
    return 0;
}

static int check_configuration(const struct hpq_config *cfg, const char *warnings)
{
    if (!cfg->enabled)
        return hpq_check_fail("configuration", "give -a APP or export HEROKU_APP=APP; unset HEROKUPQ_DISABLE",
                              "no app, or HEROKUPQ_DISABLE=1: the library would do nothing");
    if (*warnings) {
        char first[512];
        snprintf(first, sizeof first, "%.*s", (int)strcspn(warnings, "\n"), warnings);
        return hpq_check_fail("configuration",
                              "correct or unset that variable (herokupq(7) lists the values)",
                              "%s", first);
    }
    char origin[512];
    if (cfg->source != HPQ_SOURCE_HEROKU)
        return hpq_check_ok("configuration", "the URL from %s (HEROKUPQ_SOURCE)",
                            hpq_config_origin(cfg, origin, sizeof origin));
    return hpq_check_ok("configuration", "app %s, config var %s, API %s", cfg->app,
                        cfg->config_var, cfg->api_url);
}

static int check_library(void)
{
    char lib[4200];
    if (!hpq_cmd_library(lib, sizeof lib))
        return hpq_check_fail("library", "reinstall herokupq, or set HEROKUPQ_LIBRARY to libherokupq.so",
                              "not found (looked for %s)", lib);
    return hpq_check_ok("library", "%s", lib);
}

/* The host part of an http(s) URL, for the netrc lookup. */
static void api_host(const char *api_url, char *host, size_t len)
{
    const char *p = strstr(api_url, "://");
    p = p ? p + 3 : api_url;
    snprintf(host, len, "%.*s", (int)strcspn(p, ":/"), p);
}

/* Whether the netrc file has a password for host (or a default entry). */
static bool netrc_has(const char *path, const char *host)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char word[512], prev[512] = "";
    bool in_entry = false, found = false;
    while (!found && fscanf(f, "%511s", word) == 1) {
        if (strcmp(prev, "machine") == 0)
            in_entry = strcmp(word, host) == 0;
        else if (strcmp(word, "default") == 0)
            in_entry = true;
        else if (strcmp(prev, "password") == 0)
            found = in_entry;
        snprintf(prev, sizeof prev, "%s", word);
    }
    fclose(f);
    return found;
}

static int check_token(const struct hpq_config *cfg)
{
    if (cfg->token)
        return hpq_check_ok("token", "from HEROKU_API_KEY");
    char host[256], path[4096];
    api_host(cfg->api_url, host, sizeof host);
    const char *home = getenv("HOME");
    snprintf(path, sizeof path, "%s", cfg->netrc ? cfg->netrc : home ? home : "");
    if (!cfg->netrc)
        snprintf(path + strlen(path), sizeof path - strlen(path), "/.netrc");
    if (netrc_has(path, host))
        return hpq_check_ok("token", "from the netrc entry for %s in %s", host, path);
    return hpq_check_fail("token", "export HEROKU_API_KEY=$(" TOKEN_HOWTO "), or run heroku login",
                          "no HEROKU_API_KEY and no netrc entry for %s in %s", host, path);
}

/* The rows after the token, in the order they are checked: a row that fails (or cannot be
 * checked) leaves every row after it unchecked, and each of those is said skipped, with why. */
static const char *const heroku_rows[] = {"API",        "token accepted", "app", "token scope",
                                          "config var", "database",       NULL};
static const char *const source_rows[] = {"source", "URL", "database", NULL};

void hpq_check_skip_after(const char *const *rows, const char *after, const char *why)
{
    unsigned i = 0;
    if (after)
        while (rows[i] && strcmp(rows[i++], after) != 0)
            ;
    for (; rows[i]; i++)
        hpq_check_skip(rows[i], why);
}

/* How the API answered a well-formed request: the token, the app, the scope. */
static int check_status(const struct hpq_config *cfg, long status, const char *err)
{
    if (status == 401) {
        hpq_check_fail("token accepted", "make a new token: export HEROKU_API_KEY=$(" TOKEN_HOWTO ")",
                       "%s", err);
        hpq_check_skip_after(heroku_rows, "token accepted", "the API refused the token (401)");
        return 1;
    }
    hpq_check_ok("token accepted", "the API knows the token");
    if (status == 404) {
        hpq_check_fail("app", "check the name with heroku apps, then -a APP or HEROKU_APP", "%s", err);
        hpq_check_skip_after(heroku_rows, "app", "the API knows no such app for this token (404)");
        return 1;
    }
    hpq_check_ok("app", "%s", cfg->app);
    if (status == 403)
        hpq_check_fail("token scope",
                       "use a token of an account with access to the app, scope read-protected: "
                       TOKEN_HOWTO,
                       "%s", err);
    else if (status != 200)
        hpq_check_fail("token scope", "retry later; if it persists, check status.heroku.com", "%s", err);
    else
        return hpq_check_ok("token scope", "can read the app's protected config vars");
    char why[64];
    snprintf(why, sizeof why, "the API gave no config vars (%ld)", status);
    hpq_check_skip_after(heroku_rows, "token scope", why);
    return 1;
}

/* A URL the library would accept, shown with its password masked. */
static int check_url(const struct hpq_config *cfg, const char *name, const char *fix, const char *url)
{
    struct hpq_params params = {0};
    char why[256], shown[1024];
    int bad = hpq_url_parse(hpq_cmd_libpq(), url, &params, why, sizeof why);
    hpq_log_secret(hpq_params_get(&params, "password"));
    hpq_params_clear(&params);
    if (bad)
        return hpq_check_fail(name, fix, "%s %s", cfg->source ? "the URL" : cfg->config_var, why);
    return hpq_check_ok(name, "%s = %s", cfg->source ? "the URL" : cfg->config_var,
                        hpq_redact(url, shown, sizeof shown));
}

static int check_config_var(const struct hpq_config *cfg, const char *url, const char *err)
{
    static const char fix[] = "heroku config -a APP lists the vars: pass --var NAME "
                              "(HEROKUPQ_CONFIG_VAR) naming the one that holds the postgres:// URL";
    const char *name = cfg->source == HPQ_SOURCE_HEROKU ? "config var" : "URL";
    int failures = 0;
    if (!url)
        failures = hpq_check_fail(name, fix, "%s", err);
    else
        failures = check_url(cfg, name, fix, url);
    if (failures)
        hpq_check_skip_after((const char *const[]){name, "database", NULL}, name, "no database URL");
    return failures;
}

/* HEROKUPQ_SOURCE=file:/exec:: the file or the command, then the database. */
static int check_other_source(const struct hpq_config *cfg)
{
    char err[512], origin[512];
    long status;
    char *url = hpq_source_fetch_status(cfg, &status, err, sizeof err);
    int failures;
    if (!url) {
        failures = hpq_check_fail("source",
                                  cfg->source == HPQ_SOURCE_FILE
                                      ? "the file must hold one line, a postgres:// URL"
                                      : "the command must exit 0 and print a postgres:// URL",
                                  "%s", err);
        hpq_check_skip_after(source_rows, "source", "the source gave no URL");
        return failures;
    }
    hpq_check_ok("source", "%s gives a URL", hpq_config_origin(cfg, origin, sizeof origin));
    failures = check_config_var(cfg, url, err);
    failures += failures ? 0 : hpq_doctor_database(cfg, url);
    explicit_bzero(url, strlen(url));
    free(url);
    return failures;
}

/* From the API request to the database, in that order; a failure skips what
 * depends on it. */
static int check_remote(const struct hpq_config *cfg)
{
    if (cfg->source != HPQ_SOURCE_HEROKU)
        return check_other_source(cfg);
    char err[512];
    long status;
    char *url = hpq_source_fetch_status(cfg, &status, err, sizeof err);
    int failures;
    if (status == 0) {
        failures = hpq_check_fail("API",
                                  "check HEROKU_HOST (Heroku's API over https), the network, "
                                  "https_proxy, and the CA bundle (below)",
                                  "%s", err);
        hpq_check_skip_after(heroku_rows, "API", "the API did not answer");
    } else {
        hpq_check_ok("API", "%s answered %ld", cfg->api_url, status);
        failures = check_status(cfg, status, err);
        if (!failures)
            failures = check_config_var(cfg, url, err);
        if (!failures)
            failures = hpq_doctor_database(cfg, url);
    }
    if (url)
        explicit_bzero(url, strlen(url));
    free(url);
    return failures;
}

/* The cross-process cache directory the library would use (config.c decides). */
static int check_cache_dir(const struct hpq_config *cfg)
{
    char dir[4096], fix[4200];
    struct stat st;
    if (!cfg->cache_dir)
        return hpq_check_ok("cache directory", "off (HEROKUPQ_CACHE_DIR=off)");
    snprintf(dir, sizeof dir, "%s", cfg->cache_dir);
    if (lstat(dir, &st) != 0)
        return hpq_check_ok("cache directory", "%s does not exist yet (made on first use)", dir);
    snprintf(fix, sizeof fix, "rm -rf %s (the library makes it again, 0700)", dir);
    if (!S_ISDIR(st.st_mode))
        return hpq_check_fail("cache directory", fix, "%s is not a directory (a symlink?)", dir);
    if (st.st_uid != getuid())
        return hpq_check_fail("cache directory", fix, "%s belongs to uid %u, not to you (%u)", dir,
                              (unsigned)st.st_uid, (unsigned)getuid());
    if (st.st_mode & 077) {
        snprintf(fix, sizeof fix, "chmod 700 %s", dir);
        return hpq_check_fail("cache directory", fix,
                              "%s is mode %04o: group or others may read or write it; the library "
                              "refuses it",
                              dir, (unsigned)(st.st_mode & 07777));
    }
    return hpq_check_ok("cache directory", "%s (0700, yours)", dir);
}

/* PEM certificates in a file (0 if it is missing or unreadable). */
static unsigned certificates_in(const char *path)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return 0;
    char line[256];
    unsigned n = 0;
    while (fgets(line, sizeof line, f))
        n += strncmp(line, "-----BEGIN CERTIFICATE-----", 27) == 0;
    fclose(f);
    return n;
}

/* Hashed certificate links (openssl rehash: "5ad8a5d6.0") in a CA directory. */
static unsigned certificates_linked_in(const char *dir)
{
    DIR *d = dir && *dir ? opendir(dir) : NULL;
    if (!d)
        return 0;
    unsigned n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strlen(e->d_name) >= 10 && e->d_name[8] == '.' &&
             strspn(e->d_name, "0123456789abcdef") == 8;
    closedir(d);
    return n;
}

/* libcurl's built-in CA bundle file and directory, as the library's requests
 * use them (CURLINFO_CAINFO, CURLINFO_CAPATH). False if libcurl is missing. */
static bool curl_ca_locations(char *file, char *dir, size_t len)
{
    const struct hpq_curl *c = hpq_curl();
    CURL *h = c ? c->easy_init() : NULL;
    char *cainfo = NULL, *capath = NULL;
    if (h) {
        c->easy_getinfo(h, CURLINFO_CAINFO, &cainfo);
        c->easy_getinfo(h, CURLINFO_CAPATH, &capath);
    }
    snprintf(file, len, "%s", cainfo ? cainfo : "");
    snprintf(dir, len, "%s", capath ? capath : "");
    if (h)
        c->easy_cleanup(h);
    return h != NULL;
}

static int check_ca_bundle(const struct hpq_config *cfg)
{
    char file[2048], dir[2048];
    if (!curl_ca_locations(file, dir, sizeof file))
        return hpq_check_fail("CA bundle", "apt-get install libcurl4", "libcurl.so.4 cannot be loaded");
    if (cfg->cafile && !certificates_in(cfg->cafile))
        return hpq_check_fail("CA bundle", "point HEROKUPQ_CAFILE at a PEM file of CA certificates, or unset it",
                              "HEROKUPQ_CAFILE=%s holds no certificate", cfg->cafile);
    /* HEROKUPQ_CAFILE replaces the bundle file; the directory stays. */
    unsigned in_file = cfg->cafile ? certificates_in(cfg->cafile) : certificates_in(file);
    unsigned in_dir = certificates_linked_in(dir);
    if (!in_file && !in_dir)
        return hpq_check_fail("CA bundle", "apt-get install ca-certificates",
                              "no CA certificates in %s nor %s: the API's certificate cannot be "
                              "verified", *file ? file : "(no bundle file)", *dir ? dir : "(no directory)");
    return hpq_check_ok("CA bundle", "%s%s (%u certificates), %s (%u)",
                        cfg->cafile ? "HEROKUPQ_CAFILE=" : "", cfg->cafile ? cfg->cafile : file,
                        in_file, *dir ? dir : "no CA directory", in_dir);
}

int hpq_cmd_doctor(void)
{
    struct hpq_config cfg;
    char warnings[2048];
    printf("herokupq %s doctor\n", HPQ_VERSION);
    hpq_cmd_config(&cfg, warnings, sizeof warnings);
    int failures = check_configuration(&cfg, warnings);
    failures += check_library();
    if (cfg.enabled) {
        int no_token = cfg.source == HPQ_SOURCE_HEROKU ? check_token(&cfg) : 0;
        failures += no_token;
        if (no_token)
            hpq_check_skip_after(heroku_rows, NULL, "no token");
        else
            failures += check_remote(&cfg);
        failures += check_cache_dir(&cfg);
    } else {
        hpq_check_skip_after((const char *const[]){"token", "API", "token accepted", "app", "token scope",
                                         "config var", "database", "cache directory", NULL},
                   NULL, "the library would do nothing (configuration)");
    }
    failures += check_ca_bundle(&cfg);
    printf(failures ? "%d check(s) failed\n" : "all checks passed\n", failures);
    hpq_config_release(&cfg);
    return failures ? 1 : 0;
}
