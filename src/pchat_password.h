/* Passwords hashed as current Payload stores them: PBKDF2-HMAC-SHA256 over
 * the password, salted with the hex text of 32 random bytes. */
#ifndef PCHAT_PASSWORD_H
#define PCHAT_PASSWORD_H

#include "apr_pools.h"

/* Fills *salt (64 hex chars) and *hash ("pbkdf2-sha256-v1:" + hex key);
 * returns 0, or -1 when libcrypto fails. */
int pchat_password_hash(apr_pool_t *p, const char *password,
                        const char **salt, const char **hash);

/* True when password matches the stored hash and salt, in the current
 * format or Payload's legacy one (512-byte key, 25,000 iterations). */
int pchat_password_verify(apr_pool_t *p, const char *password,
                          const char *salt, const char *hash);

/* Spends the time of a verification in the current format and matches
 * nothing: a login for an unknown email takes as long as a wrong
 * password. */
void pchat_password_spend(apr_pool_t *p, const char *password);

#endif
