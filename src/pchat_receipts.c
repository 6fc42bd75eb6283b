/* Read receipts: POST and GET /api/receipts. */
#include "pchat_receipts.h"
#include "pchat_chat.h"
#include "pchat_docs.h"
#include "pchat_access.h"
#include "pchat_signals.h"
#include "pchat_time.h"

static const pchat_field receipt_fields[] = {
    {"id", "id", "ID", PCHAT_FT_ID, PCHAT_FF_READONLY, NULL},
    {"user", "user_id", "User", PCHAT_FT_RELATION, PCHAT_FF_REQUIRED,
     &pchat_users},
    {"peer", "peer", "Peer", PCHAT_FT_RELATION, PCHAT_FF_REQUIRED,
     &pchat_users},
    /* the last message read: an id (relations here reach users only) */
    {"message", "message", "Message", PCHAT_FT_ID, PCHAT_FF_REQUIRED, NULL},
    {"readAt", "read_at", "Read At", PCHAT_FT_DATE, PCHAT_FF_READONLY, NULL},
    {"createdAt", "created_at", "Created At", PCHAT_FT_DATE,
     PCHAT_FF_READONLY, NULL},
    {"updatedAt", "updated_at", "Updated At", PCHAT_FT_DATE,
     PCHAT_FF_READONLY, NULL},
};

/* Not in pchat_collection_find: the generic endpoints never reach it. */
static const pchat_collection receipts = {
    "receipts", "receipts", "Receipt", "Receipts", receipt_fields,
    sizeof(receipt_fields) / sizeof(receipt_fields[0]), NULL
};

/* Whether message is a live message between me and peer. */
static int in_conversation(pchat_conn *c, apr_pool_t *p, apr_int64_t me,
                           apr_int64_t peer, apr_int64_t message, int *rv)
{
    pchat_sql *sql = pchat_sql_make(p, "SELECT COUNT(*) FROM messages WHERE "
                                       "deleted = 0 AND id = ");

    pchat_sql_int(sql, message);
    pchat_sql_add(sql, " AND ((sender = ");
    pchat_sql_int(sql, me);
    pchat_sql_add(sql, " AND receiver = ");
    pchat_sql_int(sql, peer);
    pchat_sql_add(sql, ") OR (sender = ");
    pchat_sql_int(sql, peer);
    pchat_sql_add(sql, " AND receiver = ");
    pchat_sql_int(sql, me);
    pchat_sql_add(sql, "))");
    return pchat_chat_number(c, p, sql, rv) > 0;
}

/* "user_id = me AND peer = peer" */
static pchat_sql *receipt_of(apr_pool_t *p, apr_int64_t me, apr_int64_t peer)
{
    pchat_sql *sql = pchat_sql_make(p, "user_id = ");

    pchat_sql_int(sql, me);
    pchat_sql_add(sql, " AND peer = ");
    pchat_sql_int(sql, peer);
    return sql;
}

/* The receipt doc of (me, peer), or NULL when there is none. */
static json_t *read_receipt(pchat_conn *c, apr_pool_t *p, apr_int64_t me,
                            apr_int64_t peer, int *rv)
{
    json_t *docs = NULL;

    *rv = pchat_docs_select(c, p, &receipts, receipt_of(p, me, peer), NULL,
                            1, 0, &docs);
    return *rv ? NULL : json_array_get(docs, 0);
}

/* Moves the receipt to message unless it stands there or further. */
static int upsert(pchat_conn *c, apr_pool_t *p, apr_int64_t me,
                  apr_int64_t peer, apr_int64_t message, apr_int64_t now)
{
    pchat_sql *sql = pchat_sql_make(p, "INSERT INTO receipts (user_id, peer,"
                                       " message, read_at, created_at, "
                                       "updated_at) VALUES (");
    int nrows, i;

    pchat_sql_int(sql, me);
    pchat_sql_add(sql, ", ");
    pchat_sql_int(sql, peer);
    pchat_sql_add(sql, ", ");
    pchat_sql_int(sql, message);
    for (i = 0; i < 3; i++) {
        pchat_sql_add(sql, ", ");
        pchat_sql_int(sql, now);
    }
    pchat_sql_add(sql, ") ON CONFLICT (user_id, peer) DO UPDATE SET message ="
                       " excluded.message, read_at = excluded.read_at, "
                       "updated_at = excluded.updated_at WHERE "
                       "receipts.message < excluded.message");
    return pchat_db_exec(c, p, sql, &nrows);
}

static void announce_read(pchat_conn *c, apr_pool_t *p, apr_int64_t me,
                          apr_int64_t peer, apr_int64_t message,
                          apr_int64_t now)
{
    apr_int64_t to[2];

    to[0] = me;
    to[1] = peer;
    pchat_signal_send(c, p, PCHAT_SIGNAL_READ, me, to, 2, pchat_json_own(
        p, json_pack("{s:I,s:I,s:I,s:o}", "user", (json_int_t)me, "peer",
                     (json_int_t)peer, "message", (json_int_t)message,
                     "readAt", pchat_chat_date_ms(now))));
}

