/* (method, path) -> endpoint, with 404 and 405 + Allow. */
#ifndef PCHAT_ROUTER_H
#define PCHAT_ROUTER_H

#include "pchat_private.h"

/* True when r->uri lies under the configured mount. */
int pchat_router_claims(const request_rec *r);

/* Serves an API request; returns OK (a response was sent) or a status. */
int pchat_route(request_rec *r);

/* The kinds of endpoint the metrics count, by index (the last: no route
 * matched). */
#define PCHAT_ENDPOINTS 21
const char *pchat_router_endpoint_name(int endpoint);

#endif
