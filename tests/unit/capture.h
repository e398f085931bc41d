/* capture.h — helpers the unit tests share: the shim's log lines (fd 2
 * pointed at a temporary file between capture_start and capture_end; no
 * assertions in between: cmocka reports failures on stderr), and removing a
 * temporary directory. */
#ifndef HPQ_CAPTURE_H
#define HPQ_CAPTURE_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static FILE *captured;
static int saved_stderr = -1;

static inline void capture_start(void)
{
    captured = tmpfile();
    assert_non_null(captured);
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_true(dup2(fileno(captured), STDERR_FILENO) >= 0);
}

static inline const char *capture_end(void)
{
    static char out[16384];
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    saved_stderr = -1;
    rewind(captured);
    size_t n = fread(out, 1, sizeof out - 1, captured);
    out[n] = '\0';
    fclose(captured);
    captured = NULL;
    return out;
}

/* How many lines of out contain part. */
static inline int lines_with(const char *out, const char *part)
{
    int n = 0;
    for (const char *line = out; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *hit = strstr(line, part);
        n += hit && hit < line + len;
        line = end ? end + 1 : NULL;
    }
    return n;
}

/* Remove a test's temporary directory tree (no shell: tests run in milliseconds). */
#include <ftw.h>
#include <stdio.h>

static inline int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

static inline int remove_tree(const char *path) { return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS); }

#endif
