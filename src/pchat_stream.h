/* The live stream at /api/messages/sse: Server-Sent Events carrying every
 * change to the messages a subscriber may see, exactly once, in commit
 * order, resumable from the last event id. */
#ifndef PCHAT_STREAM_H
#define PCHAT_STREAM_H

#include "pchat_req.h"

/* Starts this child's hub threads (child_init). */
void pchat_stream_child_init(apr_pool_t *pchild, server_rec *s);

/* GET /api/messages/sse */
int pchat_stream_handler(pchat_req *q);

/* GET /api/messages/sse/stats: live subscribers on this node. */
int pchat_stream_stats(pchat_req *q);

#endif
