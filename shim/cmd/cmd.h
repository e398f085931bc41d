/* cmd.h — the herokupq command: a program, not a preload.
 *
 *   herokupq [-a APP] [--var NAME] [--] PROGRAM ARGS...   run.c
 *   herokupq doctor [-a APP] [--var NAME]                 doctor.c, doctor_db.c
 *   herokupq url [-a APP] [--var NAME] [--show-password]  herokupq.c
 *   herokupq proxy [-a APP] [--var NAME] [OPTIONS]        proxy.c, pgbouncer.c
 *
 * It reuses the library's pure and leaf layers (config, source, rewrite, log)
 * and never its exports: it links its own libpq and calls it directly. */
#ifndef HPQ_CMD_H
#define HPQ_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "../config.h"
#include "../real.h"
#include "../rewrite.h"

/* Exec argv[0] (PATH searched) with the library appended to LD_PRELOAD.
 * Returns only on failure: 127 not found, 126 not executable, 1 otherwise. */
int hpq_cmd_run(char **argv);

/* The library's absolute path: HEROKUPQ_LIBRARY, else beside this command
 * (../lib/herokupq/libherokupq.so when installed, libherokupq.so in the build
 * tree). NULL, with what was tried in buf, if none exists. */
const char *hpq_cmd_library(char *buf, size_t len);

/* The configuration the library would read from this environment. Warnings
 * it would log go to warnings (one per line) instead of stderr. */
void hpq_cmd_config(struct hpq_config *cfg, char *warnings, size_t len);

/* The command's own libpq as the table rewrite.c works with. */
const struct hpq_libpq *hpq_cmd_libpq(void);

int hpq_cmd_doctor(void);

/* herokupq proxy: argv[0] is "proxy"; returns the exit status. */
int hpq_cmd_proxy(int argc, char **argv);

/* One doctor line: "ok   NAME: DETAIL", "FAIL NAME: DETAIL" + "     fix: FIX",
 * or "--   NAME: skipped, DETAIL". Secrets are masked. Returns 1 for a FAIL. */
int hpq_check_ok(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int hpq_check_fail(const char *name, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int hpq_check_skip(const char *name, const char *why);

/* The database checks (reachable, SSL, TLS version, server version) for a
 * resolved URL. Returns the number of failures. */
int hpq_doctor_database(const struct hpq_config *cfg, const char *url);

#endif
