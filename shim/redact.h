/* redact.h — connection strings and URLs made fit to print.
 *
 * Masking works on structure, not on luck: a URL loses everything between
 * "scheme://" and its last '@' (user and password, whatever characters the
 * password holds) and the values of its password/sslpassword query
 * parameters; a conninfo string is tokenized by libpq's rules (blanks around
 * '=', '' quoting, backslash escapes) and loses the whole value of password
 * and sslpassword, and the user information of any URL held in another value.
 * Text that is neither is not shown. Pure: no state, no I/O. The log's
 * scrubber (log.h) is the second line of defence, not the first. */
#ifndef HPQ_REDACT_H
#define HPQ_REDACT_H

/* A libpq URL or conninfo string, masked, in buf (cut to fit); returns buf,
 * or "(null)" for NULL. */
const char *hpq_redact(const char *conn_text, char *buf, unsigned long buflen);

/* Free text (a source command's stderr) in buf: each key=value pair masked as
 * in a conninfo, each word holding a URL with its user information masked, the
 * rest as it is; a password pair that does not parse hides the rest of the text. */
const char *hpq_redact_text(const char *text, char *buf, unsigned long buflen);

/* Any scheme://[userinfo@]host... URL (HEROKU_HOST) with its user information masked. */
const char *hpq_redact_userinfo(const char *url, char *buf, unsigned long buflen);

#endif
