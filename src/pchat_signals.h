/* Signals: short-lived stream events that are not messages (typing, read,
 * presence).  A writer stores one row per recipient in the `signals` table
 * (to_user NULL: every stream); each child's stream hub reads the new rows
 * once, when it probes the database for changes, into a ring in memory,
 * and each stream takes from the ring what is addressed to its user.
 * Frames carry no `id:` line: they never move the message cursor, and a
 * stream gets only the signals stored after it opened.  Rows older than a
 * minute are purged. */
#ifndef PCHAT_SIGNALS_H
#define PCHAT_SIGNALS_H

#include "pchat_store.h"
#include "pchat_json.h"

#define PCHAT_SIGNAL_TYPING "typing"
#define PCHAT_SIGNAL_READ "read"
#define PCHAT_SIGNAL_PRESENCE "presence"

/* Stores the signal kind with data for each of the nto users of to (a 0
 * among them: every stream) in one write transaction, and wakes the hubs
 * of this node (shared memory) and of the others (PostgreSQL's NOTIFY of
 * the write transaction).  Returns 0 or the driver's error. */
int pchat_signal_send(pchat_conn *c, apr_pool_t *p, const char *kind,
                      apr_int64_t from, const apr_int64_t *to, int nto,
                      json_t *data);

/* How many signals of kind from went to `to` in the last ms
 * milliseconds (*rv: the driver's error). */
apr_int64_t pchat_signals_recent(pchat_conn *c, apr_pool_t *p,
                                 const char *kind, apr_int64_t from,
                                 apr_int64_t to, apr_int64_t ms, int *rv);

/* Deletes the signals older than a minute. */
void pchat_signals_purge(pchat_conn *c, apr_pool_t *p);

/* The newest signal id in the database (0: none); *rv: driver error. */
apr_int64_t pchat_signals_max(pchat_conn *c, apr_pool_t *p, int *rv);

/* A hub's ring of recent signals (memory of p; guarded inside). */
typedef struct pchat_signals pchat_signals;
pchat_signals *pchat_signals_make(apr_pool_t *p);

/* A stream opens at signal id `at`: the ring starts there if it has not
 * started yet. */
void pchat_signals_start(pchat_signals *ring, apr_int64_t at);

/* Reads the signals stored since the last probe into the ring; returns 1
 * when some came. */
int pchat_signals_probe(pchat_signals *ring, pchat_conn *c, apr_pool_t *p);

/* Whether the ring holds a signal for user (0: an anonymous stream, which
 * gets only those for every stream) after *cursor; moves *cursor past the
 * signals for others, so a later look starts there. */
int pchat_signals_pending(pchat_signals *ring, apr_int64_t *cursor,
                          apr_int64_t user);

/* The frames of the signals for user after *cursor, as one text of *len
 * bytes in p (NULL when none); moves *cursor to the newest. */
const char *pchat_signals_take(pchat_signals *ring, apr_int64_t *cursor,
                               apr_int64_t user, apr_pool_t *p,
                               apr_size_t *len);

#endif
