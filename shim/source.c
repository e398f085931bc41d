/* source.c — see source.h. */
#include "source.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cjson.h"
#include "curl.h"
#include "log.h"
#include "netrc.h"
#include "secret.h"
#include "source_exec.h"
#include "source_file.h"

#define HPQ_ACCEPT "Accept: application/vnd.heroku+json; version=3"

struct body {
    char *data;
    size_t len, cap;
    bool too_big;
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static bool is_loopback(const char *host)
{
    struct in_addr v4;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    return strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
           strcmp(host, "::1") == 0;
}

bool hpq_source_host_allowed(const char *scheme, const char *host)
{
    if (!scheme || !host)
        return false;
    if (is_loopback(host))
        return true;
    bool heroku = strcasecmp(host, "heroku.com") == 0 || ends_with(host, ".heroku.com");
    return heroku && strcasecmp(scheme, "https") == 0;
}

/* A hint for each status Heroku uses, so the log line says what to do. */
static const char *status_hint(long status)
{
    switch (status) {
    case 401: return "the token is missing, expired or wrong (HEROKU_API_KEY, or the netrc entry)";
    case 403: return "the token has no access to the app, or its scope cannot read protected config vars";
    case 404: return "no such app (HEROKU_APP), or no access to it";
    case 406: return "the API refused the request's version";
    case 429: return "the account's API rate limit is used up";
    default: return status >= 500 ? "Heroku's API is failing" : "unexpected answer";
    }
}

static char *error_answer(const struct hpq_cjson *j, const cJSON *root, long status, char *err,
                          size_t errlen)
{
    const cJSON *id = j->get_item(root, "id");
    const cJSON *msg = j->get_item(root, "message");
    if (!j->is_string(msg))
        msg = j->get_item(root, "error"); /* older answers */
    snprintf(err, errlen, "Heroku API answered %ld%s%s: %.200s (%s)", status,
             j->is_string(id) ? " " : "", j->is_string(id) ? id->valuestring : "",
             j->is_string(msg) ? msg->valuestring : "no message", status_hint(status));
    return NULL;
}

/* The JSON string token at *p (just past its opening quote): move past it;
 * say whether it holds an escaped NUL and whether its raw text equals want. */
static bool string_token(const char **p, const char *end, const char *want, bool *nul)
{
    const char *s = *p;
    size_t wlen = want ? strlen(want) : 0;
    *nul = false;
    while (s < end && *s != '"') {
        if (*s == '\\' && s + 1 < end) {
            *nul |= s[1] == 'u' && end - s >= 6 && strncmp(s + 2, "0000", 4) == 0;
            s++;
        }
        s++;
    }
    bool equal = want && (size_t)(s - *p) == wlen && strncmp(*p, want, wlen) == 0;
    *p = s < end ? s + 1 : end;
    return equal;
}

/* cJSON keeps strings NUL-terminated, so "\u0000" in a value cuts it short
 * without a word: look at the raw answer for the value of key. */
bool hpq_source_value_has_nul(const char *body, size_t len, const char *key)
{
    const char *p = body, *end = body + len;
    bool is_key_value = false, nul;
    while (p < end) {
        if (*p++ != '"')
            continue;
        bool is_key = string_token(&p, end, key, &nul);
        const char *q = p;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
            q++;
        if (q < end && *q == ':') {
            is_key_value = is_key;
            continue;
        }
        if (is_key_value && nul)
            return true;
        is_key_value = false;
    }
    return false;
}

static char *url_answer(const struct hpq_cjson *j, const struct hpq_config *cfg, const char *name,
                        const cJSON *root, bool nul, char *err, size_t errlen)
{
    if (!j->is_object(root)) {
        snprintf(err, errlen, "Heroku API answered 200 with something other than a JSON object");
        return NULL;
    }
    const cJSON *var = j->get_item(root, name);
    if (!var || j->is_null(var)) {
        snprintf(err, errlen, "app %s has no config var %s (HEROKUPQ_CONFIG_VAR)", cfg->app, name);
        return NULL;
    }
    if (!j->is_string(var) || !var->valuestring[0]) {
        snprintf(err, errlen, "config var %s of app %s is not a non-empty string", name, cfg->app);
        return NULL;
    }
    const char *url = var->valuestring;
    if (nul) {
        snprintf(err, errlen, "config var %s of app %s holds a NUL character", name,
                 cfg->app);
        return NULL;
    }
    if (strncmp(url, "postgres://", 11) != 0 && strncmp(url, "postgresql://", 13) != 0) {
        snprintf(err, errlen, "config var %s of app %s is not a postgres:// URL", name, cfg->app);
        return NULL;
    }
    char *copy = strdup(url);
    if (!copy)
        snprintf(err, errlen, "out of memory");
    return copy;
}

/* cJSON_Delete frees without wiping: the answer holds every config var. */
static void wipe_json(cJSON *item)
{
    for (; item; item = item->next) {
        if (item->valuestring)
            hpq_wipe(item->valuestring, strlen(item->valuestring));
        wipe_json(item->child);
    }
}

char *hpq_source_parse(const struct hpq_config *cfg, const char *var, long status,
                       const char *body, size_t len, char *err, size_t errlen)
{
    const struct hpq_cjson *j = hpq_cjson();
    if (!j) {
        snprintf(err, errlen, "libcjson is not available to read the Heroku API's answer");
        return NULL;
    }
    cJSON *root = body ? j->parse_with_length(body, len) : NULL;
    char *url = NULL;
    if (status == 200 && root)
        url = url_answer(j, cfg, var, root, hpq_source_value_has_nul(body, len, var), err, errlen);
    else if (status == 200)
        snprintf(err, errlen, "Heroku API answered 200 with a body that is not JSON");
    else if (root && j->is_object(root))
        error_answer(j, root, status, err, errlen);
    else
        snprintf(err, errlen, "Heroku API answered %ld (%s)", status, status_hint(status));
    wipe_json(root);
    j->delete_item(root);
    return url;
}

static size_t collect(char *data, size_t size, size_t nmemb, void *userp)
{
    struct body *b = userp;
    size_t n = size * nmemb;
    if (b->len + n > HPQ_MAX_BODY) {
        b->too_big = true;
        return 0; /* makes libcurl abort the transfer */
    }
    if (b->len + n + 1 > b->cap) {
        /* Not realloc: it would free the old copy of the answer unwiped. */
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = malloc(cap);
        if (!grown)
            return 0;
        if (b->data) {
            memcpy(grown, b->data, b->len);
            hpq_wipe(b->data, b->len);
            free(b->data);
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* Check where the token would go, using libcurl's URL parser; *loopback
 * tells whether that is this machine. */
static bool api_url_allowed(const struct hpq_curl *c, const char *api_url, bool *loopback,
                            char *err, size_t errlen)
{
    CURLU *u = c->url();
    char *scheme = NULL, *host = NULL;
    bool ok = u && c->url_set(u, CURLUPART_URL, api_url, 0) == CURLUE_OK &&
              c->url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              c->url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
              hpq_source_host_allowed(scheme, host);
    *loopback = ok && is_loopback(host);
    if (!ok)
        snprintf(err, errlen,
                 "HEROKU_HOST=%s is not Heroku's API over https nor a loopback address; "
                 "refusing to send it the token",
                 api_url);
    c->free(scheme);
    c->free(host);
    c->url_cleanup(u);
    return ok;
}

/* The value of a response header, copied (libcurl reuses its header struct);
 * "" if absent or too long to keep. */
static void header_value(const struct hpq_curl *c, CURL *h, const char *name, char *out,
                         size_t outlen)
{
    struct curl_header *hdr = NULL;
    out[0] = '\0';
    if (c->easy_header(h, name, 0, CURLH_HEADER, -1, &hdr) == CURLHE_OK && hdr &&
        strlen(hdr->value) < outlen)
        snprintf(out, outlen, "%s", hdr->value);
}

static long header_number(const struct hpq_curl *c, CURL *h, const char *name)
{
    char text[32], *end;
    header_value(c, h, name, text, sizeof text);
    long n = strtol(text, &end, 10);
    return end != text && *end == '\0' && n >= 0 ? n : -1;
}

/* What the answer's headers say about the cache and the rate limit. */
static void read_headers(const struct hpq_curl *c, CURL *h, struct hpq_answer *out)
{
    header_value(c, h, "ETag", out->etag, sizeof out->etag);
    out->remaining = header_number(c, h, "RateLimit-Remaining");
    curl_off_t after = -1; /* libcurl parses both of Retry-After's forms */
    if (c->easy_getinfo(h, CURLINFO_RETRY_AFTER, &after) != CURLE_OK || after <= 0)
        after = header_number(c, h, "Retry-After");
    out->retry_after_s = (long)after;
    char request_id[64];
    header_value(c, h, "Request-Id", request_id, sizeof request_id);
    hpq_log(HPQ_DEBUG, "Heroku API request %s: %ld, %ld calls left in the rate limit",
            request_id[0] ? request_id : "?", out->status, out->remaining);
}

static struct curl_slist *request_headers(const struct hpq_curl *c, const struct hpq_config *cfg,
                                          const char *etag)
{
    struct curl_slist *headers = c->slist_append(NULL, HPQ_ACCEPT);
    if (headers && etag && etag[0]) {
        char line[HPQ_ETAG_MAX + 32];
        snprintf(line, sizeof line, "If-None-Match: %s", etag);
        struct curl_slist *more = c->slist_append(headers, line);
        if (!more) {
            c->slist_free_all(headers);
            return NULL;
        }
        headers = more;
    }
    if (headers && cfg->token) {
        char auth[1024];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", cfg->token);
        struct curl_slist *more = c->slist_append(headers, auth);
        explicit_bzero(auth, sizeof auth);
        if (!more) {
            c->slist_free_all(headers);
            return NULL;
        }
    }
    return headers;
}

static void set_options(const struct hpq_curl *c, CURL *h, const struct hpq_config *cfg,
                        const char *url, struct curl_slist *headers, struct body *b)
{
    c->easy_setopt(h, CURLOPT_URL, url);
    c->easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    c->easy_setopt(h, CURLOPT_USERAGENT, "herokupq/" HPQ_VERSION);
    c->easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* we live in threaded programs */
    c->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    c->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
    c->easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    c->easy_setopt(h, CURLOPT_TIMEOUT_MS, cfg->api_timeout_ms);
    c->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   cfg->api_timeout_ms < 5000 ? cfg->api_timeout_ms : 5000L);
    c->easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HPQ_MAX_BODY);
    c->easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    c->easy_setopt(h, CURLOPT_WRITEDATA, b);
    if (cfg->cafile) /* added to the system's CAs (Debian's libcurl keeps its CA path) */
        c->easy_setopt(h, CURLOPT_CAINFO, cfg->cafile);
    if (!cfg->token) {
        c->easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
        if (cfg->netrc)
            c->easy_setopt(h, CURLOPT_NETRC_FILE, cfg->netrc);
    }
}

static void wipe_headers(struct curl_slist *headers)
{
    for (struct curl_slist *h = headers; h; h = h->next)
        if (h->data)
            hpq_wipe(h->data, strlen(h->data));
}

/* The answer of a completed request into out. */
static int take_answer(const struct hpq_curl *c, CURL *h, const struct hpq_config *cfg,
                       const char *var, const struct body *b, struct hpq_answer *out, char *err,
                       size_t errlen)
{
    c->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    read_headers(c, h, out);
    if (out->status == 304)
        return 0;
    out->url = hpq_source_parse(cfg, var, out->status, b->data, b->len, err, errlen);
    return out->url ? 0 : -1;
}

static int perform(const struct hpq_curl *c, CURL *h, const struct hpq_config *cfg,
                   const char *var, const char *url, const char *etag, struct hpq_answer *out,
                   char *err, size_t errlen)
{
    struct curl_slist *headers = request_headers(c, cfg, etag);
    struct body b = {0};
    int result = -1;
    if (!headers) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    set_options(c, h, cfg, url, headers, &b);
    CURLcode rc = c->easy_perform(h);
    if (rc == CURLE_OK)
        result = take_answer(c, h, cfg, var, &b, out, err, errlen);
    else if (b.too_big || rc == CURLE_FILESIZE_EXCEEDED)
        snprintf(err, errlen, "Heroku API answer is larger than %d bytes", HPQ_MAX_BODY);
    else
        snprintf(err, errlen, "cannot reach the Heroku API at %s: %s", cfg->api_url,
                 c->easy_strerror(rc));
    c->easy_setopt(h, CURLOPT_HTTPHEADER, NULL); /* the kept handle must not point at freed headers */
    wipe_headers(headers); /* libcurl's copy of the Authorization header */
    c->slist_free_all(headers);
    if (b.data) {
        explicit_bzero(b.data, b.len); /* it holds every config var */
        free(b.data);
    }
    return result;
}

/* The handle kept between requests (guarded by handle_lock): a request takes
 * it, so two concurrent requests never share one. */
static pthread_mutex_t handle_lock = PTHREAD_MUTEX_INITIALIZER;
static CURL *kept_handle;

static CURL *take_handle(const struct hpq_curl *c)
{
    pthread_mutex_lock(&handle_lock);
    CURL *h = kept_handle;
    kept_handle = NULL;
    pthread_mutex_unlock(&handle_lock);
    if (h)
        c->easy_reset(h); /* options back to defaults; connections and TLS sessions kept */
    return h ? h : c->easy_init();
}

static void give_back(const struct hpq_curl *c, CURL *h)
{
    pthread_mutex_lock(&handle_lock);
    if (!kept_handle) {
        kept_handle = h;
        h = NULL;
    }
    pthread_mutex_unlock(&handle_lock);
    if (h)
        c->easy_cleanup(h);
}

void hpq_source_lock(void) { pthread_mutex_lock(&handle_lock); }
void hpq_source_unlock(void) { pthread_mutex_unlock(&handle_lock); }

void hpq_source_after_fork_child(void)
{
    kept_handle = NULL; /* its connection is the parent's: never used nor closed here */
    pthread_mutex_unlock(&handle_lock);
}

void hpq_answer_clear(struct hpq_answer *out)
{
    if (out->url) {
        explicit_bzero(out->url, strlen(out->url));
        free(out->url);
    }
    memset(out, 0, sizeof *out);
    out->remaining = out->retry_after_s = -1;
}

/* HEROKUPQ_SOURCE=file: or exec:, as if it were an answer, for config var var. */
static int other_source(const struct hpq_config *cfg, const char *var, struct hpq_answer *out,
                        char *err, size_t errlen)
{
    out->url = cfg->source == HPQ_SOURCE_FILE ? hpq_source_file_fetch(cfg, var, err, errlen)
                                              : hpq_source_exec_fetch(cfg, var, err, errlen);
    out->status = out->url ? 200 : 0;
    return out->url ? 0 : -1;
}

int hpq_source_fetch(const struct hpq_config *cfg, const char *var, const char *etag,
                     struct hpq_answer *out, char *err, size_t errlen)
{
    *out = (struct hpq_answer){.remaining = -1, .retry_after_s = -1};
    if (cfg->source != HPQ_SOURCE_HEROKU)
        return other_source(cfg, var, out, err, errlen);
    const struct hpq_curl *c = hpq_curl();
    if (!c) {
        snprintf(err, errlen, "libcurl is not available");
        return -1;
    }
    bool loopback = false;
    if (!cfg->api_url) {
        snprintf(err, errlen, "HEROKU_HOST is refused (see the warning above)");
        return -1;
    }
    if (!api_url_allowed(c, cfg->api_url, &loopback, err, errlen))
        return -1;
    if (!cfg->token)
        hpq_netrc_check(cfg);
    CURL *h = take_handle(c);
    /* Loopback is reached directly: the token (over plain http, maybe) must
     * never go to a proxy from http_proxy or all_proxy. The handle is kept
     * between requests: set either way. */
    if (h)
        c->easy_setopt(h, CURLOPT_NOPROXY, loopback ? "*" : NULL);
    char *app = h ? c->easy_escape(h, cfg->app, 0) : NULL;
    char *url = NULL;
    int result = -1;
    if (!app || asprintf(&url, "%s/apps/%s/config-vars", cfg->api_url, app) < 0) {
        url = NULL;
        snprintf(err, errlen, "out of memory");
    } else {
        hpq_log(HPQ_DEBUG, "GET %s%s", url, etag && etag[0] ? " (If-None-Match)" : "");
        result = perform(c, h, cfg, var, url, etag, out, err, errlen);
    }
    free(url);
    if (app)
        c->free(app);
    if (h)
        give_back(c, h);
    return result;
}

char *hpq_source_fetch_status(const struct hpq_config *cfg, long *status, char *err,
                              size_t errlen)
{
    struct hpq_answer ans;
    hpq_source_fetch(cfg, cfg->config_var, NULL, &ans, err, errlen);
    char *url = ans.url;
    ans.url = NULL;
    *status = ans.status;
    hpq_answer_clear(&ans);
    return url;
}
