/* The stream over HTTP/2.  mod_http2 runs each request of an h2 connection
 * on a secondary connection in one of its worker threads, and a stream
 * holds that worker (and one of its connection's processing slots) until it
 * ends: a handler cannot give it back; and the connection, while it has a
 * stream open, holds one of the event MPM's workers.  These limits keep
 * streams from taking every worker of a child or every slot of a
 * connection. */
#ifndef PCHAT_H2_H
#define PCHAT_H2_H

#include "pchat_private.h"
#include "pchat_http.h"

/* Reads mod_http2's worker count for this child (child_init). */
void pchat_h2_child_init(apr_pool_t *pchild, server_rec *s);

/* For a request over HTTP/2: counts its stream in until r->pool ends, or
 * returns the error to send (with Retry-After set): 429 when its connection
 * has its most streams, 503 when this child has its most streams or its
 * most connections with streams.  NULL for HTTP/1. */
pchat_error *pchat_h2_admit(request_rec *r);

/* The most h2 streams one child serves (PayloadChatStreamMaxH2, or half of
 * mod_http2's workers per child). */
int pchat_h2_max_streams(const server_rec *s);

/* The most h2 connections with streams open in one child
 * (PayloadChatStreamMaxH2Connections, or half of ThreadsPerChild). */
int pchat_h2_max_connections(const server_rec *s);

/* h2 streams open in this child. */
int pchat_h2_streams(void);

#endif
