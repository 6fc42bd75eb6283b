/* Password hashing through OpenSSL's libcrypto. */
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "apr_strings.h"
#include "pchat_password.h"

#define SALT_BYTES 32
#define KEY_BYTES 32
#define ITERATIONS 600000
#define HASH_PREFIX "pbkdf2-sha256-v1:"

static char *to_hex(apr_pool_t *p, const unsigned char *bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *out = apr_palloc(p, n * 2 + 1);
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}

int pchat_password_hash(apr_pool_t *p, const char *password,
                        const char **salt, const char **hash)
{
    unsigned char random[SALT_BYTES], key[KEY_BYTES];
    char *salt_hex;

    if (RAND_bytes(random, sizeof(random)) != 1) {
        return -1;
    }
    salt_hex = to_hex(p, random, sizeof(random));
    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password),
                          (const unsigned char *)salt_hex,
                          (int)strlen(salt_hex), ITERATIONS, EVP_sha256(),
                          sizeof(key), key) != 1) {
        return -1;
    }
    *salt = salt_hex;
    *hash = apr_pstrcat(p, HASH_PREFIX, to_hex(p, key, sizeof(key)), NULL);
    return 0;
}
