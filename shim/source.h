/* source.h — the Heroku Platform API client: one config var of one app.
 *
 *   GET {api}/apps/{app}/config-vars
 *   Accept: application/vnd.heroku+json; version=3
 *   Authorization: Bearer <HEROKU_API_KEY>   (else Basic, from netrc)
 *   If-None-Match: <the ETag of the cached answer>   (when there is one)
 *
 * One libcurl handle is kept for the next request (its connection and TLS
 * session are reused); a request made while it is in use gets its own. */
#ifndef HPQ_SOURCE_H
#define HPQ_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "version.h"

#define HPQ_MAX_BODY (256 * 1024) /* Heroku caps all config vars at 32 KB */
#define HPQ_ETAG_MAX 128            /* a longer ETag is not kept */

/* What one request brought. */
struct hpq_answer {
    long status;           /* the HTTP status; 0 if there was no answer */
    char *url;             /* 200: the config var's value (malloc'd); else NULL */
    char etag[HPQ_ETAG_MAX]; /* the answer's ETag, "" if none */
    long remaining;        /* RateLimit-Remaining, -1 if absent */
    long retry_after_s;    /* Retry-After in seconds, -1 if absent */
};

/* Fetch config var var, sending If-None-Match: etag when etag is not empty.
 * With HEROKUPQ_SOURCE=file: or exec:, the file is read or the command run
 * instead (source_file.h, source_exec.h): var and etag do not apply, a URL
 * comes with status 200.
 * *out is overwritten (release it with hpq_answer_clear).
 * 0: out->url is the URL (200), or out->status is 304 (unchanged). -1: no
 * URL, the reason (one readable sentence, no secrets) in err; out still says
 * what the API answered (a 429 and its Retry-After). */
int hpq_source_fetch(const struct hpq_config *cfg, const char *var, const char *etag,
                     struct hpq_answer *out, char *err, size_t errlen);

/* Free and wipe out->url; zero the rest. */
void hpq_answer_clear(struct hpq_answer *out);

/* Fork handlers: the kept handle's lock; a child forgets the handle (its
 * connection is the parent's). */
void hpq_source_lock(void);
void hpq_source_unlock(void);
void hpq_source_after_fork_child(void);

/* HEROKUPQ_CONFIG_VAR's URL (malloc'd) or NULL with the reason in err, and the
 * HTTP status of the API's answer in *status (0 when none came: unreachable,
 * refused before sending); no ETag. For the `herokupq` command. */
char *hpq_source_fetch_status(const struct hpq_config *cfg, long *status, char *err,
                              size_t errlen);

/* Pure parts, exposed for the unit tests. */

/* Turn an API answer into config var var's URL, or NULL with the reason in err. */
char *hpq_source_parse(const struct hpq_config *cfg, const char *var, long status,
                       const char *body, size_t len, char *err, size_t errlen);

/* Whether the value of key in the JSON answer body holds an escaped NUL
 * ("\u0000"), which cJSON's NUL-terminated strings would silently cut at. */
bool hpq_source_value_has_nul(const char *body, size_t len, const char *key);

/* May the token be sent to this scheme and host? Heroku's domains over
 * https, or loopback. */
bool hpq_source_host_allowed(const char *scheme, const char *host);

#endif
