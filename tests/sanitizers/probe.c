/* probe.c — proof that the sanitizer runs can fail (build/asan/libprobe.so).
 *
 * Built with the ASan library's flags and preloaded after it, so it shares
 * that library's runtimes. Its constructor commits the error HPQ_PROBE names:
 *   stack  reads past a stack array (ASan: stack-buffer-overflow)
 *   ubsan  overflows a signed int (UBSan: signed integer overflow)
 * and does nothing when HPQ_PROBE is unset. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* UBSan would see it first: this one is for ASan. */
__attribute__((no_sanitize_undefined)) static int past_the_end(int i)
{
    volatile char buf[8] = {0};
    return buf[i];
}

static int overflow(int n)
{
    volatile int x = n;
    return x + 1;
}

__attribute__((constructor)) static void probe(void)
{
    const char *what = getenv("HPQ_PROBE");
    if (!what)
        return;
    if (strcmp(what, "stack") == 0)
        printf("%d\n", past_the_end(8));
    else if (strcmp(what, "ubsan") == 0)
        printf("%d\n", overflow(INT_MAX));
}
