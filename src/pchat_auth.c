/* Login, logout, me, refresh and first-register, with sessions in the
 * users_sessions table and HS256 tokens as Payload signs them. */
#include "apr_escape.h"
#include "apr_lib.h"
#include "apr_thread_cond.h"
#include <openssl/rand.h>
#include "pchat_auth.h"
#include "pchat_shm.h"
#include "pchat_metrics.h"
#include "pchat_config.h"
#include "pchat_docs.h"
#include "pchat_jwt.h"
#include "pchat_password.h"
#include "pchat_time.h"
#include "pchat_validate.h"

#define COOKIE "payload-token"
#define MSG_UNAUTHORIZED \
    "Unauthorized, you must be logged in to make this request."
#define MSG_BAD_LOGIN "The email or password provided is incorrect."
#define MSG_LOCKED \
    "This user is locked due to having too many failed login attempts."
#define HASH_SLOTS 2
#define HASH_WAIT apr_time_from_sec(10)

/* ---- the hashing limiter ---------------------------------------------- */

static apr_thread_mutex_t *hash_mu;
static apr_thread_cond_t *hash_cv;
static int hash_busy;

void pchat_auth_child_init(apr_pool_t *pchild)
{
    apr_thread_mutex_create(&hash_mu, APR_THREAD_MUTEX_DEFAULT, pchild);
    apr_thread_cond_create(&hash_cv, pchild);
}

int pchat_auth_hash_slot_acquire(void)
{
    apr_time_t deadline = apr_time_now() + HASH_WAIT;
    int ok;

    if (!hash_mu) {
        return 0;
    }
    apr_thread_mutex_lock(hash_mu);
    while (hash_busy >= HASH_SLOTS && apr_time_now() < deadline) {
        apr_thread_cond_timedwait(hash_cv, hash_mu, deadline - apr_time_now());
    }
    ok = hash_busy < HASH_SLOTS;
    hash_busy += ok;
    apr_thread_mutex_unlock(hash_mu);
    return ok ? 0 : -1;
}

void pchat_auth_hash_slot_release(void)
{
    if (!hash_mu) {
        return;
    }
    apr_thread_mutex_lock(hash_mu);
    hash_busy--;
    apr_thread_cond_signal(hash_cv);
    apr_thread_mutex_unlock(hash_mu);
}

/* ---- credentials --------------------------------------------------------- */

static pchat_error *unauthorized(apr_pool_t *p, const char *message)
{
    return pchat_error_make(p, HTTP_UNAUTHORIZED, NULL, NULL, message);
}

/* The token of "Authorization: JWT x" or "Authorization: Bearer x", or
 * NULL. */
static const char *header_token(request_rec *r)
{
    const char *auth = apr_table_get(r->headers_in, "Authorization");

    if (auth && !strncasecmp(auth, "JWT ", 4)) {
        return auth + 4;
    }
    if (auth && !strncasecmp(auth, "Bearer ", 7)) {
        return auth + 7;
    }
    return NULL;
}

/* Adds the values of the payload-token cookies in one Cookie header. */
static int cookie_tokens(void *arr, const char *key, const char *line)
{
    apr_array_header_t *tokens = arr;
    char *copy = apr_pstrdup(tokens->pool, line), *state = NULL, *pair;
    size_t n = strlen(COOKIE);

    (void)key;
    for (pair = apr_strtok(copy, ";", &state); pair;
         pair = apr_strtok(NULL, ";", &state)) {
        while (apr_isspace(*pair)) {
            pair++;
        }
        if (!strncmp(pair, COOKIE "=", n + 1) && pair[n + 1]) {
            apr_collapse_spaces(pair + n + 1, pair + n + 1);
            APR_ARRAY_PUSH(tokens, const char *) = pair + n + 1;
        }
    }
    return 1;
}

/* The tokens presented: the Authorization header's, or else every
 * payload-token cookie in the order sent (a browser sends two when cookies
 * of two paths or domains apply; util_cookies would log an error for each
 * such request). */
static apr_array_header_t *presented_tokens(request_rec *r, int *from_cookie)
{
    apr_array_header_t *tokens = apr_array_make(r->pool, 1,
                                                sizeof(const char *));
    const char *header = header_token(r);

    *from_cookie = !header;
    if (header) {
        APR_ARRAY_PUSH(tokens, const char *) = header;
    }
    else {
        apr_table_do(cookie_tokens, tokens, r->headers_in, "Cookie", NULL);
    }
    return tokens;
}

