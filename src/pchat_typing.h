/* Typing indicators: POST /api/typing {"to": id} tells the streams of `to`
 * that the caller is typing (event `typing`, expiresIn ms); nothing is
 * kept beyond the short-lived signal.  At most one per second per (user,
 * peer): more is a 429 with Retry-After. */
#ifndef PCHAT_TYPING_H
#define PCHAT_TYPING_H

#include "pchat_api.h"

#define PCHAT_TYPING_EXPIRES_MS 5000

int pchat_typing_handler(pchat_req *q);

#endif
