/* openssl.h — OpenSSL's process-wide set-up, before the first TLS handshake.
 *
 * OpenSSL 3 sets up its random generator and fetches each cipher and digest
 * the first time a TLS context needs them, each under a process-wide lock
 * that it does not protect across fork(): a child forked while another thread
 * is in the middle of that waits for a lock nobody will release (measured:
 * bare libpq, 10 of 60 children hang in SSL_CTX_new's EVP_CIPHER_fetch when
 * forked 0-50 ms after another thread's first connection started). Every
 * connection the shim makes uses SSL, so before its first one (and before
 * libcurl's first handshake) the shim does that set-up itself, once, as a
 * piece of work a fork waits for (once.h). Afterwards the same locks are held
 * only for short cache lookups. */
#ifndef HPQ_OPENSSL_H
#define HPQ_OPENSSL_H

/* The set-up, done once (a no-op when libssl is not loaded in the process). */
void hpq_openssl_setup(void);

/* The set-up's lock, for the fork handlers (fork.c). */
void hpq_openssl_lock(void);
void hpq_openssl_unlock(void);
void hpq_openssl_after_fork_child(void);

#endif