/* scheme://host[:port] of a URL, or NULL. */
static const char *origin_of(apr_pool_t *p, const char *url)
{
    const char *host = url ? strstr(url, "://") : NULL;
    const char *end;

    if (!host) {
        return NULL;
    }
    end = strchr(host + 3, '/');
    return end ? apr_pstrmemdup(p, url, end - url) : url;
}

/* The origin of the page that sent r (its Origin header, else its
 * Referer's), or NULL when it names none. */
static const char *page_origin(request_rec *r)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");

    return origin ? origin
                  : origin_of(r->pool, apr_table_get(r->headers_in, "Referer"));
}

/* This site (scheme and Host) or an origin of PayloadChatCORSOrigins. */
static int trusted_origin(request_rec *r, const char *origin)
{
    const char *host = apr_table_get(r->headers_in, "Host");

    return (host && !strcasecmp(origin, apr_pstrcat(
               r->pool, ap_http_scheme(r), "://", host, NULL)))
           || pchat_conf_origin_allowed(r->server, origin);
}

static pchat_error *cross_site(request_rec *r, const char *origin,
                               const char *what)
{
    pchat_metrics_count(PCHAT_M_CSRF_REFUSED, 1);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PCHAT_LOGNO(00601)
                  "refused %s %s from origin %s", what, r->method,
                  origin ? origin : "(none)");
    return pchat_forbidden(r->pool);
}

pchat_error *pchat_auth_csrf(pchat_req *q)
{
    request_rec *r = q->r;
    const char *origin;

    if (!q->user || !q->user->from_cookie || r->method_number == M_GET
        || r->method_number == M_OPTIONS) {
        return NULL;
    }
    /* A browser names the page of every POST, PATCH and DELETE (Origin)
     * unless a policy hides it; without one it could be any site's. */
    origin = page_origin(r);
    return origin && trusted_origin(r, origin)
           ? NULL : cross_site(r, origin, "a cookie-authenticated");
}

pchat_error *pchat_auth_csrf_login(request_rec *r)
{
    const char *origin = page_origin(r);

    return !origin || trusted_origin(r, origin)
           ? NULL : cross_site(r, origin, "a cross-site login");
}

static const char *signing_key(request_rec *r)
{
    return pchat_jwt_key(r->pool, pchat_conf_secret(r->server));
}

/* The user row of id with its doc, when its session sid is alive. */
static pchat_user *session_user(pchat_conn *c, request_rec *r, apr_int64_t id,
                                const char *sid, int *rv)
{
    pchat_sql *sql = pchat_sql_make(r->pool, "SELECT user_id FROM "
                                    "users_sessions WHERE id = ");
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    pchat_user *u = NULL;
    int alive = 0;

    pchat_sql_str(sql, sid);
    pchat_sql_add(sql, " AND user_id = ");
    pchat_sql_int(sql, id);
    pchat_sql_add(sql, " AND expires_at > ");
    pchat_sql_int(sql, pchat_now_ms());
    *rv = pchat_db_select(c, r->pool, sql, &res);
    while (!*rv && pchat_db_next_row(c, r->pool, res, &row)) {
        alive = 1;
    }
    if (alive) {
        json_t *doc = pchat_docs_by_id(c, r->pool, &pchat_users, id, 0, rv);
        if (doc) {
            u = apr_pcalloc(r->pool, sizeof(*u));
            u->id = id;
            u->doc = doc;
            u->email = json_string_value(json_object_get(doc, "email"));
            u->sid = sid;
        }
    }
    return u;
}

/* The claims of the first of tokens that verifies (*token gets it), or
 * NULL with *why saying what was wrong with the first. */
static json_t *verified_claims(request_rec *r, apr_array_header_t *tokens,
                               const char **token, const char **why)
{
    int i;

    for (i = 0; i < tokens->nelts; i++) {
        const char *t = APR_ARRAY_IDX(tokens, i, const char *), *w = NULL;
        json_t *claims = pchat_jwt_verify(r->pool, signing_key(r), t,
                                          apr_time_sec(apr_time_now()), &w);
        if (json_is_integer(json_object_get(claims, "id"))
            && json_is_string(json_object_get(claims, "sid"))) {
            *token = t;
            return claims;
        }
        if (!i) {
            *why = w ? w : "no id or sid claim";
        }
    }
    return NULL;
}

