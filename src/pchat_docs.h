/* Documents: rows of a collection as Payload's JSON docs, relations
 * populated to the requested depth. */
#ifndef PCHAT_DOCS_H
#define PCHAT_DOCS_H

#include "pchat_store.h"
#include "pchat_json.h"
#include "pchat_collections.h"

/* "id, sender, ..." — the columns of the readable fields, in field order. */
const char *pchat_docs_columns(apr_pool_t *p, const pchat_collection *c);

/* The doc in the first columns of row (as pchat_docs_columns); the number
 * of those columns is pchat_docs_ncolumns. */
json_t *pchat_docs_row(pchat_conn *conn, const pchat_collection *c,
                       apr_dbd_row_t *row);
int pchat_docs_ncolumns(const pchat_collection *c);

/* Reads every row of res (columns as pchat_docs_columns) into an array of
 * docs with relations as ids.  The array belongs to p. */
json_t *pchat_docs_read(pchat_conn *conn, apr_pool_t *p,
                        const pchat_collection *c, apr_dbd_results_t *res);

/* Replaces relation ids in docs by the related docs when depth >= 1; an id
 * whose document is gone stays an id.  Returns 0 or a driver error. */
int pchat_docs_populate(pchat_conn *conn, apr_pool_t *p,
                        const pchat_collection *c, json_t *docs, int depth);

/* SELECT ... WHERE where ORDER BY order [LIMIT limit OFFSET offset]; a
 * negative limit reads every match. */
int pchat_docs_select(pchat_conn *conn, apr_pool_t *p,
                      const pchat_collection *c, const pchat_sql *where,
                      const char *order, apr_int64_t limit,
                      apr_int64_t offset, json_t **docs);

/* How many documents match where (messages: remembered per child while
 * no message changes). */
int pchat_docs_count(pchat_conn *conn, apr_pool_t *p,
                     const pchat_collection *c, const pchat_sql *where,
                     apr_int64_t *count);

/* The doc with this id at depth, or NULL (*rv says whether it failed). */
json_t *pchat_docs_by_id(pchat_conn *conn, apr_pool_t *p,
                         const pchat_collection *c, apr_int64_t id, int depth,
                         int *rv);

#endif
