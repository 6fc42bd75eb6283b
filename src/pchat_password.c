/* Password hashing through OpenSSL's libcrypto. */
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include "apr_strings.h"
#include "apr_escape.h"
#include "pchat_password.h"

#define SALT_BYTES 32
#define KEY_BYTES 32
#define ITERATIONS 600000
#define HASH_PREFIX "pbkdf2-sha256-v1:"
#define LEGACY_ITERATIONS 25000
#define LEGACY_KEY_BYTES 512

static int derive_hex(apr_pool_t *p, const char *password, const char *salt,
                      int iterations, size_t key_bytes, const char **out)
{
    unsigned char *key = apr_palloc(p, key_bytes);

    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password),
                          (const unsigned char *)salt, (int)strlen(salt),
                          iterations, EVP_sha256(), (int)key_bytes, key) != 1) {
        return -1;
    }
    *out = apr_pescape_hex(p, key, key_bytes, 0);
    return 0;
}

int pchat_password_hash(apr_pool_t *p, const char *password,
                        const char **salt, const char **hash)
{
    unsigned char random[SALT_BYTES];
    const char *salt_hex, *key_hex;

    if (RAND_bytes(random, sizeof(random)) != 1) {
        return -1;
    }
    salt_hex = apr_pescape_hex(p, random, sizeof(random), 0);
    if (derive_hex(p, password, salt_hex, ITERATIONS, KEY_BYTES, &key_hex)) {
        return -1;
    }
    *salt = salt_hex;
    *hash = apr_pstrcat(p, HASH_PREFIX, key_hex, NULL);
    return 0;
}

int pchat_password_verify(apr_pool_t *p, const char *password,
                          const char *salt, const char *hash)
{
    size_t prefix = strlen(HASH_PREFIX);
    int current;
    const char *computed;

    if (!password || !salt || !hash) {
        return 0;
    }
    current = !strncmp(hash, HASH_PREFIX, prefix);
    if (current) {
        hash += prefix;
    }
    if (derive_hex(p, password, salt, current ? ITERATIONS : LEGACY_ITERATIONS,
                   current ? KEY_BYTES : LEGACY_KEY_BYTES, &computed)) {
        return 0;
    }
    return strlen(computed) == strlen(hash)
           && CRYPTO_memcmp(computed, hash, strlen(hash)) == 0;
}

void pchat_password_spend(apr_pool_t *p, const char *password)
{
    /* the length of a real salt, so the work is the same */
    static const char salt[SALT_BYTES * 2 + 1] =
        "00000000000000000000000000000000"
        "00000000000000000000000000000000";
    const char *ignored;

    derive_hex(p, password ? password : "", salt, ITERATIONS, KEY_BYTES,
               &ignored);
}
