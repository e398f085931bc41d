/* rewrite_memo.c — see rewrite_memo.h. */
#include "rewrite_memo.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kept {
    const struct hpq_libpq *lib;
    char *var, *sslmode, *min_protocol; /* "" for an unset variable */
    bool has_url;
    struct hpq_params program, url;
    char *conninfo; /* holds the password */
} kept;

void hpq_rewrite_memo_lock(void) { pthread_mutex_lock(&memo_lock); }
void hpq_rewrite_memo_unlock(void) { pthread_mutex_unlock(&memo_lock); }

static bool same_text(const char *kept_text, const char *s)
{
    return strcmp(kept_text, s ? s : "") == 0;
}

static bool matches(const struct kept *k, const struct hpq_rewrite_key *key)
{
    return k->conninfo && k->lib == key->lib && same_text(k->var, key->var) &&
           same_text(k->sslmode, key->sslmode) && same_text(k->min_protocol, key->min_protocol) &&
           k->has_url == (key->url != NULL) && hpq_params_equal(&k->program, key->program) &&
           (!key->url || hpq_params_equal(&k->url, key->url));
}

char *hpq_rewrite_memo_get(const struct hpq_rewrite_key *key)
{
    pthread_mutex_lock(&memo_lock);
    char *copy = matches(&kept, key) ? strdup(kept.conninfo) : NULL;
    pthread_mutex_unlock(&memo_lock);
    return copy;
}

static void clear(struct kept *k)
{
    free(k->var);
    free(k->sslmode);
    free(k->min_protocol);
    hpq_params_clear(&k->program);
    hpq_params_clear(&k->url);
    hpq_free_secret(k->conninfo);
}

void hpq_rewrite_memo_put(const struct hpq_rewrite_key *key, const char *conninfo)
{
    struct kept fresh = {key->lib, strdup(key->var ? key->var : ""),
                         strdup(key->sslmode ? key->sslmode : ""),
                         strdup(key->min_protocol ? key->min_protocol : ""),
                         key->url != NULL, {0}, {0}, strdup(conninfo)};
    bool ok = fresh.var && fresh.sslmode && fresh.min_protocol && fresh.conninfo &&
              hpq_params_copy(&fresh.program, key->program) == 0 &&
              (!key->url || hpq_params_copy(&fresh.url, key->url) == 0);
    if (ok) {
        pthread_mutex_lock(&memo_lock);
        struct kept old = kept;
        kept = fresh;
        pthread_mutex_unlock(&memo_lock);
        fresh = old;
    }
    clear(&fresh); /* the one replaced, or the one not kept (out of memory) */
}
