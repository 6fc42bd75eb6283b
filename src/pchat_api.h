/* The collection endpoints of Payload's REST API: each parses its
 * parameters, runs one operation and shapes one response. */
#ifndef PCHAT_API_H
#define PCHAT_API_H

#include "pchat_query.h"
#include "pchat_req.h"

int pchat_api_find(pchat_req *q);
/* The answer of a find: docs (the envelope takes a reference of its own)
 * in Payload's pagination envelope for the query's page, limit and
 * pagination flag, total being how many documents match.  Also used by
 * receipts and conversations; pure, so the unit tests check it
 * (unit/check_envelope.c). */
json_t *pchat_api_envelope(json_t *docs, const pchat_query *pq,
                           apr_int64_t total);
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
/* GET /access: what the caller may do in each collection */
int pchat_api_access(pchat_req *q);

#endif
