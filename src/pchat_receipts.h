/* Read receipts: how far each user has read each conversation, one doc
 * per (user, peer) in the `receipts` collection, shaped as a Payload app
 * would define it ({id, user, peer, message, readAt, createdAt,
 * updatedAt}).  The position only moves forward; a move is announced to
 * the streams of both users (event `read`). */
#ifndef PCHAT_RECEIPTS_H
#define PCHAT_RECEIPTS_H

#include "pchat_api.h"

/* POST /api/receipts {"peer", "message"}: my receipt for the conversation
 * with peer (201 created, 200 moved or already further). */
int pchat_receipts_post(pchat_req *q);

/* GET /api/receipts: the receipts where I am user or peer, with where,
 * sort, limit and page as on the other collections. */
int pchat_receipts_find(pchat_req *q);

#endif
