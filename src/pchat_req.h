/* A request to the API as every layer sees it (access, auth, the stream,
 * the endpoints): the collection, the parsed query string and who asks.
 * Below all of them, so none includes another's header to get these. */
#ifndef PCHAT_REQ_H
#define PCHAT_REQ_H

#include "pchat_http.h"
#include "pchat_collections.h"

/* Who asks: a logged-in user, found by pchat_auth_resolve. */
typedef struct pchat_user {
    apr_int64_t id;
    const char *email;
    json_t *doc;         /* the user as returned to the user */
    const char *sid;     /* the session of the token */
    const char *token;
    apr_int64_t exp;
    int from_cookie;     /* the browser sent it by itself */
} pchat_user;

typedef struct {
    request_rec *r;
    const pchat_collection *coll;
    json_t *qs;          /* the parsed query string */
    apr_int64_t id;      /* for /{slug}/{id} */
    pchat_user *user;    /* who asks, or NULL */
} pchat_req;

#endif