pchat_error *pchat_auth_resolve(pchat_req *q, pchat_user **user)
{
    request_rec *r = q->r;
    int from_cookie;
    apr_array_header_t *tokens = presented_tokens(r, &from_cookie);
    const char *token = NULL, *why = NULL;
    json_t *claims;
    pchat_conn *c;
    int rv = 0;

    *user = NULL;
    if (!tokens->nelts) {
        return NULL;
    }
    claims = verified_claims(r, tokens, &token, &why);
    if (!claims) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "token refused: %s",
                      why);
        return unauthorized(r->pool, MSG_UNAUTHORIZED);
    }
    if (!(c = pchat_conn_acquire(r))) {
        return pchat_unavailable(r, 1, PCHAT_MSG_NO_DATABASE);
    }
    *user = session_user(c, r, json_integer_value(json_object_get(claims,
                                                                  "id")),
                         json_string_value(json_object_get(claims, "sid")),
                         &rv);
    pchat_conn_release(c);
    if (!*user) {
        return rv ? pchat_error_make(r->pool, HTTP_INTERNAL_SERVER_ERROR,
                                     NULL, NULL, "Something went wrong.")
                  : unauthorized(r->pool, MSG_UNAUTHORIZED);
    }
    (*user)->token = token;
    (*user)->from_cookie = from_cookie;
    (*user)->exp = json_integer_value(json_object_get(claims, "exp"));
    return NULL;
}

/* ---- tokens and cookies --------------------------------------------------- */

static void issue_token(request_rec *r, pchat_user *u)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    json_t *claims;

    u->exp = now + pchat_conf_token_s(r->server);
    claims = pchat_json_own(r->pool, json_pack(
        "{s:I,s:s,s:s,s:s,s:I,s:I}", "id", (json_int_t)u->id,
        "collection", "users", "email", u->email, "sid", u->sid,
        "iat", (json_int_t)now, "exp", (json_int_t)u->exp));
    u->token = pchat_jwt_sign(r->pool, signing_key(r), claims);
}

static int is_tls(request_rec *r)
{
    return apr_table_get(r->subprocess_env, "HTTPS") != NULL
           || !strcasecmp(ap_http_scheme(r), "https");
}

static void set_cookie(request_rec *r, const char *value, apr_int64_t exp)
{
    char date[APR_RFC822_DATE_LEN];

    apr_rfc822_date(date, apr_time_from_sec(exp));
    apr_table_addn(r->err_headers_out, "Set-Cookie", apr_psprintf(
        r->pool, COOKIE "=%s; Path=/; Expires=%s; HttpOnly; SameSite=Lax%s",
        value, date, is_tls(r) ? "; Secure" : ""));
}

#define STRATEGY "local-jwt"

static json_t *user_json(pchat_user *u)
{
    json_t *doc = json_deep_copy(u->doc);

    json_object_set_new(doc, "collection", json_string("users"));
    json_object_set_new(doc, "_strategy", json_string(STRATEGY));
    return doc;
}

/* The answer of login and first-register, keys in Payload's order. */
static int send_session(pchat_req *q, pchat_user *u, const char *message)
{
    int first = !strcmp(message, PCHAT_MSG_REGISTERED);

    set_cookie(q->r, u->token, u->exp);
    return pchat_send_json(q->r, HTTP_OK, first
        ? json_pack("{s:I,s:s,s:s,s:o}", "exp", (json_int_t)u->exp,
                    "message", message, "token", u->token,
                    "user", user_json(u))
        : json_pack("{s:s,s:I,s:s,s:o}", "message", message,
                    "exp", (json_int_t)u->exp, "token", u->token,
                    "user", user_json(u)));
}

/* ---- sessions --------------------------------------------------------- */

