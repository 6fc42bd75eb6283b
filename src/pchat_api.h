/* The collection endpoints of Payload's REST API: each parses its
 * parameters, runs one operation and shapes one response. */
#ifndef PCHAT_API_H
#define PCHAT_API_H

#include "pchat_http.h"
#include "pchat_collections.h"

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

#endif
