/* HTTP plumbing: request bodies with limits, JSON responses, Payload's error
 * shape, CORS and security headers. */
#ifndef PCHAT_HTTP_H
#define PCHAT_HTTP_H

#include "pchat_private.h"
#include "pchat_json.h"

/* A failure to report to the client in Payload's error shape. */
typedef struct {
    int status;
    const char *name;    /* "ValidationError", "QueryError", or NULL */
    json_t *data;        /* owned by the pool the error came from, or NULL */
    const char *message;
} pchat_error;

pchat_error *pchat_error_make(apr_pool_t *p, int status, const char *name,
                              json_t *data, const char *message);

/* Reads the whole body (at most the configured size) and parses it as one
 * JSON object.  On failure returns the error to send. */
pchat_error *pchat_read_json_body(request_rec *r, json_t **body);
/* The body as a NUL-terminated string, within PayloadChatMaxBodySize. */
pchat_error *pchat_read_text_body(request_rec *r, char **text);

/* Sends body (a reference is taken over) with the given status.  Returns OK
 * so a handler can `return pchat_send_json(...)`. */
int pchat_send_json(request_rec *r, int status, json_t *body);

/* Sends {"errors":[{"name","data","message"}]} and returns OK. */
int pchat_send_error(request_rec *r, const pchat_error *err);

/* Shorthand for errors with a message only. */
int pchat_send_message_error(request_rec *r, int status, const char *message);

/* The standard 403. */
pchat_error *pchat_forbidden(apr_pool_t *p);

/* The one 503 of the module: "busy or away, try again in retry_s
 * seconds", with Retry-After (the database, a hashing slot, the stream's
 * capacity).  pchat_send_unavailable sends it and returns OK. */
pchat_error *pchat_unavailable(request_rec *r, int retry_s,
                               const char *message);
int pchat_send_unavailable(request_rec *r, int retry_s, const char *message);
/* The 503 for no database connection (Retry-After: 1). */
int pchat_send_no_database(request_rec *r);
#define PCHAT_MSG_NO_DATABASE "The database is not available."

/* CORS and nosniff headers for every API response; answers a preflight.
 * Returns DECLINED when the request should go on to its endpoint. */
int pchat_http_prepare(request_rec *r);

#endif
