/* The change log of messages, the stream's cursor: every change to a
 * message (create, edit, delete) takes the next seq inside its writing
 * transaction, so seq order is commit order; a deleted message stays as
 * a tombstone (deleted = 1) until it is purged.  All SQL that names seq
 * or the tombstones is here. */
#ifndef PCHAT_CHANGES_H
#define PCHAT_CHANGES_H

#include "pchat_store.h"
#include "pchat_collections.h"

/* The next change number in a statement's SQL; the store puts in
 * pchat_changes_next_seq when it prepares the statement. */
#define PCHAT_NEXT_SEQ "@NEXT_SEQ@"

/* The collection whose changes are logged (its `live` names the rows
 * that are not tombstones). */
extern const pchat_collection *const pchat_change_log;

/* What PCHAT_NEXT_SEQ stands for in dialect d: its own function, or the
 * log's MAX(seq) + 1. */
const char *pchat_changes_next_seq(apr_pool_t *p, const pchat_dialect *d);

/* The seq parts of the log's writes: INSERT's column and value, UPDATE's
 * assignment, each followed by ", ". */
void pchat_changes_insert_column(pchat_sql *sql);
void pchat_changes_insert_value(pchat_sql *sql);
void pchat_changes_update_set(pchat_sql *sql);

/* Deletes row id of the log as a tombstone with the next seq: the row
 * stays, so a stream filter can still match the delete. */
pchat_sql *pchat_changes_tombstone(apr_pool_t *p, apr_int64_t id,
                                   apr_int64_t now_ms);

/* The newest change number (0 when there are none). */
apr_int64_t pchat_changes_max_seq(pchat_conn *conn, apr_pool_t *p, int *rv);

/* When it is this child's turn (at most once per PayloadChatTombstoneRetention
 * or hour), deletes the tombstones of messages deleted longer ago than the
 * retention, all but the newest change: MAX(seq) must never go back, or a
 * new message would take a number that a client's cursor has passed.
 * conn may be NULL: one is taken for it.  A failure is logged; the
 * tombstones wait for the next turn.  Returns 1 when it was the turn (p
 * was used), else 0. */
int pchat_changes_purge(server_rec *s, pchat_conn *conn, apr_pool_t *p);

/* The stream's batch read: up to limit changes after seq `after` that
 * match filter, in seq order, each row the doc's columns (as
 * pchat_docs_columns) then seq and deleted. */
int pchat_changes_select(pchat_conn *conn, apr_pool_t *p, apr_int64_t after,
                         const pchat_sql *filter, int limit,
                         apr_dbd_results_t **res);
/* seq and whether it is a tombstone, of a row of pchat_changes_select. */
apr_int64_t pchat_changes_row_seq(pchat_conn *conn, apr_dbd_row_t *row);
int pchat_changes_row_deleted(pchat_conn *conn, apr_dbd_row_t *row);

/* The live docs at or before seq, AND filter: the stream's backlog;
 * PCHAT_NEWEST_CHANGE_FIRST orders them. */
pchat_sql *pchat_changes_live_upto(apr_pool_t *p, apr_int64_t seq,
                                   const pchat_sql *filter);
#define PCHAT_NEWEST_CHANGE_FIRST "seq DESC"

#endif
