/* Who may do what: one access filter on the shared query path, used by
 * find, count, find by id, update, delete and the stream alike.
 *   open:    messages are open to anyone (the original app), users are
 *            listed to anyone, and anyone may sign up;
 *   members: only logged-in users; a user reads and streams the messages
 *            they sent or received, creates messages only as sender,
 *            edits and deletes only their own, sees other users as id and
 *            email.
 * In both modes a user changes and deletes only their own user (Payload's
 * auth collection), so only when logged in. */
#ifndef PCHAT_ACCESS_H
#define PCHAT_ACCESS_H

#include "pchat_req.h"
#include "pchat_store.h"
#include "pchat_validate.h"

typedef enum {
    PCHAT_OP_READ,
    PCHAT_OP_CREATE,
    PCHAT_OP_UPDATE,
    PCHAT_OP_DELETE
} pchat_op;

/* The SQL condition on rows of q->coll the caller may use for op ("1=1"
 * when unrestricted), or the 403 to send. */
pchat_error *pchat_access_filter(pchat_req *q, pchat_op op, pchat_sql **cond);

/* The fields of c (bits of PCHAT_FIELD_BIT) the caller cannot read on
 * every row, hence may not query or sort by: a filter on a field hidden
 * from a doc would tell its value all the same. */
unsigned pchat_access_hidden(pchat_req *q, const pchat_collection *c);

/* True when the filter restricts rows (then a missing row is a 403). */
int pchat_access_restricted(pchat_req *q);

/* Checks written values against the rules (a message's sender). */
pchat_error *pchat_access_check_values(pchat_req *q, const pchat_values *v);

/* Shapes read docs for the caller: other users reduced to id and email. */
void pchat_access_shape(pchat_req *q, const pchat_collection *c, json_t *docs);

#endif
