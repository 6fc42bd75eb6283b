/* HTTP plumbing shared by every endpoint. */
#include "pchat_http.h"
#include "pchat_config.h"
#include "apr_lib.h"

#define JSON_TYPE "application/json; charset=utf-8"
#define CORS_METHODS "GET, POST, PATCH, DELETE, OPTIONS"
#define CORS_HEADERS "Origin, X-Requested-With, Content-Type, Accept, " \
                     "Authorization, Last-Event-ID, Cache-Control"

pchat_error *pchat_error_make(apr_pool_t *p, int status, const char *name,
                              json_t *data, const char *message)
{
    pchat_error *err = apr_pcalloc(p, sizeof(*err));

    err->status = status;
    err->name = name;
    err->data = pchat_json_own(p, data);
    err->message = message;
    return err;
}

int pchat_send_json(request_rec *r, int status, json_t *body)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool,
                                                r->connection->bucket_alloc);
    apr_off_t length = 0;

    pchat_json_own(r->pool, body);
    r->status = status;
    ap_set_content_type(r, JSON_TYPE);
    if (r->header_only) {
        return OK;
    }
    if (pchat_json_to_brigade(body, bb) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PCHAT_LOGNO(00101)
                      "could not serialise a response");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_brigade_length(bb, 1, &length);
    ap_set_content_length(r, length);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(bb->bucket_alloc));
    if (ap_pass_brigade(r->output_filters, bb) != APR_SUCCESS) {
        r->connection->aborted = 1;
    }
    return OK;
}

int pchat_send_error(request_rec *r, const pchat_error *err)
{
    json_t *entry = json_object(), *body;

    if (err->name) {
        json_object_set_new(entry, "name", json_string(err->name));
    }
    if (err->data) {
        json_object_set(entry, "data", err->data);
    }
    json_object_set_new(entry, "message", json_string(err->message));
    body = json_pack("{s:[o]}", "errors", entry);
    return pchat_send_json(r, err->status, body);
}

int pchat_send_message_error(request_rec *r, int status, const char *message)
{
    pchat_error err = {status, NULL, NULL, message};
    return pchat_send_error(r, &err);
}

pchat_error *pchat_forbidden(apr_pool_t *p)
{
    return pchat_error_make(p, HTTP_FORBIDDEN, NULL, NULL,
                            "You are not allowed to perform this action.");
}

pchat_error *pchat_unavailable(request_rec *r, int retry_s,
                               const char *message)
{
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_itoa(r->pool, retry_s));
    return pchat_error_make(r->pool, HTTP_SERVICE_UNAVAILABLE, NULL, NULL,
                            message);
}

int pchat_send_unavailable(request_rec *r, int retry_s, const char *message)
{
    return pchat_send_error(r, pchat_unavailable(r, retry_s, message));
}

int pchat_send_no_database(request_rec *r)
{
    return pchat_send_unavailable(r, 1, PCHAT_MSG_NO_DATABASE);
}

/* ---- request bodies ---------------------------------------------------- */

static pchat_error *too_large(request_rec *r, apr_off_t max)
{
    return pchat_error_make(r->pool, HTTP_REQUEST_ENTITY_TOO_LARGE, NULL,
                            NULL, apr_psprintf(r->pool,
                            "Request body is larger than %" APR_OFF_T_FMT
                            " bytes.", max));
}

/* Moves tmp's buckets to bb; returns 1 when tmp ended with EOS. */
static int take_buckets(apr_bucket_brigade *bb, apr_bucket_brigade *tmp)
{
    int eos = 0;

    while (!APR_BRIGADE_EMPTY(tmp)) {
        apr_bucket *b = APR_BRIGADE_FIRST(tmp);
        if (APR_BUCKET_IS_EOS(b)) {
            eos = 1;
            apr_bucket_delete(b);
            continue;
        }
        if (APR_BUCKET_IS_METADATA(b)) {
            apr_bucket_delete(b);
            continue;
        }
        APR_BUCKET_REMOVE(b);
        APR_BRIGADE_INSERT_TAIL(bb, b);
    }
    return eos;
}

/* Collects the body into one buffer; never more than max bytes. */
static pchat_error *read_body(request_rec *r, apr_off_t max, char **buf,
                              apr_size_t *len)
{
    apr_bucket_alloc_t *ba = r->connection->bucket_alloc;
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, ba);
    apr_bucket_brigade *tmp = apr_brigade_create(r->pool, ba);
    apr_off_t total = 0;
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    int seen_eos = 0;

    if (cl && apr_atoi64(cl) > max) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return too_large(r, max);
    }
    while (!seen_eos) {
        apr_status_t rv = ap_get_brigade(r->input_filters, tmp,
                                         AP_MODE_READBYTES, APR_BLOCK_READ,
                                         HUGE_STRING_LEN);
        if (rv != APR_SUCCESS) {
            return pchat_error_make(r->pool, ap_map_http_request_error(
                                    rv, HTTP_BAD_REQUEST), NULL, NULL,
                                    "Could not read the request body.");
        }
        seen_eos = take_buckets(bb, tmp);
        apr_brigade_length(bb, 1, &total);
        if (total > max) {
            r->connection->keepalive = AP_CONN_CLOSE;
            return too_large(r, max);
        }
    }
    *len = (apr_size_t)total;
    *buf = apr_palloc(r->pool, *len + 1);
    apr_brigade_flatten(bb, *buf, len);
    (*buf)[*len] = '\0';
    apr_brigade_destroy(bb);
    apr_brigade_destroy(tmp);
    return NULL;
}

