/* herokupq.c — the command's entry: options, --help, --version, `url`, and
 * the pieces doctor and run share (the configuration, the libpq table). */
#include "cmd.h"

#include <getopt.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../log.h"
#include "../source.h"
#include "../version.h"

static const char usage_text[] =
    "usage: herokupq [-a APP] [--var NAME] [--] PROGRAM [ARGS...]\n"
    "       herokupq doctor [-a APP] [--var NAME]\n"
    "       herokupq url [-a APP] [--var NAME] [--show-password]\n"
    "       herokupq proxy [-a APP] [--var NAME] [--dir DIR] [--port N] ... (proxy --help)\n"
    "\n"
    "Runs PROGRAM with libherokupq preloaded: its libpq connections go to the Heroku\n"
    "app's current database, over SSL, and survive credential rotations.\n"
    "\n"
    "  -a, --app APP      the Heroku app (sets HEROKU_APP)\n"
    "      --var NAME     the config var holding the URL (sets HEROKUPQ_CONFIG_VAR;\n"
    "                     default DATABASE_URL)\n"
    "      --show-password  url: print the password instead of masking it\n"
    "  -h, --help         this text\n"
    "  -V, --version      the version\n"
    "\n"
    "doctor checks the set-up step by step and says how to fix what fails;\n"
    "url prints the resolved URL; proxy runs a local PgBouncer on the current\n"
    "database for any client. The token comes from HEROKU_API_KEY or ~/.netrc.\n"
    "See herokupq(1) and herokupq(7).\n";

static const struct option options[] = {
    {"app", required_argument, NULL, 'a'},     {"var", required_argument, NULL, 'v'},
    {"show-password", no_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
};

struct opts {
    bool show_password, help, version;
};

/* Options up to the first operand ('+': the program's own options are its). */
static int parse(int argc, char **argv, struct opts *o)
{
    int c;
    while ((c = getopt_long(argc, argv, "+a:hV", options, NULL)) != -1) {
        switch (c) {
        case 'a': setenv("HEROKU_APP", optarg, 1); break;
        case 'v': setenv("HEROKUPQ_CONFIG_VAR", optarg, 1); break;
        case 'p': o->show_password = true; break;
        case 'h': o->help = true; break;
        case 'V': o->version = true; break;
        default: return -1;
        }
    }
    return 0;
}

static const char *process_getenv(const char *name) { return getenv(name); }

void hpq_cmd_config(struct hpq_config *cfg, char *warnings, size_t len)
{
    warnings[0] = '\0';
    FILE *tmp = tmpfile();
    int saved = tmp ? dup(STDERR_FILENO) : -1;
    if (saved < 0 || dup2(fileno(tmp), STDERR_FILENO) < 0) { /* cannot capture: let them show */
        hpq_config_parse(cfg, process_getenv);
        return;
    }
    hpq_config_parse(cfg, process_getenv);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(warnings, 1, len - 1, tmp);
    warnings[n] = '\0';
    fclose(tmp);
}

const struct hpq_libpq *hpq_cmd_libpq(void)
{
    static const struct hpq_libpq lib = {
        .connectdb = PQconnectdb,
        .conninfo_parse = PQconninfoParse,
        .conninfo_free = PQconninfoFree,
        .freemem = PQfreemem,
        .status = PQstatus,
        .error_message = PQerrorMessage,
        .finish = PQfinish,
    };
    return &lib;
}

/* The resolved URL on stdout, its password masked unless asked. */
static int cmd_url(bool show_password)
{
    struct hpq_config cfg;
    char warnings[2048], err[512];
    hpq_cmd_config(&cfg, warnings, sizeof warnings);
    fputs(warnings, stderr);
    if (!cfg.enabled) {
        fprintf(stderr, "herokupq: no app: give -a APP or set HEROKU_APP (and not HEROKUPQ_DISABLE=1)\n");
        return 2;
    }
    long status;
    char *url = hpq_source_fetch_status(&cfg, &status, err, sizeof err);
    int rc = url ? 0 : 1;
    if (url && show_password) {
        printf("%s\n", url);
    } else if (url) {
        char shown[1024];
        printf("%s\n", hpq_redact(url, shown, sizeof shown));
    } else {
        char line[600];
        hpq_log_scrub(err, line, sizeof line);
        fprintf(stderr, "herokupq: error: %s\n", line);
    }
    if (url)
        explicit_bzero(url, strlen(url));
    free(url);
    hpq_config_release(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o = {0};
    if (parse(argc, argv, &o) != 0) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (o.help || o.version) {
        fputs(o.help ? usage_text : "herokupq " HPQ_VERSION "\n", stdout);
        return 0;
    }
    if (optind >= argc) {
        fputs(usage_text, stderr);
        return 2;
    }
    const char *sub = argv[optind];
    if (strcmp(sub, "proxy") == 0 && strcmp(argv[optind - 1], "--") != 0)
        return hpq_cmd_proxy(argc - optind, argv + optind);
    bool is_url = strcmp(sub, "url") == 0, is_doctor = strcmp(sub, "doctor") == 0;
    bool after_dashes = strcmp(argv[optind - 1], "--") == 0;
    if (after_dashes || (!is_url && !is_doctor)) {
        if (!getenv("HEROKU_APP") && !getenv("HEROKUPQ_SOURCE"))
            fprintf(stderr, "herokupq: warning: no app (-a APP or HEROKU_APP): "
                            "the program runs with the library inactive\n");
        return hpq_cmd_run(argv + optind);
    }
    optind++; /* the subcommand's own options */
    if (parse(argc, argv, &o) != 0 || optind != argc || (o.show_password && !is_url)) {
        fputs(usage_text, stderr);
        return 2;
    }
    return is_url ? cmd_url(o.show_password) : hpq_cmd_doctor();
}
