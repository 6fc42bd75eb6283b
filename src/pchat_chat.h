/* What the endpoints of presence, typing, receipts and conversations share:
 * a login required in both access modes, ids read strictly from a body,
 * one-number queries, dates that may be null. */
#ifndef PCHAT_CHAT_H
#define PCHAT_CHAT_H

#include "pchat_api.h"
#include "pchat_store.h"
#include "pchat_auth.h"

/* Sends the 403 when nobody is logged in and returns OK; DECLINED when
 * the caller may go on. */
int pchat_chat_need_login(pchat_req *q);

/* 503 with Retry-After (no database connection), 500 (a failed query). */
int pchat_chat_unavailable(request_rec *r);
int pchat_chat_server_error(request_rec *r);

/* Reads a JSON body that must hold exactly the keys named (a NULL-ended
 * list), each a user or message id (a positive JSON integer): ids[i] gets
 * keys[i].  Anything else (an unknown key, a missing one, another type)
 * is a ValidationError of the collection slug. */
pchat_error *pchat_chat_read_ids(pchat_req *q, const char *slug,
                                 const char *const *keys, apr_int64_t *ids);

/* A ValidationError of slug naming one field. */
pchat_error *pchat_chat_invalid(apr_pool_t *p, const char *slug,
                                const char *path, const char *message);

/* The first column of the first row of sql as a number (0 when there is
 * no row or it is NULL); *rv gets the driver's error or 0. */
apr_int64_t pchat_chat_number(pchat_conn *c, apr_pool_t *p,
                              const pchat_sql *sql, int *rv);

/* Whether the user id exists (*rv: the driver's error). */
int pchat_chat_user_exists(pchat_conn *c, apr_pool_t *p, apr_int64_t id,
                           int *rv);

/* Column col of row, or NULL when it is SQL NULL (apr_dbd's pgsql driver
 * gives "" for NULL, sqlite's NULL). */
const char *pchat_chat_entry(pchat_conn *c, apr_dbd_row_t *row, int col);

/* ms as an ISO-8601 JSON string, or JSON null for a missing column. */
json_t *pchat_chat_date(const char *ms_text);
json_t *pchat_chat_date_ms(apr_int64_t ms);

/* A number column as a JSON integer, or null when the column is NULL. */
json_t *pchat_chat_id_or_null(const char *text);

#endif
