/* HS256 JSON Web Tokens as Payload issues them. */
#ifndef PCHAT_JWT_H
#define PCHAT_JWT_H

#include "apr_pools.h"
#include "pchat_json.h"

/* Payload signs with the first 32 hex characters of SHA-256(secret). */
const char *pchat_jwt_key(apr_pool_t *p, const char *secret);

/* header.payload.signature for the claims (the header is fixed). */
const char *pchat_jwt_sign(apr_pool_t *p, const char *key, json_t *claims);

/* Verifies signature, algorithm and expiry; returns the claims (owned by
 * p) or NULL with *why set to a reason for the log. */
json_t *pchat_jwt_verify(apr_pool_t *p, const char *key, const char *token,
                         apr_int64_t now_s, const char **why);

#endif