static int create_session(pchat_conn *c, request_rec *r, pchat_user *u)
{
    unsigned char random[16];
    pchat_sql *sql;
    apr_int64_t now = pchat_now_ms();
    int nrows;

    if (apr_generate_random_bytes(random, sizeof(random)) != APR_SUCCESS) {
        return -1;
    }
    /* a version 4 UUID, as Payload names its sessions */
    random[6] = (random[6] & 0x0f) | 0x40;
    random[8] = (random[8] & 0x3f) | 0x80;
    u->sid = apr_psprintf(r->pool, "%s-%s-%s-%s-%s",
                          apr_pescape_hex(r->pool, random, 4, 0),
                          apr_pescape_hex(r->pool, random + 4, 2, 0),
                          apr_pescape_hex(r->pool, random + 6, 2, 0),
                          apr_pescape_hex(r->pool, random + 8, 2, 0),
                          apr_pescape_hex(r->pool, random + 10, 6, 0));
    sql = pchat_sql_make(r->pool, "INSERT INTO users_sessions (id, user_id,"
                         " created_at, expires_at) VALUES (");
    pchat_sql_str(sql, u->sid);
    pchat_sql_add(sql, ", ");
    pchat_sql_int(sql, u->id);
    pchat_sql_add(sql, ", ");
    pchat_sql_int(sql, now);
    pchat_sql_add(sql, ", ");
    pchat_sql_int(sql, now + 1000 * (apr_int64_t)pchat_conf_token_s(r->server));
    pchat_sql_add(sql, ")");
    return pchat_db_exec(c, r->pool, sql, &nrows);
}

static int session_query(pchat_conn *c, request_rec *r, const char *prefix,
                         pchat_user *u, apr_int64_t expires)
{
    pchat_sql *sql = pchat_sql_make(r->pool, prefix);
    int nrows;

    if (expires) {
        pchat_sql_int(sql, expires);
        pchat_sql_add(sql, " WHERE id = ");
    }
    pchat_sql_str(sql, u->sid);
    return pchat_db_exec(c, r->pool, sql, &nrows);
}

/* ---- login ------------------------------------------------------------ */

typedef struct {
    apr_int64_t id;
    const char *hash;
    const char *salt;
    apr_int64_t lock_until;
} login_row;

static int find_login(pchat_conn *c, request_rec *r, const char *email,
                      login_row *out, int *found)
{
    pchat_sql *sql = pchat_sql_make(r->pool, "SELECT id, hash, salt, "
                                    "lock_until FROM users "
                                    "WHERE email = ");
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    int rv;

    pchat_sql_str(sql, email);
    rv = pchat_db_select(c, r->pool, sql, &res);
    *found = 0;
    while (!rv && pchat_db_next_row(c, r->pool, res, &row)) {
        const char *lock = pchat_db_entry(c, row, 3);
        out->id = apr_atoi64(pchat_db_entry(c, row, 0));
        /* copies: pgsql frees the values once the last row is read */
        out->hash = pchat_db_entry(c, row, 1);
        out->salt = pchat_db_entry(c, row, 2);
        out->hash = out->hash ? apr_pstrdup(r->pool, out->hash) : NULL;
        out->salt = out->salt ? apr_pstrdup(r->pool, out->salt) : NULL;
        out->lock_until = lock ? apr_atoi64(lock) : 0;
        *found = 1;
    }
    return rv;
}

/* "(the count after one more failure)": an expired lock starts again. */
static void next_attempts(pchat_sql *sql, apr_int64_t now)
{
    pchat_sql_add(sql, "(CASE WHEN lock_until <= ");
    pchat_sql_int(sql, now);
    pchat_sql_add(sql, " THEN 1 ELSE login_attempts + 1 END)");
}

/* Counts a failed login in the database in one statement, so that failures
 * at the same moment all count (each sees the others' counts); the one that
 * reaches the limit, and each after it, locks the user. */
static int count_failure(pchat_conn *c, request_rec *r, apr_int64_t id)
{
    int max = pchat_conf_max_login_attempts(r->server), nrows;
    apr_int64_t now = pchat_now_ms();
    pchat_sql *sql = pchat_sql_make(r->pool, "UPDATE users SET "
                                    "login_attempts = ");

    next_attempts(sql, now);
    pchat_sql_add(sql, ", lock_until = CASE");
    if (max > 0) {
        pchat_sql_add(sql, " WHEN ");
        next_attempts(sql, now);
        pchat_sql_add(sql, " >= ");
        pchat_sql_int(sql, max);
        pchat_sql_add(sql, " THEN ");
        pchat_sql_int(sql, now + 1000 * (apr_int64_t)pchat_conf_lock_s(
                                             r->server));
    }
    pchat_sql_add(sql, " WHEN lock_until <= ");
    pchat_sql_int(sql, now);
    pchat_sql_add(sql, " THEN NULL ELSE lock_until END WHERE id = ");
    pchat_sql_int(sql, id);
    return pchat_db_exec(c, r->pool, sql, &nrows);
}

