/* JWT HS256 over libcrypto's HMAC and apr-util's base64. */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "apr_base64.h"
#include "apr_escape.h"
#include "apr_strings.h"
#include "pchat_jwt.h"

#define MAX_TOKEN 8192

const char *pchat_jwt_key(apr_pool_t *p, const char *secret)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    EVP_Digest(secret, strlen(secret), digest, &n, EVP_sha256(), NULL);
    return apr_pstrndup(p, apr_pescape_hex(p, digest, n, 0), 32);
}

/* base64url without padding, from standard base64. */
static char *b64url(apr_pool_t *p, const unsigned char *data, size_t len)
{
    char *out = apr_palloc(p, apr_base64_encode_len((int)len));
    char *c;

    apr_base64_encode_binary(out, data, (int)len);
    for (c = out; *c; c++) {
        if (*c == '+') {
            *c = '-';
        }
        else if (*c == '/') {
            *c = '_';
        }
        else if (*c == '=') {
            *c = '\0';
            break;
        }
    }
    return out;
}

/* Decodes base64url; NULL when it is not. */
static unsigned char *b64url_decode(apr_pool_t *p, const char *in, size_t n,
                                    size_t *len)
{
    char *std = apr_palloc(p, n + 4);
    size_t i;
    unsigned char *out;

    for (i = 0; i < n; i++) {
        char c = in[i];
        if (c == '-') {
            c = '+';
        }
        else if (c == '_') {
            c = '/';
        }
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                   || (c >= '0' && c <= '9'))) {
            return NULL;
        }
        std[i] = c;
    }
    while (i % 4) {
        std[i++] = '=';
    }
    std[i] = '\0';
    out = apr_palloc(p, apr_base64_decode_len(std) + 1);
    *len = (size_t)apr_base64_decode_binary(out, std);
    out[*len] = '\0';
    return out;
}

static char *signature(apr_pool_t *p, const char *key, const char *input)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    HMAC(EVP_sha256(), key, (int)strlen(key),
         (const unsigned char *)input, strlen(input), mac, &n);
    return b64url(p, mac, n);
}

const char *pchat_jwt_sign(apr_pool_t *p, const char *key, json_t *claims)
{
    /* Payload 3 (jose) signs with this protected header, and takes a token
     * without authVersion 1 as no token at all */
    static const char header[] =
        "{\"alg\":\"HS256\",\"authVersion\":1,\"typ\":\"JWT\"}";
    const char *body = pchat_json_pstr(p, claims);
    char *input = apr_pstrcat(
        p, b64url(p, (const unsigned char *)header, sizeof(header) - 1), ".",
        b64url(p, (const unsigned char *)body, strlen(body)), NULL);

    return apr_pstrcat(p, input, ".", signature(p, key, input), NULL);
}

/* The JSON object in one base64url part of the token. */
static json_t *decode_part(apr_pool_t *p, const char *part, size_t n)
{
    size_t len;
    unsigned char *raw = b64url_decode(p, part, n, &len);
    json_t *v = raw ? pchat_json_parse(p, (const char *)raw, len) : NULL;

    return json_is_object(v) ? v : NULL;
}

json_t *pchat_jwt_verify(apr_pool_t *p, const char *key, const char *token,
                         apr_int64_t now_s, const char **why)
{
    const char *dot1, *dot2;
    json_t *header, *claims, *exp;
    char *expected;
    size_t siglen;

    if (!token || strlen(token) > MAX_TOKEN || !(dot1 = strchr(token, '.'))
        || !(dot2 = strchr(dot1 + 1, '.')) || strchr(dot2 + 1, '.')) {
        *why = "malformed token";
        return NULL;
    }
    header = decode_part(p, token, dot1 - token);
    if (!header || !json_is_string(json_object_get(header, "alg"))
        || strcmp(json_string_value(json_object_get(header, "alg")),
                  "HS256")) {
        *why = "token algorithm is not HS256";
        return NULL;
    }
    if (!json_is_integer(json_object_get(header, "authVersion"))
        || json_integer_value(json_object_get(header, "authVersion")) != 1) {
        *why = "token header lacks authVersion 1";
        return NULL;
    }
    expected = signature(p, key, apr_pstrmemdup(p, token, dot2 - token));
    siglen = strlen(dot2 + 1);
    if (siglen != strlen(expected)
        || CRYPTO_memcmp(expected, dot2 + 1, siglen) != 0) {
        *why = "bad token signature";
        return NULL;
    }
    claims = decode_part(p, dot1 + 1, dot2 - dot1 - 1);
    exp = claims ? json_object_get(claims, "exp") : NULL;
    if (!claims || !json_is_integer(exp)) {
        *why = "token claims are malformed";
        return NULL;
    }
    if (json_integer_value(exp) <= now_s) {
        *why = "token expired";
        return NULL;
    }
    return claims;
}
