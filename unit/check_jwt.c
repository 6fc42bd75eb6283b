/* Login tokens (src/pchat_jwt.c): HS256 as Payload 3 signs them.  The
 * expected tokens below were made outside the module (Python's hmac and
 * base64 with the same key), so they check the format, not just that
 * sign and verify agree with each other. */
#include "unit.h"
#include "pchat_jwt.h"

#define SECRET "unit-test-secret-0123456789abcdef"
/* the first 32 hex digits of SHA-256(SECRET) */
#define KEY "ca51202ab7644116221f3d4ea13e8546"
#define HEADER "eyJhbGciOiJIUzI1NiIsImF1dGhWZXJzaW9uIjoxLCJ0eXAiOiJKV1QifQ"
#define EXP 2000000000
/* {"email":"alice@example.com","id":1,"collection":"users","exp":EXP} */
#define ALICE HEADER ".eyJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY29tIiwiaWQiOjEsImNv" \
    "bGxlY3Rpb24iOiJ1c2VycyIsImV4cCI6MjAwMDAwMDAwMH0." \
    "t8Ep60tRpvkhYJr4MGz-T7UVsOUo7DxlCh9k0c3MXq8"

static json_t *alice_claims(void)
{
    return pchat_json_own(unit_pool,
                          json_pack("{s:s,s:i,s:s,s:I}", "email",
                                    "alice@example.com", "id", 1,
                                    "collection", "users", "exp",
                                    (json_int_t)EXP));
}

/* The reason verification gives for token at now_s, NULL when it
 * verifies. */
static const char *refusal(const char *key, const char *token,
                           apr_int64_t now_s)
{
    const char *why = NULL;
    json_t *claims = pchat_jwt_verify(unit_pool, key, token, now_s, &why);

    ck_assert_msg(!claims == !!why, "claims and a reason for '%s'", token);
    return why;
}

START_TEST(key_is_payloads)
{
    ck_assert_str_eq(pchat_jwt_key(unit_pool, SECRET), KEY);
}
END_TEST

START_TEST(sign_writes_payloads_token)
{
    ck_assert_str_eq(pchat_jwt_sign(unit_pool, KEY, alice_claims()), ALICE);
}
END_TEST

START_TEST(verify_returns_the_claims)
{
    const char *why = NULL;
    json_t *claims = pchat_jwt_verify(unit_pool, KEY, ALICE, EXP - 1, &why);

    ck_assert_ptr_nonnull(claims);
    ck_assert(json_equal(claims, alice_claims()));
    ck_assert_ptr_null(why);
}
END_TEST

START_TEST(verify_refuses_a_bad_signature)
{
    char *token = apr_pstrdup(unit_pool, ALICE);
    size_t n = strlen(token);

    token[n - 1] = token[n - 1] == 'q' ? 'r' : 'q';
    ck_assert_str_eq(refusal(KEY, token, 0), "bad token signature");
    token[n - 1] = '\0';
    ck_assert_str_eq(refusal(KEY, token, 0), "bad token signature");
    ck_assert_str_eq(refusal(pchat_jwt_key(unit_pool, SECRET "x"), ALICE, 0),
                     "bad token signature");
    /* the signed part changed: another email, the same signature */
    ck_assert_str_eq(refusal(KEY, HEADER ".eyJlbWFpbCI6ImJvYkBleGFtcGxlLmNvb"
                                  "SIsImV4cCI6MjAwMDAwMDAwMH0."
                                  "t8Ep60tRpvkhYJr4MGz-T7UVsOUo7DxlCh9k0c3MX"
                                  "q8", 0),
                     "bad token signature");
}
END_TEST

START_TEST(verify_refuses_an_expired_token)
{
    ck_assert_ptr_null(refusal(KEY, ALICE, EXP - 1));
    ck_assert_str_eq(refusal(KEY, ALICE, EXP), "token expired");
    ck_assert_str_eq(refusal(KEY, ALICE, EXP + 3600), "token expired");
}
END_TEST

