/* netrc.h — the netrc file the API client lets libcurl read for the token.
 *
 * libcurl reads the file itself (CURLOPT_NETRC), so the shim never sees the
 * token it finds there; this module looks at the same file once per process:
 * a file its group or others can read gets one warning (as ssh and curl users
 * expect), and every password in it is registered with the log's scrubber, so
 * that an API answer echoing the token cannot print it. */
#ifndef HPQ_NETRC_H
#define HPQ_NETRC_H

#include <stddef.h>

#include "config.h"

/* Once per process, when the token is to come from netrc (cfg->token NULL). */
void hpq_netrc_check(const struct hpq_config *cfg);

/* The token libcurl would send to api_url's host from the netrc file (netrc:
 * NETRC's path, or NULL: $HOME/.netrc): the password of the host's "machine"
 * entry, else of the "default" entry; "" when there is none (or no file).
 * Read afresh each call; for the shared cache's entry name, which must come
 * from the token, not from the file's path (another $HOME, another token). */
void hpq_netrc_token(const char *netrc, const char *api_url, char *out, size_t outlen);

#endif