static int reset_failures(pchat_conn *c, request_rec *r, apr_int64_t id)
{
    pchat_sql *sql = pchat_sql_make(r->pool, "UPDATE users SET "
                                    "login_attempts = 0, lock_until = NULL "
                                    "WHERE id = ");
    int nrows;

    pchat_sql_int(sql, id);
    return pchat_db_exec(c, r->pool, sql, &nrows);
}

/* email and password from a login body, or a ValidationError. */
static pchat_error *login_fields(request_rec *r, json_t *body,
                                 const char **email, const char **password)
{
    json_t *errors = pchat_json_own(r->pool, json_array());
    const char *e = json_string_value(json_object_get(body, "email"));

    *password = json_string_value(json_object_get(body, "password"));
    *email = e ? apr_pstrdup(r->pool, e) : NULL;
    if (*email) {
        char *c;
        for (c = (char *)*email; *c; c++) {
            *c = apr_tolower(*c);
        }
    }
    if (!*email || !**email) {
        pchat_field_error(r->pool, errors, &pchat_login_email, "email",
                          "This field is required.");
    }
    if (!*password || !**password) {
        pchat_field_error(r->pool, errors, pchat_field_find(&pchat_users,
                          "password"), "password", "This field is required.");
    }
    return json_array_size(errors)
           ? pchat_validation_error(r->pool, &pchat_users, errors) : NULL;
}

/* Verifies the password with a hashing slot held; 1 when it matches, 0
 * when not, -1 when the server is too busy to check.  Without a user (u
 * NULL) or a stored hash it spends the same time and fails, so a wrong
 * password takes as long whether the account exists or not. */
static int check_password(request_rec *r, const char *password,
                          const login_row *u)
{
    int ok = 0;

    if (pchat_auth_hash_slot_acquire()) {
        return -1;
    }
    if (u && u->hash && u->salt) {
        ok = pchat_password_verify(r->pool, password, u->salt, u->hash);
    }
    else {
        pchat_password_spend(r->pool, password);
    }
    pchat_auth_hash_slot_release();
    return ok;
}

pchat_error *pchat_auth_hash_allowed(request_rec *r)
{
    if (pchat_shm_client_login_allowed(
            apr_psprintf(r->pool, "%pp|%s", (void *)r->server,
                         r->useragent_ip),
            pchat_conf_max_logins_per_minute(r->server))) {
        return NULL;
    }
    pchat_metrics_login(r, PCHAT_LOGIN_THROTTLED, NULL);
    apr_table_setn(r->err_headers_out, "Retry-After", "60");
    return pchat_error_make(r->pool, HTTP_TOO_MANY_REQUESTS, NULL, NULL,
                            "Too many login attempts from this address; "
                            "try again in a minute.");
}

int pchat_auth_busy(request_rec *r)
{
    return pchat_send_unavailable(r, 1, "Too many logins at once; try again.");
}

int pchat_auth_start_session(pchat_req *q, pchat_conn *c, apr_int64_t id,
                             const char *message)
{
    request_rec *r = q->r;
    pchat_user *u = apr_pcalloc(r->pool, sizeof(*u));
    int rv = 0;

    u->id = id;
    u->doc = pchat_docs_by_id(c, r->pool, &pchat_users, id, 0, &rv);
    if (rv || !u->doc || create_session(c, r, u)) {
        return pchat_send_message_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                        "Something went wrong.");
    }
    u->email = json_string_value(json_object_get(u->doc, "email"));
    issue_token(r, u);
    return send_session(q, u, message);
}

