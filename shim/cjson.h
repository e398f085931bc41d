/* cjson.h — libcjson, loaded on first use.
 *
 * Only a process that reads an API answer needs cJSON. Linked, it was mapped
 * into every process that inherits LD_PRELOAD and searched for every symbol
 * the program and its libraries bind at start-up (about 390,000 instructions
 * for psql). The shim dlopens libcjson.so.1 (RTLD_LOCAL) the first time it
 * parses an answer and calls it through this table. */
#ifndef HPQ_CJSON_H
#define HPQ_CJSON_H

#include <cjson/cJSON.h>

struct hpq_cjson {
    __typeof__(&cJSON_ParseWithLength) parse_with_length;
    __typeof__(&cJSON_GetObjectItemCaseSensitive) get_item;
    __typeof__(&cJSON_IsString) is_string;
    __typeof__(&cJSON_IsObject) is_object;
    __typeof__(&cJSON_IsNull) is_null;
    __typeof__(&cJSON_Delete) delete_item;
};

/* The loaded libcjson, or NULL (logged once). */
const struct hpq_cjson *hpq_cjson(void);

/* The load's lock, for the fork handlers (fork.c): a fork waits for a load in
 * progress (once.h). */
void hpq_cjson_lock(void);
void hpq_cjson_unlock(void);
void hpq_cjson_after_fork_child(void);

#endif
