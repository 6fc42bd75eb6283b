/* The change log: seq numbers, tombstones and their purge, the stream's
 * batch read. */
#include "pchat_changes.h"
#include "pchat_docs.h"
#include "pchat_time.h"
#include "pchat_metrics.h"

/* The longest wait between two purges of expired tombstones. */
#define PURGE_EVERY_MAX (3600)

const pchat_collection *const pchat_change_log = &pchat_messages;
#define LOG pchat_change_log

const char *pchat_changes_next_seq(apr_pool_t *p, const pchat_dialect *d)
{
    return d->next_seq ? d->next_seq
                       : apr_pstrcat(p, "(SELECT COALESCE(MAX(seq), 0) + 1"
                                     " FROM ", LOG->table, ")", NULL);
}

void pchat_changes_insert_column(pchat_sql *sql)
{
    pchat_sql_add(sql, "seq, ");
}

void pchat_changes_insert_value(pchat_sql *sql)
{
    pchat_sql_add(sql, PCHAT_NEXT_SEQ ", ");
}

void pchat_changes_update_set(pchat_sql *sql)
{
    pchat_sql_add(sql, "seq = " PCHAT_NEXT_SEQ ", ");
}

pchat_sql *pchat_changes_tombstone(apr_pool_t *p, apr_int64_t id,
                                   apr_int64_t now_ms)
{
    pchat_sql *sql = pchat_sql_make(p, apr_pstrcat(
        p, "UPDATE ", LOG->table, " SET deleted = 1, "
        "seq = " PCHAT_NEXT_SEQ ", updated_at = ", NULL));

    pchat_sql_int(sql, now_ms);
    pchat_sql_add(sql, " WHERE id = ");
    pchat_sql_int(sql, id);
    return sql;
}

apr_int64_t pchat_changes_max_seq(pchat_conn *conn, apr_pool_t *p, int *rv)
{
    pchat_sql *sql = pchat_sql_make(p, apr_pstrcat(
        p, "SELECT MAX(seq) FROM ", LOG->table, NULL));
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_int64_t max = 0;

    *rv = pchat_db_select(conn, p, sql, &res);
    while (!*rv && pchat_db_next_row(conn, p, res, &row)) {
        const char *v = pchat_db_entry(conn, row, 0);
        max = v ? apr_atoi64(v) : 0;
    }
    return max;
}

int pchat_changes_purge(server_rec *s, pchat_conn *conn, apr_pool_t *p)
{
    int retention = pchat_conf_tombstone_s(s), nrows = 0;
    pchat_conn *c = conn;
    pchat_sql *sql;

    if (!retention || !pchat_db_purge_turn(pchat_store_db(s),
                                           retention < PURGE_EVERY_MAX
                                           ? retention : PURGE_EVERY_MAX)) {
        return 0;
    }
    if (!c && !(c = pchat_conn_acquire_server(s))) {
        return 1;
    }
    sql = pchat_sql_make(p, apr_pstrcat(p, "DELETE FROM ", LOG->table,
                                        " WHERE deleted = 1 AND updated_at"
                                        " < ", NULL));
    pchat_sql_int(sql, pchat_now_ms() - (apr_int64_t)retention * 1000);
    /* the newest change stays: MAX(seq) must never go back */
    pchat_sql_add(sql, apr_pstrcat(p, " AND seq < (SELECT MAX(seq) FROM ",
                                   LOG->table, ")", NULL));
    if (!pchat_db_exec(c, p, sql, &nrows) && nrows > 0) {
        pchat_metrics_purged(nrows);
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, PCHAT_LOGNO(00801)
                     "purged %d expired tombstones", nrows);
    }
    if (!conn) {
        pchat_conn_release(c);
    }
    return 1;
}

int pchat_changes_select(pchat_conn *conn, apr_pool_t *p, apr_int64_t after,
                         const pchat_sql *filter, int limit,
                         apr_dbd_results_t **res)
{
    pchat_sql *sql = pchat_sql_make(p, apr_pstrcat(
        p, "SELECT ", pchat_docs_columns(p, LOG), ", seq, deleted FROM ",
        LOG->table, " WHERE seq > ", NULL));

    pchat_sql_int(sql, after);
    pchat_sql_add(sql, " AND ");
    pchat_sql_cat(sql, filter);
    pchat_sql_add(sql, " ORDER BY seq LIMIT ");
    pchat_sql_int(sql, limit);
    return pchat_db_select(conn, p, sql, res);
}

apr_int64_t pchat_changes_row_seq(pchat_conn *conn, apr_dbd_row_t *row)
{
    return apr_atoi64(pchat_db_entry(conn, row, pchat_docs_ncolumns(LOG)));
}

int pchat_changes_row_deleted(pchat_conn *conn, apr_dbd_row_t *row)
{
    return atoi(pchat_db_entry(conn, row, pchat_docs_ncolumns(LOG) + 1));
}

pchat_sql *pchat_changes_live_upto(apr_pool_t *p, apr_int64_t seq,
                                   const pchat_sql *filter)
{
    pchat_sql *sql = pchat_sql_make(p, apr_pstrcat(p, LOG->live,
                                                   " AND seq <= ", NULL));

    pchat_sql_int(sql, seq);
    pchat_sql_add(sql, " AND ");
    pchat_sql_cat(sql, filter);
    return sql;
}