int pchat_auth_login(pchat_req *q)
{
    request_rec *r = q->r;
    json_t *body;
    const char *email, *password;
    pchat_error *err = pchat_auth_csrf_login(r);
    login_row u = {0, NULL, NULL, 0};
    pchat_conn *c;
    int found = 0, ok, status;

    if (!err) {
        err = pchat_read_json_body(r, &body);
    }
    if (!err) {
        err = login_fields(r, body, &email, &password);
    }
    if (!err) {
        err = pchat_auth_hash_allowed(r);
    }
    if (err) {
        return pchat_send_error(r, err);
    }
    if (!(c = pchat_conn_acquire(r))) {
        return pchat_send_no_database(r);
    }
    status = find_login(c, r, email, &u, &found);
    pchat_conn_release(c);   /* not held while hashing */
    if (status) {
        return pchat_send_message_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                        "Something went wrong.");
    }
    if (found && u.lock_until > pchat_now_ms()) {
        pchat_metrics_login(r, PCHAT_LOGIN_LOCKED, email);
        return pchat_send_error(r, unauthorized(r->pool, MSG_LOCKED));
    }
    ok = check_password(r, password, found ? &u : NULL);
    if (ok < 0) {
        return pchat_auth_busy(r);
    }
    pchat_metrics_login(r, found && ok ? PCHAT_LOGIN_OK : PCHAT_LOGIN_FAILED,
                        email);
    if (!found) {
        return pchat_send_error(r, unauthorized(r->pool, MSG_BAD_LOGIN));
    }
    if (!(c = pchat_conn_acquire(r))) {
        return pchat_send_no_database(r);
    }
    if (!ok) {
        count_failure(c, r, u.id);
        pchat_conn_release(c);
        return pchat_send_error(r, unauthorized(r->pool, MSG_BAD_LOGIN));
    }
    reset_failures(c, r, u.id);
    status = pchat_auth_start_session(q, c, u.id,
                                       "Authentication Passed");
    pchat_conn_release(c);
    return status;
}

/* ---- logout, me, refresh ---------------------------------------------- */

int pchat_auth_logout(pchat_req *q)
{
    pchat_conn *c;

    if (!q->user) {
        return pchat_send_message_error(q->r, HTTP_BAD_REQUEST,
                                        "No user is logged in.");
    }
    if ((c = pchat_conn_acquire(q->r))) {
        session_query(c, q->r, "DELETE FROM users_sessions WHERE id = ",
                      q->user, 0);
        pchat_conn_release(c);
    }
    set_cookie(q->r, "", 0);
    return pchat_send_json(q->r, HTTP_OK, json_pack(
        "{s:s}", "message", "Logout successful."));
}

int pchat_auth_me(pchat_req *q)
{
    if (!q->user) {
        return pchat_send_json(q->r, HTTP_OK, json_pack(
            "{s:n,s:s}", "user", "message", "Account"));
    }
    return pchat_send_json(q->r, HTTP_OK, json_pack(
        "{s:o,s:s,s:s,s:I,s:s,s:s}", "user", user_json(q->user),
        "collection", "users", "strategy", STRATEGY,
        "exp", (json_int_t)q->user->exp, "token", q->user->token,
        "message", "Account"));
}

int pchat_auth_refresh(pchat_req *q)
{
    pchat_conn *c;
    int rv;

    if (!q->user) {
        return pchat_send_error(q->r, pchat_forbidden(q->r->pool));
    }
    issue_token(q->r, q->user);
    if (!(c = pchat_conn_acquire(q->r))) {
        return pchat_send_no_database(q->r);
    }
    rv = session_query(c, q->r, "UPDATE users_sessions SET expires_at = ",
                       q->user, q->user->exp * 1000);
    pchat_conn_release(c);
    if (rv) {
        return pchat_send_message_error(q->r, HTTP_INTERNAL_SERVER_ERROR,
                                        "Something went wrong.");
    }
    set_cookie(q->r, q->user->token, q->user->exp);
    return pchat_send_json(q->r, HTTP_OK, json_pack(
        "{s:s,s:I,s:s,s:b,s:s,s:o}", "message", "Token refresh successful.",
        "exp", (json_int_t)q->user->exp, "refreshedToken", q->user->token,
        "setCookie", 1, "strategy", STRATEGY, "user", user_json(q->user)));
}

/* ---- forgot-password, reset-password, unlock -------------------------- */

#define RESET_TOKEN_BYTES 20            /* Payload's: 40 hex digits */
#define RESET_TOKEN_MS (3600 * 1000)    /* Payload's: an hour */
#define MSG_SUCCESS "Success"
#define MSG_BAD_RESET "Token is either invalid or has expired."

