/* curl.h — libcurl, loaded on first use.
 *
 * Most processes that inherit LD_PRELOAD never resolve a URL (a shell, `ls`,
 * a program with HEROKU_APP unset); they should not map libcurl and its
 * dozens of dependencies. The shim dlopens libcurl.so.4 the first time it
 * needs the API and calls it through this table. */
#ifndef HPQ_CURL_H
#define HPQ_CURL_H

#include <curl/curl.h>

struct hpq_curl {
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *curl);
    CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
    CURLHcode (*easy_header)(CURL *curl, const char *name, size_t index, unsigned int origin,
                             int request, struct curl_header **hout);
    void (*easy_cleanup)(CURL *curl);
    void (*easy_reset)(CURL *curl);
    const char *(*easy_strerror)(CURLcode code);
    char *(*easy_escape)(CURL *curl, const char *string, int length);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *string);
    void (*slist_free_all)(struct curl_slist *list);
    CURLU *(*url)(void);
    CURLUcode (*url_set)(CURLU *handle, CURLUPart what, const char *part, unsigned int flags);
    CURLUcode (*url_get)(const CURLU *handle, CURLUPart what, char **part, unsigned int flags);
    void (*url_cleanup)(CURLU *handle);
    void (*free)(void *p);
    curl_version_info_data *(*version_info)(CURLversion stamp);
};

/* The loaded and globally initialised libcurl, or NULL (logged once). */
const struct hpq_curl *hpq_curl(void);

/* The load's lock, for the fork handlers (fork.c): a fork waits for a load in
 * progress (once.h). */
void hpq_curl_lock(void);
void hpq_curl_unlock(void);
void hpq_curl_after_fork_child(void);

#endif