/* True when the Content-Type is application/json (any parameters).  A
 * page of another site can send text/plain, form or multipart bodies
 * without asking (no CORS preflight), so a body of any other type is never
 * read as JSON: that page cannot log a browser in or write as it.  Payload
 * reads JSON bodies only with this type too. */
static int is_json_type(request_rec *r)
{
    const char *type = apr_table_get(r->headers_in, "Content-Type");
    size_t n = strlen("application/json");

    if (!type) {
        return 0;
    }
    while (apr_isspace(*type)) {
        type++;
    }
    if (strncasecmp(type, "application/json", n)) {
        return 0;
    }
    type += n;
    while (apr_isspace(*type)) {
        type++;
    }
    return !*type || *type == ';';
}

pchat_error *pchat_read_text_body(request_rec *r, char **text)
{
    apr_size_t len = 0;

    return read_body(r, pchat_conf_max_body(r->server), text, &len);
}

/* No body at all: no Content-Length (or 0) and no Transfer-Encoding. */
static int has_no_body(request_rec *r)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");

    return !apr_table_get(r->headers_in, "Transfer-Encoding")
           && (!cl || !strcmp(cl, "0"));
}

pchat_error *pchat_read_json_body(request_rec *r, json_t **body)
{
    char *buf = NULL;
    apr_size_t len = 0;
    pchat_error *err;

    if (has_no_body(r)) {
        /* Payload reads a missing body as {}, whatever its type */
        *body = pchat_json_own(r->pool, json_object());
        return NULL;
    }
    if (!is_json_type(r)) {
        r->connection->keepalive = AP_CONN_CLOSE;   /* the body is unread */
        return pchat_error_make(r->pool, HTTP_UNSUPPORTED_MEDIA_TYPE, NULL,
                                NULL, "The request body must be JSON sent "
                                "with Content-Type: application/json.");
    }
    err = read_body(r, pchat_conf_max_body(r->server), &buf, &len);
    if (err) {
        return err;
    }
    if (!len) {
        /* Payload reads an empty body as {} */
        *body = pchat_json_own(r->pool, json_object());
        return NULL;
    }
    *body = pchat_json_parse(r->pool, buf, len);
    if (!*body) {
        return pchat_error_make(r->pool, HTTP_BAD_REQUEST, NULL, NULL,
                                "Invalid JSON");
    }
    if (!json_is_object(*body)) {
        return pchat_error_make(r->pool, HTTP_BAD_REQUEST, NULL, NULL,
                                "The request body must be a JSON object.");
    }
    return NULL;
}

/* ---- headers ----------------------------------------------------------- */

/* In err_headers_out, which reaches the client on success and on errors
 * alike: browsers hide error bodies without these. */
static void set_cors_headers(request_rec *r, const char *origin)
{
    apr_table_mergen(r->err_headers_out, "Vary", "Origin");
    if (!pchat_conf_origin_allowed(r->server, origin)) {
        return;
    }
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Origin", origin);
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Credentials",
                   "true");
}

int pchat_http_prepare(request_rec *r)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");

    /* err_headers_out reaches the client on success and on errors alike */
    apr_table_setn(r->err_headers_out, "X-Content-Type-Options", "nosniff");
    /* API answers are data for scripts, never pages: nothing to frame,
     * load or leak a referrer from, and nothing for a shared cache to keep
     * (they carry one user's view and tokens) */
    apr_table_setn(r->err_headers_out, "Content-Security-Policy",
                   "default-src 'none'; frame-ancestors 'none'");
    apr_table_setn(r->err_headers_out, "X-Frame-Options", "DENY");
    apr_table_setn(r->err_headers_out, "Referrer-Policy", "no-referrer");
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    if (origin) {
        set_cors_headers(r, origin);
    }
    if (r->method_number != M_OPTIONS) {
        return DECLINED;
    }
    if (origin && pchat_conf_origin_allowed(r->server, origin)) {
        apr_table_setn(r->headers_out, "Access-Control-Allow-Methods",
                       CORS_METHODS);
        apr_table_setn(r->headers_out, "Access-Control-Allow-Headers",
                       CORS_HEADERS);
        apr_table_setn(r->headers_out, "Access-Control-Max-Age", "600");
    }
    r->status = HTTP_NO_CONTENT;
    return OK;
}
