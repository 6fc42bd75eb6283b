/* Login tokens from Authorization headers and cookies: verification with
 * a fixed key must refuse anything it did not sign, and a signed token of
 * claims made from the input must verify back to the same claims. */
#include "fuzz_common.h"
#include "pchat_jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *token = fuzz_text(&p, data, size);
    const char *key = pchat_jwt_key(p, "fuzzing-secret-0123456789abcdef0123");
    const char *why = NULL;
    json_t *claims = pchat_jwt_verify(p, key, token, 1000, &why);
    json_t *mine, *back;
    const char *signed_token;

    if (!claims && !why) {
        abort();           /* a refusal must say why */
    }                      /* (claims belong to the pool) */
    /* claims as we sign them: text up to a NUL (emails have none) */
    mine = json_pack("{s:s,s:I,s:I}", "email", token, "iat", (json_int_t)1,
                     "exp", (json_int_t)1 << 40);
    if (mine) {            /* NULL when the input is not UTF-8 */
        signed_token = pchat_jwt_sign(p, key, mine);
        back = pchat_jwt_verify(p, key, signed_token, 1000, &why);
        if (!back || !json_equal(back, mine)) {
            abort();       /* our own token must verify to its claims */
        }
        json_decref(mine);
    }
    apr_pool_destroy(p);
    return 0;
}
