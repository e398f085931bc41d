/* netrc.c — see netrc.h. */
#include "netrc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "log.h"
#include "secret.h"

#define NETRC_MAX (64 * 1024) /* a larger file is not read for secrets */

static const struct hpq_config *checked_cfg;
static pthread_once_t checked = PTHREAD_ONCE_INIT;

/* The file libcurl will read: $NETRC (netrc), else ~/.netrc. */
static void path_of(const char *netrc, char *out, size_t outlen)
{
    const char *home = getenv("HOME");
    if (netrc)
        snprintf(out, outlen, "%s", netrc);
    else if (home && *home)
        snprintf(out, outlen, "%s/.netrc", home);
    else
        out[0] = '\0';
}

/* Register the token after each "password" keyword (netrc's syntax: blank-
 * separated words; the shim does not need to know which machine is whose). */
static void remember_passwords(char *text)
{
    char *save = NULL;
    bool next_is_secret = false;
    for (char *w = strtok_r(text, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
        if (next_is_secret)
            hpq_log_secret(w);
        next_is_secret = strcmp(w, "password") == 0;
    }
}

/* The file's text (at most NETRC_MAX bytes, malloc'd, *n its length), or NULL. */
static char *read_text(const char *path, size_t *n)
{
    FILE *f = fopen(path, "re");
    char *text = f ? calloc(1, NETRC_MAX + 1) : NULL;
    *n = text ? fread(text, 1, NETRC_MAX, f) : 0;
    if (f)
        fclose(f);
    return text;
}

static void read_secrets(const char *path)
{
    size_t n;
    char *text = read_text(path, &n);
    if (text) {
        remember_passwords(text);
        hpq_wipe(text, n);
        free(text);
    }
}

/* Whether the netrc keyword w is followed by its value. */
static bool takes_value(const char *w)
{
    return strcmp(w, "machine") == 0 || strcmp(w, "login") == 0 ||
           strcmp(w, "password") == 0 || strcmp(w, "account") == 0;
}

/* The password of host's entry in the netrc text (else the default entry's),
 * copied into out; "" when there is none. netrc's syntax: blank-separated
 * words; "machine NAME" or "default" starts an entry. */
static void entry_password(char *text, const char *host, char *out, size_t outlen)
{
    char *save = NULL, fallback[1024] = "";
    bool in_host = false, in_default = false, found = false;
    const char *prev = "";
    out[0] = '\0';
    for (char *w = strtok_r(text, " \t\r\n", &save); w && !found;
         prev = w, w = strtok_r(NULL, " \t\r\n", &save)) {
        if (strcmp(prev, "machine") == 0) {
            in_host = strcasecmp(w, host) == 0;
            in_default = false;
        } else if (strcmp(w, "default") == 0 && !takes_value(prev)) {
            in_host = false;
            in_default = true;
        } else if (strcmp(prev, "password") == 0 && (in_host || in_default)) {
            found = in_host;
            snprintf(in_host ? out : fallback, in_host ? outlen : sizeof fallback, "%s", w);
        }
    }
    if (!found)
        snprintf(out, outlen, "%s", fallback);
    hpq_wipe(fallback, sizeof fallback);
}

/* The host of a URL: after "scheme://" (and any user information), up to its
 * port or path; [IPv6] without its brackets. */
static void host_of(const char *url, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *at = strchr(p, '@'), *slash = strchr(p, '/');
    if (at && (!slash || at < slash))
        p = at + 1;
    size_t n = *p == '[' ? strcspn(++p, "]") : strcspn(p, ":/?");
    snprintf(out, outlen, "%.*s", (int)n, p);
}

void hpq_netrc_token(const char *netrc, const char *api_url, char *out, size_t outlen)
{
    char path[4096], host[256];
    size_t n;
    out[0] = '\0';
    path_of(netrc, path, sizeof path);
    host_of(api_url ? api_url : "", host, sizeof host);
    char *text = path[0] ? read_text(path, &n) : NULL;
    if (!text)
        return;
    entry_password(text, host, out, outlen);
    hpq_wipe(text, n);
    free(text);
}

static void check_once(void)
{
    char path[4096];
    struct stat st;
    path_of(checked_cfg->netrc, path, sizeof path);
    if (!path[0] || stat(path, &st) != 0)
        return;
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        hpq_log(HPQ_WARN, "the netrc file %s can be read by others (mode %03o): chmod 600 it",
                path, (unsigned)(st.st_mode & 0777));
    read_secrets(path);
}

void hpq_netrc_check(const struct hpq_config *cfg)
{
    checked_cfg = cfg; /* one configuration per process */
    pthread_once(&checked, check_once);
}
