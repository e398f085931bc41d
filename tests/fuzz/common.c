/* common.c — see fuzz.h. */
#include "fuzz.h"

#include <sanitizer/common_interface_defs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CAPTURE_MAX (256 * 1024)

static char *copy;
static int real_stderr = -1; /* a duplicate of the original fd 2 */
static int sink = -1;        /* what fd 2 points at during a capture */
static char captured[CAPTURE_MAX + 1];

unsigned hpq_fuzz_split(const uint8_t *data, size_t size, const char **parts, unsigned max)
{
    free(copy);
    copy = malloc(size + 1);
    if (!copy)
        abort();
    memcpy(copy, data, size);
    copy[size] = '\0';
    unsigned n = 0;
    const char *p = copy, *end = copy + size;
    parts[n++] = p;
    for (; p < end && n < max; p++)
        if (*p == '\0')
            parts[n++] = p + 1;
    return n;
}

static void capture_setup(void)
{
    if (sink >= 0)
        return;
    real_stderr = dup(STDERR_FILENO);
    sink = memfd_create("hpq-fuzz-stderr", 0);
    if (real_stderr < 0 || sink < 0)
        abort();
    __sanitizer_set_report_fd((void *)(long)real_stderr);
}

const char *hpq_fuzz_capture(void (*fn)(void *arg), void *arg)
{
    capture_setup();
    if (ftruncate(sink, 0) != 0 || lseek(sink, 0, SEEK_SET) != 0 ||
        dup2(sink, STDERR_FILENO) < 0)
        abort();
    fn(arg);
    if (dup2(real_stderr, STDERR_FILENO) < 0)
        abort();
    ssize_t n = pread(sink, captured, CAPTURE_MAX, 0);
    captured[n > 0 ? n : 0] = '\0';
    return captured;
}

void hpq_fuzz_fail(const char *fmt, ...)
{
    int fd = real_stderr >= 0 ? real_stderr : STDERR_FILENO;
    va_list ap;
    va_start(ap, fmt);
    dprintf(fd, "\nhpq-fuzz: invariant broken: ");
    vdprintf(fd, fmt, ap);
    dprintf(fd, "\n");
    va_end(ap);
    abort();
}
