/* openssl.c — see openssl.h. */
#include "openssl.h"

#include <dlfcn.h>
#include <stddef.h>
#include <time.h>

#include "libc.h"
#include "once.h"

static struct hpq_once setup_once = HPQ_ONCE_INIT;

/* NAME in the first of SONAMES that is already loaded (never load one: the
 * shim sets up the OpenSSL that libpq and libcurl brought, or none). */
static void *loaded_function(const char *const sonames[2], const char *name)
{
    for (unsigned i = 0; i < 2; i++) {
        void *lib = hpq_libc_dlopen()(sonames[i], RTLD_LAZY | RTLD_NOLOAD);
        void *fn = lib ? hpq_libc_dlsym()(lib, name) : NULL;
        if (fn)
            return fn;
    }
    return NULL;
}

static const char *const crypto[2] = {"libcrypto.so.3", "libcrypto.so.1.1"};
static const char *const ssl[2] = {"libssl.so.3", "libssl.so.1.1"};

/* What a client's first TLS context does: OpenSSL's initialisation and
 * configuration file, the random generator (its ticket keys), the ciphers
 * and digests. The context itself is thrown away. */
static void first_context(void)
{
    const void *(*client_method)(void) =
        (const void *(*)(void))loaded_function(ssl, "TLS_client_method");
    void *(*ctx_new)(const void *) = (void *(*)(const void *))loaded_function(ssl, "SSL_CTX_new");
    void (*ctx_free)(void *) = (void (*)(void *))loaded_function(ssl, "SSL_CTX_free");
    if (client_method && ctx_new && ctx_free)
        ctx_free(ctx_new(client_method()));
}

/* What reading the server's certificate does first: collect the key decoders
 * (OpenSSL 3; a child hung in OSSL_DECODER_do_all_provided), and ask glibc
 * the time, which reads the time zone under a lock a child does not get back
 * (a child hung in the certificate check's ASN1_TIME_adj). */
static void first_certificate(void)
{
    void *(*decoder_new)(void **, const char *, const char *, const char *, int, void *,
                         const char *) =
        (void *(*)(void **, const char *, const char *, const char *, int, void *,
                   const char *))loaded_function(crypto, "OSSL_DECODER_CTX_new_for_pkey");
    void (*decoder_free)(void *) = (void (*)(void *))loaded_function(crypto, "OSSL_DECODER_CTX_free");
    void *pkey = NULL;
    if (decoder_new && decoder_free)
        decoder_free(decoder_new(&pkey, NULL, NULL, NULL, 0, NULL, NULL));
    time_t now = time(NULL);
    struct tm tm;
    (void)gmtime_r(&now, &tm);
}

static void setup(void)
{
    first_context();
    first_certificate();
}

void hpq_openssl_setup(void) { (void)hpq_once(&setup_once, setup); }

void hpq_openssl_lock(void) { hpq_once_fork_prepare(&setup_once); }
void hpq_openssl_unlock(void) { hpq_once_fork_parent(&setup_once); }
void hpq_openssl_after_fork_child(void) { hpq_once_fork_child(&setup_once); }
