/* log.h — levelled, single-line logging to stderr with secrets scrubbed.
 *
 * Every line starts with "herokupq: ". Any string registered with
 * hpq_log_secret() (API token, database passwords) is replaced by "********"
 * in the whole line (its prefix too) at every level, so no caller can leak one
 * by mistake. Secrets are never forgotten (a growable set: the token
 * registered first stays as long as the 100th password). A secret shorter
 * than 4 characters is masked only where it stands as a whole word: masking it
 * inside words would tell it ("conn********cting"); such a password is
 * protected by masking whole values (redact.h). hpq_log and hpq_log_secret
 * leave errno as they found it. */
#ifndef HPQ_LOG_H
#define HPQ_LOG_H

#include "redact.h"

enum hpq_level { HPQ_OFF = 0, HPQ_ERROR, HPQ_WARN, HPQ_INFO, HPQ_DEBUG };

void hpq_log_set_level(enum hpq_level level);
int hpq_log_enabled(enum hpq_level level);
void hpq_log_line(enum hpq_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Log one line at level. The arguments are evaluated only when the level is
 * enabled, so a disabled line costs one comparison: no formatting, and no
 * hpq_redact() or other work in its arguments. level must have no side effects. */
#define hpq_log(level, ...)                                                                   \
    ((void)(hpq_log_enabled(level) && (hpq_log_line((level), __VA_ARGS__), 1)))

/* Remember a secret so that no later log line can contain it. */
void hpq_log_secret(const char *secret);

/* Forget every secret, wiping them: for the fuzz targets, which start each
 * input afresh. */
void hpq_log_forget_secrets(void);
/* Copy text into out (at most cap bytes with the NUL) with every registered
 * secret masked; the whole text is scrubbed before anything is cut, so a secret
 * never shows in part. For text that leaves by another way than the log: the
 * strict-mode PQerrorMessage, the herokupq command's output. */
void hpq_log_scrub(const char *text, char *out, unsigned long cap);

/* text made fit for a log line: every registered secret masked first, then
 * redact (hpq_redact, hpq_redact_text, hpq_redact_userinfo) masks by
 * structure. Scrubbing first matters: a structural mask that ends inside a
 * secret (a URL password holding '@' is masked only up to its last '@') would
 * leave the rest of it for the line's scrubber to miss. Returns buf. */
typedef const char *hpq_redactor(const char *text, char *buf, unsigned long buflen);
const char *hpq_log_shown(hpq_redactor *redact, const char *text, char *buf, unsigned long cap);

/* Fork handlers. */
void hpq_log_lock(void);
void hpq_log_unlock(void);


#endif
