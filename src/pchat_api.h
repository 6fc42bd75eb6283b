/* The collection endpoints of Payload's REST API: each parses its
 * parameters, runs one operation and shapes one response. */
#ifndef PCHAT_API_H
#define PCHAT_API_H

#include "pchat_http.h"
#include "pchat_collections.h"
#include "pchat_query.h"

typedef struct pchat_user pchat_user;

typedef struct {
    request_rec *r;
    const pchat_collection *coll;
    json_t *qs;          /* the parsed query string */
    apr_int64_t id;      /* for /{slug}/{id} */
    pchat_user *user;    /* who asks, or NULL */
} pchat_req;

int pchat_api_find(pchat_req *q);
int pchat_api_count(pchat_req *q);
int pchat_api_find_by_id(pchat_req *q);
int pchat_api_create(pchat_req *q);
int pchat_api_update_by_id(pchat_req *q);
int pchat_api_update_many(pchat_req *q);
int pchat_api_delete_by_id(pchat_req *q);
int pchat_api_delete_many(pchat_req *q);
/* POST /users/first-register */
int pchat_api_first_register(pchat_req *q);
/* GET /users/init: {"initialized": whether any user exists} */
int pchat_api_init(pchat_req *q);
/* POST /messages/{id}/duplicate: a new message copied from id, the body's
 * fields overriding */
int pchat_api_duplicate(pchat_req *q);
/* Payload's paginated answer around docs (not taken over): the page and
 * limit of pq, totalDocs total.  Also used by receipts and conversations. */
json_t *pchat_api_envelope(json_t *docs, const pchat_query *pq,
                           apr_int64_t total);

/* GET /access: what the caller may do in each collection */
int pchat_api_access(pchat_req *q);

#endif
