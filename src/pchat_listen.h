/* Hearing of commits made on other nodes without waiting for the next
 * poll: a connection of the hub's own that LISTENs on PostgreSQL. */
#ifndef PCHAT_LISTEN_H
#define PCHAT_LISTEN_H

#include "pchat_store.h"

typedef struct pchat_listener pchat_listener;

/* A listener for db, living in p; NULL where the database cannot notify
 * (sqlite) or PayloadChatStreamListen is Off.  It connects on first use. */
pchat_listener *pchat_listener_make(apr_pool_t *p, server_rec *s,
                                    pchat_db *db);

/* Never blocks.  True when a write may have committed on some node since
 * the last call: a notification arrived, or the connection was just
 * (re)opened and what committed while it was down is unknown. */
int pchat_listener_heard(pchat_listener *l, apr_time_t now);

#endif
