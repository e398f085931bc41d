/* reset.c — see reset.h. */
#include "reset.h"

#include <string.h>

#include "cache.h"
#include "classify.h"
#include "clock.h"
#include "connect.h"
#include "conns.h"
#include "creds.h"
#include "log.h"
#include "secret.h"

#define HPQ_ERR_MAX 256

/* A reset of conn failed: is it stale, with time left to repair it? */
static bool reset_stale(const struct hpq_libpq *lib, PGconn *conn, unsigned attempt,
                        long long deadline)
{
    const char *why = lib->error_message(conn);
    if (hpq_classify(lib->status(conn), why) != HPQ_STALE || hpq_now_ms() >= deadline)
        return false;
    hpq_log(attempt == 1 ? HPQ_INFO : HPQ_DEBUG,
            "reset attempt %u failed, the credentials are gone: %s; asking the API for the "
            "current URL", attempt, why);
    return true;
}

/* Write next's credentials into conn, rewritten to url (see creds.h). */
static bool renewed_in_place(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                             PGconn *conn, const char *url, const char *next)
{
    struct hpq_params old_params = {0}, new_params = {0};
    char err[HPQ_ERR_MAX];
    bool ok = hpq_connect_parse_url(lib, cfg, url, &old_params, err, sizeof err) == 0 &&
              hpq_connect_parse_url(lib, cfg, next, &new_params, err, sizeof err) == 0;
    if (ok && hpq_creds_update(lib, conn, &old_params, &new_params, err, sizeof err) != 0) {
        hpq_log(HPQ_WARN, "a reset connection cannot take the new credentials in place (%s): "
                "it fails as libpq reports it; new connections get the new URL", err);
        ok = false;
    }
    hpq_params_clear(&old_params);
    hpq_params_clear(&new_params);
    if (ok) {
        hpq_conns_add(conn, next, cfg->config_var);
        hpq_log(HPQ_INFO, "the reset connection now holds the new credentials");
    }
    return ok;
}

/* conn, rewritten to *url, failed a reset as stale: ask for the current URL
 * and, if it is new, bring conn's credentials up to date. true: reset again
 * (*url is then the URL conn holds; the same one while the config var lags). */
static bool renew(const struct hpq_libpq *lib, const struct hpq_config *cfg, PGconn *conn,
                  char **url, long long deadline)
{
    char err[HPQ_ERR_MAX];
    char *next = hpq_cache_refresh(cfg, cfg->config_var, *url, deadline, err, sizeof err);
    if (!next) {
        hpq_log(HPQ_DEBUG, "the reset is not repaired: %s", err);
        return false;
    }
    if (strcmp(next, *url) != 0 && !renewed_in_place(lib, cfg, conn, *url, next)) {
        hpq_free_secret(next);
        return false;
    }
    hpq_free_secret(*url);
    *url = next;
    return true;
}

/* PQresetPoll failed on a reset the shim may repair: renew the credentials
 * and start the reset again. true if it is under way again (still watched). */
static bool restart_reset(const struct hpq_libpq *lib, const struct hpq_config *cfg,
                          PGconn *conn, char **url, const struct hpq_watch *watch)
{
    if (!watch->repair_until || !reset_stale(lib, conn, watch->attempt, watch->repair_until) ||
        !renew(lib, cfg, conn, url, watch->repair_until) || !lib->reset_start(conn))
        return false;
    struct hpq_watch again = *watch;
    again.attempt++;
    return hpq_conns_watch(conn, &again);
}

PostgresPollingStatusType hpq_reset_settled(const struct hpq_libpq *lib,
                                            const struct hpq_config *cfg, PGconn *conn,
                                            PostgresPollingStatusType status)
{
    if (status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED)
        return status;
    char *url = NULL;
    const char *var = NULL;
    struct hpq_watch watch;
    if (!hpq_conns_unwatch(conn, &url, &var, &watch))
        return status;
    struct hpq_config for_var = hpq_connect_for_var(cfg, var);
    if (status == PGRES_POLLING_FAILED && restart_reset(lib, &for_var, conn, &url, &watch)) {
        hpq_free_secret(url);
        return PGRES_POLLING_WRITING; /* as after PQresetStart: the program polls on */
    }
    hpq_connect_learn(lib, conn, url);
    lib->set_error_verbosity(conn, watch.saved);
    hpq_free_secret(url);
    return status;
}

void hpq_reset(const struct hpq_libpq *lib, const struct hpq_config *process_cfg, PGconn *conn)
{
    const char *var = NULL;
    char *url = hpq_conns_url(conn, &var);
    if (!url) {
        lib->reset(conn);
        return;
    }
    struct hpq_config for_var = hpq_connect_for_var(process_cfg, var);
    const struct hpq_config *cfg = &for_var;
    PGVerbosity saved = lib->set_error_verbosity(conn, PQERRORS_VERBOSE);
    long long deadline = hpq_now_ms() + cfg->retry_ms;
    lib->reset(conn);
    for (unsigned attempt = 1; reset_stale(lib, conn, attempt, deadline); attempt++) {
        if (!renew(lib, cfg, conn, &url, deadline))
            break;
        lib->reset(conn);
    }
    hpq_connect_learn(lib, conn, url);
    lib->set_error_verbosity(conn, saved);
    hpq_free_secret(url);
}

int hpq_reset_start(const struct hpq_libpq *lib, const struct hpq_config *cfg, PGconn *conn)
{
    const char *var = NULL;
    char *url = hpq_conns_url(conn, &var);
    if (!url)
        return lib->reset_start(conn);
    hpq_free_secret(url);
    struct hpq_watch watch = {
        .saved = lib->set_error_verbosity(conn, PQERRORS_VERBOSE),
        /* HEROKUPQ_ASYNC=start promises polls that never wait for the API */
        .repair_until = cfg->async_start ? 0 : hpq_now_ms() + cfg->retry_ms,
        .attempt = 1,
    };
    hpq_conns_watch(conn, &watch);
    int started = lib->reset_start(conn);
    if (!started)
        hpq_reset_settled(lib, cfg, conn, PGRES_POLLING_FAILED);
    return started;
}
