/* netrc.c — see netrc.h. */
#include "netrc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "secret.h"

#define NETRC_MAX (64 * 1024) /* a larger file is not read for secrets */

static const struct hpq_config *checked_cfg;
static pthread_once_t checked = PTHREAD_ONCE_INIT;

/* The file libcurl will read: $NETRC, else ~/.netrc. */
static void netrc_path(const struct hpq_config *cfg, char *out, size_t outlen)
{
    const char *home = getenv("HOME");
    if (cfg->netrc)
        snprintf(out, outlen, "%s", cfg->netrc);
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

static void read_secrets(const char *path)
{
    FILE *f = fopen(path, "re");
    char *text = f ? calloc(1, NETRC_MAX + 1) : NULL;
    size_t n = text ? fread(text, 1, NETRC_MAX, f) : 0;
    if (text) {
        remember_passwords(text);
        hpq_wipe(text, n);
        free(text);
    }
    if (f)
        fclose(f);
}

static void check_once(void)
{
    char path[4096];
    struct stat st;
    netrc_path(checked_cfg, path, sizeof path);
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
