/* source_text.h — pure helpers of the sources beyond the Heroku API
 * (HEROKUPQ_SOURCE=file:PATH, exec:COMMAND): what their text means. */
#ifndef HPQ_SOURCE_TEXT_H
#define HPQ_SOURCE_TEXT_H

#include <stddef.h>

#define HPQ_MAX_WORDS 64

/* The URL in text (a file's content or a command's output): its first line,
 * blanks trimmed, which must be a postgres:// or postgresql:// URL. Returns a
 * malloc'd URL, or NULL with the reason (naming origin, never the text) in err. */
char *hpq_url_from_text(const char *text, size_t len, const char *origin, char *err,
                        size_t errlen);

/* Split a command line into words as a shell would without expanding
 * anything: blanks separate words, '...' and "..." quote, a backslash escapes
 * the next character. The words point into buf. Returns the word count (argv
 * is NULL-terminated), or -1 with the reason in err (unclosed quote, empty,
 * too many words, too long). */
int hpq_split_words(const char *line, char *buf, size_t buflen, char **argv, int max, char *err,
                    size_t errlen);

/* Called with each password found (a NUL-terminated copy, wiped after). */
typedef void hpq_found_fn(const char *secret, void *ctx);

/* The passwords a URL (url[0..len)) carries, as libpq would read them and as
 * they are written: its user information's password (from the first ':' to
 * the '@'), each password and sslpassword query value (the key decoded
 * first: ?%70assword= is one too); each as written and percent-decoded. */
void hpq_url_passwords(const char *url, size_t len, hpq_found_fn *found, void *ctx);

/* The passwords of every URL among text's blank-separated words. */
void hpq_text_passwords(const char *text, size_t len, hpq_found_fn *found, void *ctx);

#endif
