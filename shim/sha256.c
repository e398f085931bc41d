/* sha256.c — see sha256.h. */
#include "sha256.h"

#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include "libc.h"
#include "log.h"
#include "once.h"

#define HPQ_STR_(x) #x
#define HPQ_STR(x) HPQ_STR_(x)
/* The libcrypto of the headers the shim was built with: "libcrypto.so.3". */
#define HPQ_CRYPTO_SONAME "libcrypto.so." HPQ_STR(OPENSSL_SHLIB_VERSION)

/* The functions used, typed by OpenSSL's own prototypes. */
static struct {
    __typeof__(&EVP_MD_fetch) md_fetch;
    __typeof__(&EVP_Digest) digest;
    __typeof__(&ERR_set_mark) set_mark;
    __typeof__(&ERR_pop_to_mark) pop_to_mark;
    __typeof__(&ERR_peek_last_error) peek_last_error;
    __typeof__(&ERR_reason_error_string) reason_string;
} crypto;
static EVP_MD *sha256_md; /* fetched once, kept for the process's life */
/* Loading takes the loader's lock and OpenSSL's: a fork waits for it (once.h). */
static struct hpq_once load_once = HPQ_ONCE_INIT;

static void say_unavailable(const char *why)
{
    static int said;
    if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
        hpq_log(HPQ_WARN, "no SHA-256 from %s (%s): the cache shared between processes is off "
                          "in this process (the in-process cache still works)",
                HPQ_CRYPTO_SONAME, why);
}

/* The reason of the newest error on the thread's OpenSSL queue (ours). */
static const char *last_reason(void)
{
    const char *r = crypto.reason_string(crypto.peek_last_error());
    return r ? r : "unknown error";
}

#define BIND(field, name)                                                                   \
    (crypto.field = (__typeof__(crypto.field))hpq_libc_dlsym()(h, (name)), crypto.field != NULL)

static bool bind_all(void *h)
{
    return BIND(md_fetch, "EVP_MD_fetch") && BIND(digest, "EVP_Digest") &&
           BIND(set_mark, "ERR_set_mark") && BIND(pop_to_mark, "ERR_pop_to_mark") &&
           BIND(peek_last_error, "ERR_peek_last_error") &&
           BIND(reason_string, "ERR_reason_error_string");
}

static void load(void)
{
    /* RTLD_LOCAL: nothing of it becomes visible to the program that was not. */
    void *h = hpq_libc_dlopen()(HPQ_CRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        say_unavailable(why ? why : "not found");
        return;
    }
    if (!bind_all(h)) {
        say_unavailable("it lacks a function of OpenSSL 3");
        return;
    }
    /* Errors of ours are popped (up to the program's own newest, if any), so
     * that libpq never reads them as its own. */
    crypto.set_mark();
    sha256_md = crypto.md_fetch(NULL, "SHA256", NULL);
    if (!sha256_md)
        say_unavailable(last_reason());
    crypto.pop_to_mark();
}

bool hpq_sha256_hex(const void *data, size_t len, char out[HPQ_SHA256_HEX])
{
    static const char digits[] = "0123456789abcdef";
    out[0] = '\0';
    if (!hpq_once(&load_once, load) || !sha256_md)
        return false;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    crypto.set_mark();
    bool ok = crypto.digest(data, len, md, &n, sha256_md, NULL) == 1 && n == 32;
    if (!ok)
        say_unavailable(last_reason());
    crypto.pop_to_mark();
    for (unsigned i = 0; ok && i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[ok ? 2 * n : 0] = '\0';
    return ok;
}

void hpq_sha256_lock(void) { hpq_once_fork_prepare(&load_once); }
void hpq_sha256_unlock(void) { hpq_once_fork_parent(&load_once); }
void hpq_sha256_after_fork_child(void) { hpq_once_fork_child(&load_once); }
