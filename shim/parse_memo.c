/* parse_memo.c — see parse_memo.h. */
#include "parse_memo.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

enum { KEPT_PROGRAM, KEPT_URL, KEPT_SLOTS };
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kept {
    const struct hpq_libpq *lib; /* whose PQconninfoParse parsed it */
    char *text;
    struct hpq_params params;
} kept[KEPT_SLOTS];

void hpq_parse_memo_lock(void) { pthread_mutex_lock(&kept_lock); }
void hpq_parse_memo_unlock(void) { pthread_mutex_unlock(&kept_lock); }

static bool kept_get(unsigned slot, const struct hpq_libpq *lib, const char *text,
                     struct hpq_params *out)
{
    bool hit = false;
    pthread_mutex_lock(&kept_lock);
    const struct kept *k = &kept[slot];
    if (k->text && k->lib == lib && strcmp(k->text, text) == 0)
        hit = hpq_params_copy(out, &k->params) == 0;
    pthread_mutex_unlock(&kept_lock);
    if (!hit)
        hpq_params_clear(out); /* a copy cut short by malloc */
    return hit;
}

static void kept_put(unsigned slot, const struct hpq_libpq *lib, const char *text,
                     const struct hpq_params *params)
{
    struct kept fresh = {lib, strdup(text), {0}};
    if (!fresh.text || hpq_params_copy(&fresh.params, params) != 0) {
        hpq_free_secret(fresh.text);
        hpq_params_clear(&fresh.params);
        return; /* out of memory: the next connection parses again */
    }
    pthread_mutex_lock(&kept_lock);
    struct kept old = kept[slot];
    kept[slot] = fresh;
    pthread_mutex_unlock(&kept_lock);
    hpq_free_secret(old.text);
    hpq_params_clear(&old.params);
}

int hpq_parse_memo_program(const struct hpq_libpq *lib, const char *conninfo,
                           struct hpq_params *out, char *err, size_t errlen)
{
    const char *text = conninfo ? conninfo : "";
    if (kept_get(KEPT_PROGRAM, lib, text, out))
        return 0;
    if (hpq_params_from_conninfo(lib, text, out, err, errlen) != 0)
        return -1;
    kept_put(KEPT_PROGRAM, lib, text, out);
    return 0;
}

int hpq_parse_memo_url(const struct hpq_libpq *lib, const char *url, struct hpq_params *out,
                       char *dropped, size_t droppedlen, char *err, size_t errlen)
{
    if (droppedlen)
        dropped[0] = '\0';
    if (kept_get(KEPT_URL, lib, url, out))
        return 0;
    if (hpq_url_parse_dropping(lib, url, out, dropped, droppedlen, err, errlen) != 0)
        return -1;
    kept_put(KEPT_URL, lib, url, out);
    return 0;
}
