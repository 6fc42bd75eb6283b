/* GET /api/conversations: the people I have exchanged messages with, the
 * most recent conversation first, each with its last message, my unread
 * count (messages from the peer after my receipt, not deleted), my
 * receipt's and the peer's receipt's message; paginated as Payload's find
 * (limit, page).  Only my conversations, in both access modes. */
#ifndef PCHAT_CONVERSATIONS_H
#define PCHAT_CONVERSATIONS_H

#include "pchat_api.h"

int pchat_conversations_find(pchat_req *q);

#endif
