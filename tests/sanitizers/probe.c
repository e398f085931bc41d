/* probe.c — proof that the sanitizer and valgrind runs can fail.
 *
 * Built twice: with the ASan library's flags (build/asan/libprobe.so),
 * preloaded after that library so that it shares its runtimes, and plainly
 * (build/sanitizers/libprobe.so) for memcheck. Its constructor commits the
 * errors HPQ_PROBE names (a comma-separated list; nothing when it is unset):
 *   stack      reads past a stack array (ASan: stack-buffer-overflow)
 *   ubsan      overflows a signed int (UBSan: signed integer overflow)
 *   heap       reads one byte past a calloc'd block (ASan: heap-buffer-overflow;
 *              memcheck: invalid read)
 *   leak       drops the only pointer to a malloc'd block (LeakSanitizer at
 *              exit; memcheck: definitely lost)
 *   fork_leak  the same, in a forked child only (a pthread_atfork handler)
 * ASan sees heap and leak only where its malloc is the process's (a program
 * linked with -fsanitize=address): under libc's, the block has no red zone
 * and LeakSanitizer tracks nothing. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int sink; /* where a value read goes: nothing is printed */

/* UBSan would see it first: this one is for ASan. */
__attribute__((no_sanitize_undefined)) static int past_the_end(int i)
{
    volatile char buf[8] = {0};
    return buf[i];
}

/* 8 bytes asked, the 9th read: inside libc's chunk (no harm), in ASan's red zone. */
__attribute__((noinline, no_sanitize_undefined)) static void past_the_block(int i)
{
    volatile char *block = calloc(1, 8);
    if (!block)
        return;
    sink = block[i];
    free((void *)block);
}

/* Nothing points to the block once this returns. */
__attribute__((noinline)) static void lose_a_block(void)
{
    char *volatile block = malloc(64);
    if (block)
        block[0] = 1;
    block = NULL;
}

static int overflow(int n)
{
    volatile int x = n;
    return x + 1;
}

/* Whether the comma-separated LIST holds WORD. */
static int named(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

__attribute__((constructor)) static void probe(void)
{
    const char *what = getenv("HPQ_PROBE");
    if (!what)
        return;
    if (named(what, "stack"))
        printf("%d\n", past_the_end(8));
    if (named(what, "ubsan"))
        printf("%d\n", overflow(INT_MAX));
    if (named(what, "heap"))
        past_the_block(8);
    if (named(what, "leak"))
        lose_a_block();
    if (named(what, "fork_leak"))
        pthread_atfork(NULL, NULL, lose_a_block);
}
