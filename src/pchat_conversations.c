/* GET /api/conversations.
 *
 * One query per page: my live messages, numbered per peer newest first
 * (a window function, so the cost grows as my messages, with one sort),
 * the first of each peer, the page of them; for each conversation of the
 * page, the unread count walks the index messages_pair (sender, receiver,
 * id) from my receipt on, and the receipts their unique index. */
#include "pchat_conversations.h"
#include "pchat_chat.h"
#include "pchat_docs.h"

/* "CASE WHEN sender = <me> THEN receiver ELSE sender END" */
static void add_peer_of(pchat_sql *sql, apr_int64_t me)
{
    pchat_sql_add(sql, "CASE WHEN sender = ");
    pchat_sql_int(sql, me);
    pchat_sql_add(sql, " THEN receiver ELSE sender END");
}

/* My live messages with another user. */
static void add_mine(pchat_sql *sql, apr_int64_t me)
{
    pchat_sql_add(sql, " FROM messages WHERE deleted = 0 AND sender <> "
                       "receiver AND (sender = ");
    pchat_sql_int(sql, me);
    pchat_sql_add(sql, " OR receiver = ");
    pchat_sql_int(sql, me);
    pchat_sql_add(sql, ")");
}

static int count_peers(pchat_conn *c, apr_pool_t *p, apr_int64_t me,
                       apr_int64_t *total)
{
    pchat_sql *sql = pchat_sql_make(p, "SELECT COUNT(DISTINCT ");
    int rv;

    add_peer_of(sql, me);
    pchat_sql_add(sql, ")");
    add_mine(sql, me);
    *total = pchat_chat_number(c, p, sql, &rv);
    return rv;
}

/* "(SELECT message FROM receipts WHERE user_id = <who> AND peer = <of>)"
 * where who and of are SQL (t.peer) or my id. */
static void add_receipt(pchat_sql *sql, apr_int64_t me, int mine)
{
    pchat_sql_add(sql, "(SELECT message FROM receipts r WHERE r.user_id = ");
    if (mine) {
        pchat_sql_int(sql, me);
        pchat_sql_add(sql, " AND r.peer = t.peer)");
    }
    else {
        pchat_sql_add(sql, "t.peer AND r.peer = ");
        pchat_sql_int(sql, me);
        pchat_sql_add(sql, ")");
    }
}

static pchat_sql *page_sql(apr_pool_t *p, apr_int64_t me, apr_int64_t limit,
                           apr_int64_t offset)
{
    pchat_sql *sql = pchat_sql_make(p, "SELECT ");

    pchat_sql_addv(sql, pchat_docs_columns(p, &pchat_messages), ", t.peer, "
                   "(SELECT email FROM users u WHERE u.id = t.peer), ", NULL);
    add_receipt(sql, me, 1);
    pchat_sql_add(sql, ", ");
    add_receipt(sql, me, 0);
    pchat_sql_add(sql, ", (SELECT COUNT(*) FROM messages x WHERE x.deleted = "
                       "0 AND x.sender = t.peer AND x.receiver = ");
    pchat_sql_int(sql, me);
    pchat_sql_add(sql, " AND x.id > COALESCE(");
    add_receipt(sql, me, 1);
    pchat_sql_add(sql, ", 0)) FROM (SELECT messages.*, ");
    add_peer_of(sql, me);
    pchat_sql_add(sql, " AS peer, ROW_NUMBER() OVER (PARTITION BY ");
    add_peer_of(sql, me);
    pchat_sql_add(sql, " ORDER BY created_at DESC, id DESC) AS rn");
    add_mine(sql, me);
    pchat_sql_add(sql, ") t WHERE t.rn = 1 ORDER BY t.created_at DESC, "
                       "t.id DESC");
    if (limit > 0) {
        pchat_sql_add(sql, " LIMIT ");
        pchat_sql_int(sql, limit);
        pchat_sql_add(sql, " OFFSET ");
        pchat_sql_int(sql, offset);
    }
    return sql;
}

static json_t *conversation_doc(pchat_conn *c, apr_dbd_row_t *row)
{
    int n = pchat_docs_ncolumns(&pchat_messages);
    const char *email = pchat_chat_entry(c, row, n + 1);

    return json_pack("{s:{s:I,s:s?},s:o,s:I,s:o,s:o}",
                     "peer", "id",
                     (json_int_t)apr_atoi64(pchat_db_entry(c, row, n)),
                     "email", email,
                     "lastMessage", pchat_docs_row(c, &pchat_messages, row),
                     "unread",
                     (json_int_t)apr_atoi64(pchat_db_entry(c, row, n + 4)),
                     "lastRead",
                     pchat_chat_id_or_null(pchat_chat_entry(c, row, n + 2)),
                     "peerLastRead",
                     pchat_chat_id_or_null(pchat_chat_entry(c, row, n + 3)));
}

int pchat_conversations_find(pchat_req *q)
{
    apr_pool_t *p = q->r->pool;
    json_t *docs = pchat_json_own(p, json_array());
    apr_int64_t total = 0, limit, offset;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    pchat_query pq;
    pchat_error *err;
    pchat_conn *c;
    int rv;

    if (pchat_chat_need_login(q) == OK) {
        return OK;
    }
    /* limit, page and pagination as a find reads them */
    if ((err = pchat_query_parse(q->r, &pchat_messages, q->qs, 0, 0, &pq))) {
        return pchat_send_error(q->r, err);
    }
    limit = pq.limit > 0 ? pq.limit : -1;
    offset = limit > 0 ? (apr_int64_t)(pq.page - 1) * limit : 0;
    if (!(c = pchat_conn_acquire(q->r))) {
        return pchat_chat_unavailable(q->r);
    }
    rv = count_peers(c, p, q->user->id, &total);
    if (!rv && total > offset) {
        rv = pchat_db_select(c, p, page_sql(p, q->user->id, limit, offset),
                             &res);
        while (!rv && pchat_db_next_row(c, p, res, &row)) {
            json_array_append_new(docs, conversation_doc(c, row));
        }
    }
    pchat_conn_release(c);
    if (rv) {
        return pchat_chat_server_error(q->r);
    }
    return pchat_send_json(q->r, HTTP_OK,
                           pchat_api_envelope(docs, &pq, total));
}
