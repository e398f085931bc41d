/* curl.c — see curl.h. */
#include "curl.h"

#include <dlfcn.h>
#include <stdbool.h>

#include "libc.h"
#include "log.h"
#include "once.h"

#define HPQ_CURL_SONAME "libcurl.so.4"

static struct hpq_curl curl_table;
static const struct hpq_curl *loaded;
/* Not pthread_once: a fork must not happen inside dlopen or libcurl's global
 * init (once.h); the child crashed in curl_version_info, called on a libcurl
 * that the parent's thread had mapped but not relocated yet. */
static struct hpq_once load_once = HPQ_ONCE_INIT;

#define BIND(field, name)                                                                   \
    (*(void **)&curl_table.field = hpq_libc_dlsym()(h, (name)), curl_table.field != NULL)

static bool bind_all(void *h)
{
    return BIND(easy_init, "curl_easy_init") && BIND(easy_setopt, "curl_easy_setopt") &&
           BIND(easy_perform, "curl_easy_perform") && BIND(easy_getinfo, "curl_easy_getinfo") &&
           BIND(easy_header, "curl_easy_header") && BIND(easy_cleanup, "curl_easy_cleanup") &&
           BIND(easy_reset, "curl_easy_reset") &&
           BIND(easy_strerror, "curl_easy_strerror") && BIND(easy_escape, "curl_easy_escape") &&
           BIND(slist_append, "curl_slist_append") &&
           BIND(slist_free_all, "curl_slist_free_all") && BIND(url, "curl_url") &&
           BIND(url_set, "curl_url_set") && BIND(url_get, "curl_url_get") &&
           BIND(url_cleanup, "curl_url_cleanup") && BIND(free, "curl_free") &&
           BIND(version_info, "curl_version_info");
}

static void load(void)
{
    /* RTLD_LOCAL: libcurl's symbols must not become visible to the program. */
    void *h = hpq_libc_dlopen()(HPQ_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        hpq_log(HPQ_ERROR, "cannot load %s (install libcurl4): %s", HPQ_CURL_SONAME, dlerror());
        return;
    }
    CURLcode (*global_init)(long flags) =
        (CURLcode(*)(long))hpq_libc_dlsym()(h, "curl_global_init");
    if (!global_init || !bind_all(h) || !curl_table.version_info(CURLVERSION_NOW)) {
        hpq_log(HPQ_ERROR, "%s lacks a function the shim needs (libcurl 7.84 or later is required)",
                HPQ_CURL_SONAME);
        return;
    }
    /* Refcounted by libcurl, so a program that uses libcurl itself is unaffected.
     * The handle is never closed: libcurl stays loaded for the process's life. */
    if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        hpq_log(HPQ_ERROR, "libcurl failed to initialise");
        return;
    }
    loaded = &curl_table;
}

const struct hpq_curl *hpq_curl(void)
{
    bool ok = hpq_once_loaded(&load_once, load, HPQ_CURL_SONAME, "it makes no API request");
    return ok ? loaded : NULL;
}

void hpq_curl_lock(void) { hpq_once_fork_prepare(&load_once); }
void hpq_curl_unlock(void) { hpq_once_fork_parent(&load_once); }
void hpq_curl_after_fork_child(void) { hpq_once_fork_child(&load_once); }
