/* run.c — herokupq [-a APP] [--var NAME] [--] PROGRAM ARGS...: the program,
 * with the library appended to LD_PRELOAD (the shape of proxychains4 and
 * faketime). execvp, so the exit status is the program's own. */
#include "cmd.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The first candidate that exists, made absolute. */
static const char *first_existing(const char *const *candidates, char *buf, size_t len)
{
    char resolved[PATH_MAX];
    for (unsigned i = 0; candidates[i]; i++) {
        if (access(candidates[i], R_OK) == 0 && realpath(candidates[i], resolved)) {
            snprintf(buf, len, "%s", resolved);
            return buf;
        }
    }
    return NULL;
}

const char *hpq_cmd_library(char *buf, size_t len)
{
    const char *env = getenv("HEROKUPQ_LIBRARY");
    if (env && *env) {
        const char *const only[] = {env, NULL};
        if (first_existing(only, buf, len))
            return buf;
        snprintf(buf, len, "HEROKUPQ_LIBRARY=%s", env);
        return NULL;
    }
    char self[PATH_MAX], installed[PATH_MAX + 32], built[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    snprintf(installed, sizeof installed, "%s/../lib/herokupq/libherokupq.so", self);
    snprintf(built, sizeof built, "%s/libherokupq.so", self);
    const char *const candidates[] = {installed, built, NULL};
    if (first_existing(candidates, buf, len))
        return buf;
    snprintf(buf, len, "%s or %s", installed, built);
    return NULL;
}

/* Whether the space- or colon-separated list already names path. */
static bool list_has(const char *list, const char *path)
{
    size_t n = strlen(path);
    for (const char *p = list; *p;) {
        size_t m = strcspn(p, ": ");
        if (m == n && strncmp(p, path, n) == 0)
            return true;
        p += m + (p[m] != '\0');
    }
    return false;
}

/* Existing preloads are kept, in front: the loader's order is theirs. */
static int append_preload(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    if (old && list_has(old, lib))
        return 0;
    char *value;
    if (old && *old ? asprintf(&value, "%s:%s", old, lib) < 0 : !(value = strdup(lib)))
        return -1;
    int rc = setenv("LD_PRELOAD", value, 1);
    free(value);
    return rc;
}

int hpq_cmd_run(char **argv)
{
    char lib[PATH_MAX + 80];
    if (!hpq_cmd_library(lib, sizeof lib)) {
        fprintf(stderr, "herokupq: cannot find the library (looked for %s); set HEROKUPQ_LIBRARY\n",
                lib);
        return 1;
    }
    /* The loader splits LD_PRELOAD at spaces and colons: such a path would load
     * nothing, and the program would run with its own parameters. */
    if (strpbrk(lib, ": ")) {
        fprintf(stderr, "herokupq: error: the library's path '%s' cannot go into LD_PRELOAD "
                        "(the loader splits it at spaces and colons); install herokupq under a "
                        "path without them, or set HEROKUPQ_LIBRARY to a copy there\n", lib);
        return 1;
    }
    if (append_preload(lib) != 0) {
        fprintf(stderr, "herokupq: cannot set LD_PRELOAD: %s\n", strerror(errno));
        return 1;
    }
    execvp(argv[0], argv);
    int e = errno;
    /* As a shell says it: 127 when there is no such program, 126 otherwise. */
    fprintf(stderr, "herokupq: %s: %s\n", argv[0], e == ENOENT ? "command not found" : strerror(e));
    return e == ENOENT ? 127 : 126;
}
