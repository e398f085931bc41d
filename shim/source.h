/* source.h — the Heroku Platform API client: one config var of one app.
 *
 *   GET {api}/apps/{app}/config-vars
 *   Accept: application/vnd.heroku+json; version=3
 *   Authorization: Bearer <HEROKU_API_KEY>   (else Basic, from netrc)
 */
#ifndef HPQ_SOURCE_H
#define HPQ_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "version.h"

#define HPQ_MAX_BODY (256 * 1024) /* Heroku caps all config vars at 32 KB */

/* Fetch the config var. Return a malloc'd URL, or NULL with the reason
 * (one readable sentence, no secrets) in err. */
char *hpq_source_fetch(const struct hpq_config *cfg, char *err, size_t errlen);

/* The same, also giving the HTTP status of the API's answer in *status (0 when
 * none came: unreachable, refused before sending). For `herokupq doctor`. */
char *hpq_source_fetch_status(const struct hpq_config *cfg, long *status, char *err,
                              size_t errlen);

/* Pure parts, exposed for the unit tests. */

/* Turn an API answer into the URL, or NULL with the reason in err. */
char *hpq_source_parse(const struct hpq_config *cfg, long status, const char *body, size_t len,
                       char *err, size_t errlen);

/* May the token be sent to this scheme and host? Heroku's domains over
 * https, or loopback. */
bool hpq_source_host_allowed(const char *scheme, const char *host);

#endif