/* Payload 3 takes a token without authVersion 1 as no token */
START_TEST(verify_needs_auth_version_1)
{
    ck_assert_str_eq(
        refusal(KEY, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                     "eyJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY29tIiwiZXhwIjoyMDAwMD"
                     "AwMDAwfQ.vz_PCx8zC_MfdyeD44_MXZeuK8zWwQtibKH-1W_WKLw", 0),
        "token header lacks authVersion 1");
    ck_assert_str_eq(
        refusal(KEY, "eyJhbGciOiJIUzI1NiIsImF1dGhWZXJzaW9uIjoyLCJ0eXAiOiJKV1"
                     "QifQ.eyJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY29tIiwiZXhwIjoyMD"
                     "AwMDAwMDAwfQ.sXLrzRKQQZAXDrEjom6lYwel5sxQXPY_4LhrwEVq-ws",
                0),
        "token header lacks authVersion 1");
}
END_TEST

START_TEST(verify_refuses_another_algorithm)
{
    /* {"alg":"none","authVersion":1}.{"exp":2000000000}. */
    ck_assert_str_eq(refusal(KEY, "eyJhbGciOiJub25lIiwiYXV0aFZlcnNpb24iOjF9."
                                  "eyJleHAiOjIwMDAwMDAwMDB9.", 0),
                     "token algorithm is not HS256");
}
END_TEST

START_TEST(verify_needs_claims_with_an_exp)
{
    /* {"email":"alice@example.com"}, {"exp":"2000000000"}, [1,2] */
    ck_assert_str_eq(refusal(KEY, HEADER ".eyJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY2"
                                  "9tIn0.GUQQPEbgugwqaMECpST71uqhYHb1WEyprsP"
                                  "Cjcei6HQ", 0),
                     "token claims are malformed");
    ck_assert_str_eq(refusal(KEY, HEADER ".eyJleHAiOiIyMDAwMDAwMDAwIn0.ZojjD"
                                  "ZdVnPuLuQEV_SUEHWlH3IqRA5tCR4vYXHOJ2ok", 0),
                     "token claims are malformed");
    ck_assert_str_eq(refusal(KEY, HEADER ".WzEsMl0.4aqaMAYolaSvva9F1WVkOus5a"
                                  "RY9gPiZRRtx8zHfLVA", 0),
                     "token claims are malformed");
}
END_TEST

START_TEST(verify_refuses_malformed_tokens)
{
    char *huge = apr_palloc(unit_pool, 8194);

    ck_assert_str_eq(refusal(KEY, NULL, 0), "malformed token");
    ck_assert_str_eq(refusal(KEY, "", 0), "malformed token");
    ck_assert_str_eq(refusal(KEY, "abc.def", 0), "malformed token");
    ck_assert_str_eq(refusal(KEY, ALICE ".x", 0), "malformed token");
    memset(huge, 'a', 8193);
    memcpy(huge, ALICE, strlen(ALICE));
    huge[8193] = '\0';
    ck_assert_str_eq(refusal(KEY, huge, 0), "malformed token");
    /* not base64url, or not a JSON object, in the header */
    ck_assert_str_eq(refusal(KEY, "ey+J.e.x", 0),
                     "token algorithm is not HS256");
    ck_assert_str_eq(refusal(KEY, "WzEsMl0.e.x", 0),
                     "token algorithm is not HS256");
}
END_TEST

Suite *unit_jwt_suite(void)
{
    Suite *s = suite_create("jwt");
    TCase *tc = unit_tcase("hs256");

    tcase_add_test(tc, key_is_payloads);
    tcase_add_test(tc, sign_writes_payloads_token);
    tcase_add_test(tc, verify_returns_the_claims);
    tcase_add_test(tc, verify_refuses_a_bad_signature);
    tcase_add_test(tc, verify_refuses_an_expired_token);
    tcase_add_test(tc, verify_needs_auth_version_1);
    tcase_add_test(tc, verify_refuses_another_algorithm);
    tcase_add_test(tc, verify_needs_claims_with_an_exp);
    tcase_add_test(tc, verify_refuses_malformed_tokens);
    suite_add_tcase(s, tc);
    return s;
}