/* The checks of a receipt: a ValidationError, or NULL. */
static pchat_error *check_receipt(pchat_req *q, pchat_conn *c,
                                  const apr_int64_t *ids, int *rv)
{
    apr_pool_t *p = q->r->pool;
    apr_int64_t me = q->user->id;

    if (ids[0] == me) {
        return pchat_chat_invalid(p, "receipts", "peer", "The peer must be "
                                  "another user.");
    }
    if (!pchat_chat_user_exists(c, p, ids[0], rv) && !*rv) {
        return pchat_chat_invalid(p, "receipts", "peer", "This user does not "
                                  "exist.");
    }
    if (!*rv && !in_conversation(c, p, me, ids[0], ids[1], rv) && !*rv) {
        return pchat_chat_invalid(p, "receipts", "message", "This message is "
                                  "not in your conversation with this "
                                  "peer.");
    }
    return NULL;
}

int pchat_receipts_post(pchat_req *q)
{
    static const char *const keys[] = {"peer", "message", NULL};
    apr_pool_t *p = q->r->pool;
    apr_int64_t ids[2], now = pchat_now_ms();
    json_t *before = NULL, *after = NULL;
    pchat_error *err;
    pchat_conn *c;
    int rv = 0, moved = 0;

    if (pchat_chat_need_login(q) == OK) {
        return OK;
    }
    if ((err = pchat_chat_read_ids(q, "receipts", keys, ids))) {
        return pchat_send_error(q->r, err);
    }
    if (!(c = pchat_conn_acquire(q->r))) {
        return pchat_chat_unavailable(q->r);
    }
    err = check_receipt(q, c, ids, &rv);
    if (!err && !rv) {
        before = read_receipt(c, p, q->user->id, ids[0], &rv);
    }
    if (!err && !rv) {
        moved = !before || json_integer_value(json_object_get(
                               before, "message")) < ids[1];
        rv = moved ? upsert(c, p, q->user->id, ids[0], ids[1], now) : 0;
    }
    if (!err && !rv) {
        after = read_receipt(c, p, q->user->id, ids[0], &rv);
    }
    if (!err && !rv && moved && after
        && json_integer_value(json_object_get(after, "message")) == ids[1]) {
        announce_read(c, p, q->user->id, ids[0], ids[1], now);
    }
    pchat_conn_release(c);
    if (err) {
        return pchat_send_error(q->r, err);
    }
    if (rv || !after) {
        return pchat_chat_server_error(q->r);
    }
    return pchat_send_json(q->r, before ? HTTP_OK : HTTP_CREATED, json_pack(
        "{s:O,s:s}", "doc", after, "message",
        before ? "Updated successfully."
               : "Receipt successfully created."));
}

int pchat_receipts_find(pchat_req *q)
{
    apr_pool_t *p = q->r->pool;
    pchat_query pq;
    pchat_error *err;
    pchat_sql *where;
    pchat_conn *c;
    json_t *docs = pchat_json_own(p, json_array());
    apr_int64_t total = 0, offset;
    int rv;

    if (pchat_chat_need_login(q) == OK) {
        return OK;
    }
    err = pchat_query_parse(q->r, &receipts, q->qs, 0,
                            pchat_access_hidden(q, &pchat_users), &pq);
    if (err) {
        return pchat_send_error(q->r, err);
    }
    /* mine, in either role, whatever the where says */
    where = pchat_sql_make(p, "(");
    pchat_sql_cat(where, pq.where);
    pchat_sql_add(where, ") AND (user_id = ");
    pchat_sql_int(where, q->user->id);
    pchat_sql_add(where, " OR peer = ");
    pchat_sql_int(where, q->user->id);
    pchat_sql_add(where, ")");
    if (!pq.paginate && !json_object_get(q->qs, "limit")) {
        pq.limit = 0;
    }
    offset = pq.limit > 0 ? (apr_int64_t)(pq.page - 1) * pq.limit : 0;
    if (!(c = pchat_conn_acquire(q->r))) {
        return pchat_chat_unavailable(q->r);
    }
    rv = pchat_docs_count(c, p, &receipts, where, &total);
    if (!rv && total > offset) {
        rv = pchat_docs_select(c, p, &receipts, where, pq.order,
                               pq.limit > 0 ? pq.limit : -1, offset, &docs);
    }
    pchat_conn_release(c);
    if (rv) {
        return pchat_chat_server_error(q->r);
    }
    return pchat_send_json(q->r, HTTP_OK,
                           pchat_api_envelope(docs, &pq, total));
}