static int success(request_rec *r)
{
    return pchat_send_json(r, HTTP_OK, json_pack("{s:s}", "message",
                                                 MSG_SUCCESS));
}

/* Runs sql (an UPDATE of users ending in "WHERE email = ") for email;
 * *nrows gets the rows changed.  DECLINED to go on, or the status of the
 * 503/500 answer sent (which is OK: the body is written). */
static int update_by_email(request_rec *r, pchat_sql *sql, const char *email,
                           int *nrows)
{
    pchat_conn *c = pchat_conn_acquire(r);
    int rv;

    if (!c) {
        return pchat_send_no_database(r);
    }
    pchat_sql_str(sql, email);
    rv = pchat_db_exec(c, r->pool, sql, nrows);
    pchat_conn_release(c);
    return rv ? pchat_send_message_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                         "Something went wrong.")
              : DECLINED;
}

/* The body's email, lower-cased, or NULL after answering Payload's 400. */
static const char *body_email(request_rec *r, int *status)
{
    json_t *body;
    pchat_error *err = pchat_read_json_body(r, &body);
    const char *e;
    char *email, *c;

    if (err) {
        *status = pchat_send_error(r, err);
        return NULL;
    }
    e = json_string_value(json_object_get(body, "email"));
    if (!e || !*e) {
        *status = pchat_send_message_error(r, HTTP_BAD_REQUEST,
                                           "Missing email.");
        return NULL;
    }
    email = apr_pstrdup(r->pool, e);
    for (c = email; *c; c++) {
        *c = apr_tolower(*c);
    }
    return email;
}

/* Answers the same whether the email is known or not; a known one gets a
 * new token, which the link written to the log carries. */
int pchat_auth_forgot(pchat_req *q)
{
    request_rec *r = q->r;
    unsigned char random[RESET_TOKEN_BYTES];
    const char *email, *token, *url = pchat_conf_reset_url(r->server);
    pchat_error *err;
    pchat_sql *sql;
    int status = 0, nrows = 0, rv;

    if (!(email = body_email(r, &status))) {
        return status;
    }
    if ((err = pchat_auth_hash_allowed(r))) {
        return pchat_send_error(r, err);
    }
    if (RAND_bytes(random, sizeof(random)) != 1) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PCHAT_LOGNO(01900)
                      "forgot-password: RAND_bytes failed");
        return pchat_send_message_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                        "Something went wrong.");
    }
    token = apr_pescape_hex(r->pool, random, sizeof(random), 0);
    sql = pchat_sql_make(r->pool, "UPDATE users SET reset_password_token = ");
    pchat_sql_str(sql, token);
    pchat_sql_add(sql, ", reset_password_expiration = ");
    pchat_sql_int(sql, pchat_now_ms() + RESET_TOKEN_MS);
    pchat_sql_add(sql, " WHERE email = ");
    if ((rv = update_by_email(r, sql, email, &nrows)) != DECLINED) {
        return rv;
    }
    if (nrows > 0 && url) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, PCHAT_LOGNO(01901)
                      "password reset link for %s: %s%stoken=%s", email, url,
                      strchr(url, '?') ? "&" : "?", token);
    }
    return success(r);
}

typedef struct {
    const char *token;
    const char *password;
} reset_body;

/* token and password, or the answer (Payload's 400 / ValidationError). */
static int reset_fields(pchat_req *q, reset_body *b)
{
    request_rec *r = q->r;
    int min = pchat_conf_password_min(r->server);
    json_t *body, *errors;
    pchat_error *err = pchat_read_json_body(r, &body);

    if (err) {
        return pchat_send_error(r, err);
    }
    b->token = json_string_value(json_object_get(body, "token"));
    b->password = json_string_value(json_object_get(body, "password"));
    if (!b->token || !b->password) {
        return pchat_send_message_error(r, HTTP_BAD_REQUEST,
                                        "Missing required data.");
    }
    b->token = apr_pstrdup(r->pool, b->token);
    b->password = apr_pstrdup(r->pool, b->password);
    if ((int)strlen(b->password) >= min) {
        return DECLINED;
    }
    errors = pchat_json_own(r->pool, json_array());
    pchat_field_error(r->pool, errors,
                      pchat_field_find(&pchat_users, "password"), "password",
                      apr_psprintf(r->pool, "This value must be longer "
                                   "than the minimum length of %d "
                                   "characters.", min));
    return pchat_send_error(r, pchat_validation_error(r->pool, &pchat_users,
                                                      errors));
}

