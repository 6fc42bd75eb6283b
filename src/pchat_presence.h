/* Presence: a user is online while a stream opened with their login is
 * open on any node.  Each child process that holds such streams keeps a
 * row (user, child) in `presence` and renews its `beat_at` every
 * PCHAT_PRESENCE_BEAT_S seconds; a row older than PCHAT_PRESENCE_TTL_S is
 * a dead child's or node's, ignored by readers and swept by any hub that
 * has streams.  Going online (the first stream anywhere) and offline (the
 * last one closed, or its node died) is announced as a presence signal. */
#ifndef PCHAT_PRESENCE_H
#define PCHAT_PRESENCE_H

#include "pchat_api.h"
#include "pchat_store.h"

#define PCHAT_PRESENCE_BEAT_S 2
#define PCHAT_PRESENCE_TTL_S 10

typedef struct pchat_presence pchat_presence;

/* The presence of one database in this child process (memory of p). */
pchat_presence *pchat_presence_make(apr_pool_t *p, server_rec *s);

/* Counts a stream of user in; the cleanup of r->pool counts it out.  The
 * first stream of the user in this child writes its row (and announces
 * the user online when no other live row has them). */
void pchat_presence_join(pchat_presence *pr, request_rec *r,
                         apr_int64_t user);

/* The heartbeat of this child's rows, and with streams to tell
 * (has_streams), the sweep of dead rows and the purge of old signals: at
 * most every PCHAT_PRESENCE_BEAT_S seconds.  Called by the stream hub at
 * each tick. */
void pchat_presence_tick(pchat_presence *pr, apr_pool_t *p, int has_streams);

/* GET /api/presence[?users=1,2,3] */
int pchat_presence_handler(pchat_req *q);

#endif
