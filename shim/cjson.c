/* cjson.c — see cjson.h. */
#include "cjson.h"

#include <dlfcn.h>
#include <stdbool.h>

#include "libc.h"
#include "log.h"
#include "once.h"

#define HPQ_CJSON_SONAME "libcjson.so.1"

static struct hpq_cjson table;
static const struct hpq_cjson *loaded;
static struct hpq_once load_once = HPQ_ONCE_INIT; /* not pthread_once: see once.h */

#define BIND(field, name)                                                                   \
    (table.field = (__typeof__(table.field))hpq_libc_dlsym()(h, (name)), table.field != NULL)

static void load(void)
{
    /* RTLD_LOCAL: cJSON's symbols must not become visible to the program. */
    void *h = hpq_libc_dlopen()(HPQ_CJSON_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        hpq_log(HPQ_ERROR, "cannot load %s (install libcjson1): %s", HPQ_CJSON_SONAME, dlerror());
        return;
    }
    if (BIND(parse_with_length, "cJSON_ParseWithLength") &&
        BIND(get_item, "cJSON_GetObjectItemCaseSensitive") && BIND(is_string, "cJSON_IsString") &&
        BIND(is_object, "cJSON_IsObject") && BIND(is_null, "cJSON_IsNull") &&
        BIND(delete_item, "cJSON_Delete"))
        loaded = &table; /* the handle is never closed: cJSON stays for the process's life */
    else
        hpq_log(HPQ_ERROR, "%s lacks a function the shim needs (cJSON 1.7.13 or later)",
                HPQ_CJSON_SONAME);
}

const struct hpq_cjson *hpq_cjson(void)
{
    bool ok = hpq_once_loaded(&load_once, load, HPQ_CJSON_SONAME, "it reads no API answer");
    return ok ? loaded : NULL;
}

void hpq_cjson_lock(void) { hpq_once_fork_prepare(&load_once); }
void hpq_cjson_unlock(void) { hpq_once_fork_parent(&load_once); }
void hpq_cjson_after_fork_child(void) { hpq_once_fork_child(&load_once); }