/* Sets the new password of the token's user if the token is still good,
 * clears the token and the lockout; *id gets the user (0: bad token). */
static int apply_reset(pchat_conn *c, request_rec *r, const reset_body *b,
                       const char *salt, const char *hash, apr_int64_t *id)
{
    apr_int64_t now = pchat_now_ms();
    pchat_sql *sql = pchat_sql_make(r->pool, "SELECT id FROM users WHERE "
                                    "reset_password_token = ");
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    int rv, nrows = 0;

    pchat_sql_str(sql, b->token);
    pchat_sql_add(sql, " AND reset_password_expiration > ");
    pchat_sql_int(sql, now);
    *id = 0;
    rv = pchat_db_select(c, r->pool, sql, &res);
    while (!rv && pchat_db_next_row(c, r->pool, res, &row)) {
        *id = apr_atoi64(pchat_db_entry(c, row, 0));
    }
    if (rv || !*id) {
        return rv;
    }
    /* the token in the WHERE too: of two resets with it, one wins */
    sql = pchat_sql_make(r->pool, "UPDATE users SET hash = ");
    pchat_sql_str(sql, hash);
    pchat_sql_add(sql, ", salt = ");
    pchat_sql_str(sql, salt);
    pchat_sql_add(sql, ", reset_password_token = NULL, "
                  "reset_password_expiration = NULL, login_attempts = 0, "
                  "lock_until = NULL, updated_at = ");
    pchat_sql_int(sql, now);
    pchat_sql_add(sql, " WHERE id = ");
    pchat_sql_int(sql, *id);
    pchat_sql_add(sql, " AND reset_password_token = ");
    pchat_sql_str(sql, b->token);
    rv = pchat_db_exec(c, r->pool, sql, &nrows);
    if (!rv && nrows != 1) {
        *id = 0;
    }
    return rv;
}

int pchat_auth_reset(pchat_req *q)
{
    request_rec *r = q->r;
    reset_body b = {NULL, NULL};
    pchat_error *err = pchat_auth_csrf_login(r);
    const char *salt, *hash;
    apr_int64_t id;
    pchat_conn *c;
    int status;

    if (!err) {
        err = pchat_auth_hash_allowed(r);
    }
    if (err) {
        return pchat_send_error(r, err);
    }
    if ((status = reset_fields(q, &b)) != DECLINED) {
        return status;
    }
    if (pchat_auth_hash_slot_acquire()) {
        return pchat_auth_busy(r);
    }
    status = pchat_password_hash(r->pool, b.password, &salt, &hash);
    pchat_auth_hash_slot_release();
    if (status) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PCHAT_LOGNO(01902)
                      "password hashing failed in libcrypto");
        return pchat_send_message_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                        "Something went wrong.");
    }
    if (!(c = pchat_conn_acquire(r))) {
        return pchat_send_no_database(r);
    }
    if (apply_reset(c, r, &b, salt, hash, &id)) {
        pchat_conn_release(c);
        return pchat_send_message_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                        "Something went wrong.");
    }
    if (!id) {
        pchat_conn_release(c);
        return pchat_send_message_error(r, HTTP_FORBIDDEN, MSG_BAD_RESET);
    }
    status = pchat_auth_start_session(q, c, id,
                                      "Password reset successfully.");
    pchat_conn_release(c);
    return status;
}

/* Payload's default unlock access: any logged-in user. */
int pchat_auth_unlock(pchat_req *q)
{
    request_rec *r = q->r;
    const char *email;
    pchat_sql *sql;
    int status = 0, nrows, rv;

    if (!q->user) {
        return pchat_send_error(r, pchat_forbidden(r->pool));
    }
    if (!(email = body_email(r, &status))) {
        return status;
    }
    sql = pchat_sql_make(r->pool, "UPDATE users SET login_attempts = 0, "
                         "lock_until = NULL WHERE email = ");
    rv = update_by_email(r, sql, email, &nrows);
    return rv != DECLINED ? rv : success(r);
}
