/* Storage through APR DBD: a per-child pool of connections, a per-connection
 * cache of prepared statements, transactions, and SQL text built only from
 * our own fragments with every value bound as a parameter.  The schema and
 * its migrations: pchat_schema.c; the dialects: pchat_dialect.c. */
#ifndef PCHAT_STORE_H
#define PCHAT_STORE_H

#include "pchat_private.h"
#include "pchat_config.h"
#include "apr_dbd.h"
#include "pchat_sql.h"
#include "pchat_dialect.h"

typedef struct pchat_conn pchat_conn;

/* Registers the write lock's name for the Mutex directive. */
void pchat_store_pre_config(apr_pool_t *pconf);

/* Opens the database once in the parent: creates its directory, migrates
 * the schema, hands files to the child user.  Returns an error text. */
/* Checks each server's database settings without opening anything (the
 * DBD driver loads, a sqlite path can be made); an error text naming
 * PayloadChatDatabase, or NULL.  Runs in check_config (`apachectl -t`). */
const char *pchat_store_check(apr_pool_t *p, server_rec *s);
const char *pchat_store_setup(apr_pool_t *pconf, apr_pool_t *ptemp,
                              server_rec *s);
/* A pool destroyed with parent, after all of parent's sub-pools (request
 * pools included), whose allocator is locked: for memory that our threads
 * share with request threads even under prefork, whose child pool's
 * allocator has no lock. */
apr_pool_t *pchat_shared_pool(apr_pool_t *parent);

/* Creates the connection pool of a child process. */
apr_status_t pchat_store_child_init(apr_pool_t *pchild, server_rec *s);

/* Takes a connection for a short piece of work; give it back at once with
 * pchat_conn_release.  NULL when none is available (logged). */
pchat_conn *pchat_conn_acquire(request_rec *r);
void pchat_conn_release(pchat_conn *c);
/* The same for work that has no request (the stream's hub). */
pchat_conn *pchat_conn_acquire_server(server_rec *s);

/* The store of a server, to tell servers that share one apart. */
pchat_db *pchat_store_db(const server_rec *s);

/* Runs sql; returns 0 or the driver's error (already logged). */
int pchat_db_select(pchat_conn *c, apr_pool_t *p, const pchat_sql *sql,
                    apr_dbd_results_t **res);
int pchat_db_exec(pchat_conn *c, apr_pool_t *p, const pchat_sql *sql,
                  int *nrows);
/* Steps *row (NULL before the first) to the next row; 0 at the end.
 * Reading to the end releases driver state. */
int pchat_db_next_row(pchat_conn *c, apr_pool_t *p, apr_dbd_results_t *res,
                      apr_dbd_row_t **row);
const char *pchat_db_entry(pchat_conn *c, apr_dbd_row_t *row, int col);
/* True when the driver reported a unique-constraint violation. */
int pchat_db_is_unique_violation(pchat_conn *c, int rv);
/* The driver's message for a failed statement's rv. */
const char *pchat_db_error(pchat_conn *c, int rv);

/* Transactions around several statements on one connection.  A write
 * transaction holds the node's write lock from begin to commit/rollback;
 * pchat_db_exec outside one takes it for its statement. */
int pchat_db_begin(pchat_conn *c);
int pchat_db_commit(pchat_conn *c);
void pchat_db_rollback(pchat_conn *c);

/* A per-child memory of counts by key (a where's SQL and arguments), each
 * valid at one version of the data: recall gives it only at that version;
 * remember keeps the newest. */
int pchat_db_count_recall(pchat_conn *c, const char *key,
                          apr_int64_t version, apr_int64_t *count);
void pchat_db_count_remember(pchat_conn *c, const char *key,
                             apr_int64_t version, apr_int64_t count);

/* True when one statement that takes a PCHAT_NEXT_SEQ is a whole write
 * transaction by itself (PostgreSQL: taking the number takes the write
 * lock), so a single-statement write needs no begin/commit: it is run with
 * pchat_db_select, and holds the lock for no round trip at all. */
int pchat_db_seq_takes_lock(const pchat_conn *c);

/* True for one caller per child process and every_s seconds: whose turn
 * it is to purge expired tombstones of the database. */
int pchat_db_purge_turn(pchat_db *db, int every_s);

/* Commits of write transactions on any node, heard without polling where
 * the database can tell (PostgreSQL's LISTEN/NOTIFY; not sqlite). */
int pchat_db_can_listen(const pchat_db *db);
const apr_dbd_driver_t *pchat_db_driver(const pchat_db *db);
/* Opens a connection outside the pool that listens on the channel; the
 * caller closes it with apr_dbd_close.  Returns an error text. */
const char *pchat_db_open_listening(pchat_db *db, apr_pool_t *p,
                                    apr_dbd_t **h);

#endif
