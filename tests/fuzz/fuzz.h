/* fuzz.h — what the libFuzzer targets share (tests/fuzz/fuzz_*.c).
 *
 * Each target is built with clang -fsanitize=fuzzer,address,undefined and
 * linked with the shim's objects (built the same way). An invariant that
 * does not hold calls hpq_fuzz_fail, which prints it and aborts: libFuzzer
 * saves the input as a crash artifact. */
#ifndef HPQ_FUZZ_H
#define HPQ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#define HPQ_FUZZ_MAX_PARTS 48

/* The input cut at its NUL bytes into at most max parts (the last part takes
 * the rest, NULs included, cut at its first). The strings point into a copy
 * that lives until the next call. Returns the number of parts (>= 1). */
unsigned hpq_fuzz_split(const uint8_t *data, size_t size, const char **parts, unsigned max);

/* Run fn(arg) with fd 2 pointing at a buffer: what the shim logged, NUL
 * terminated, valid until the next call. Sanitizer reports still reach the
 * real stderr. */
const char *hpq_fuzz_capture(void (*fn)(void *arg), void *arg);

/* Report a broken invariant (printf format) and abort. */
void hpq_fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
