/* Rows to documents and relation population. */
#include "apr_hash.h"
#include "pchat_docs.h"
#include "pchat_changes.h"
#include "pchat_time.h"
#include "pchat_metrics.h"

const char *pchat_docs_columns(apr_pool_t *p, const pchat_collection *c)
{
    const char *cols = "";
    int i;

    for (i = 0; i < c->nfields; i++) {
        if (pchat_field_readable(&c->fields[i])) {
            cols = apr_pstrcat(p, cols, *cols ? ", " : "",
                               c->fields[i].column, NULL);
        }
    }
    return cols;
}

static json_t *field_value(const pchat_field *f, const char *text)
{
    char iso[PCHAT_ISO_LEN];

    if (!text) {
        return json_null();
    }
    switch (f->type) {
    case PCHAT_FT_ID:
    case PCHAT_FT_RELATION:
        return json_integer(apr_atoi64(text));
    case PCHAT_FT_DATE:
        pchat_time_format(iso, apr_atoi64(text));
        return json_string(iso);
    default:
        return json_string(text);
    }
}

int pchat_docs_ncolumns(const pchat_collection *c)
{
    int i, n = 0;

    for (i = 0; i < c->nfields; i++) {
        n += pchat_field_readable(&c->fields[i]);
    }
    return n;
}

json_t *pchat_docs_row(pchat_conn *conn, const pchat_collection *c,
                       apr_dbd_row_t *row)
{
    json_t *doc = json_object();
    int i, col = 0;

    for (i = 0; i < c->nfields; i++) {
        const pchat_field *f = &c->fields[i];
        if (pchat_field_readable(f)) {
            json_object_set_new(doc, f->name,
                                field_value(f, pchat_db_entry(conn, row,
                                                              col++)));
        }
    }
    if (c == &pchat_users) {
        /* Payload marks the docs of its auth collection with the slug */
        json_object_set_new(doc, "collection", json_string(c->slug));
    }
    return doc;
}

json_t *pchat_docs_read(pchat_conn *conn, apr_pool_t *p,
                        const pchat_collection *c, apr_dbd_results_t *res)
{
    json_t *docs = pchat_json_own(p, json_array());
    apr_dbd_row_t *row = NULL;

    while (pchat_db_next_row(conn, p, res, &row)) {
        json_array_append_new(docs, pchat_docs_row(conn, c, row));
    }
    return docs;
}

int pchat_docs_select(pchat_conn *conn, apr_pool_t *p,
                      const pchat_collection *c, const pchat_sql *where,
                      const char *order, apr_int64_t limit,
                      apr_int64_t offset, json_t **docs)
{
    pchat_sql *sql = pchat_sql_make(p, apr_pstrcat(
        p, "SELECT ", pchat_docs_columns(p, c), " FROM ", c->table,
        " WHERE ", NULL));
    apr_dbd_results_t *res;
    int rv;

    pchat_sql_cat(sql, where);
    if (order) {
        pchat_sql_add(sql, apr_pstrcat(p, " ORDER BY ", order, NULL));
    }
    if (limit >= 0) {
        pchat_sql_add(sql, " LIMIT ");
        pchat_sql_int(sql, limit);
        pchat_sql_add(sql, " OFFSET ");
        pchat_sql_int(sql, offset);
    }
    rv = pchat_db_select(conn, p, sql, &res);
    if (!rv) {
        *docs = pchat_docs_read(conn, p, c, res);
    }
    return rv;
}

/* Every change to a message (create, edit, delete) takes the next seq, and
 * a where names only the collection's own columns: a count of messages
 * taken at MAX(seq) holds until MAX(seq) moves.  One index lookup then
 * replaces a walk over every matching row. */
int pchat_docs_count(pchat_conn *conn, apr_pool_t *p,
                     const pchat_collection *c, const pchat_sql *where,
                     apr_int64_t *count)
{
    pchat_sql *sql = pchat_sql_make(p, apr_pstrcat(
        p, "SELECT COUNT(*) FROM ", c->table, " WHERE ", NULL));
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_int64_t version = 0;
    const char *key = NULL;
    int rv = 0;

    *count = 0;
    if (c->live) {
        version = pchat_changes_max_seq(conn, p, &rv);
        key = pchat_sql_key(p, where);
        if (rv || pchat_db_count_recall(conn, key, version, count)) {
            return rv;
        }
    }
    pchat_sql_cat(sql, where);
    rv = pchat_db_select(conn, p, sql, &res);
    while (!rv && pchat_db_next_row(conn, p, res, &row)) {
        *count = apr_atoi64(pchat_db_entry(conn, row, 0));
    }
    if (!rv && key) {
        pchat_db_count_remember(conn, key, version, *count);
    }
    return rv;
}

/* "id IN (%lld, ...)" over the ids in the array of integers. */
static pchat_sql *ids_in(apr_pool_t *p, json_t *ids)
{
    pchat_sql *sql = pchat_sql_make(p, "id IN (");
    json_t *id;
    size_t i;

    json_array_foreach(ids, i, id) {
        pchat_sql_add(sql, i ? ", " : "");
        pchat_sql_int(sql, json_integer_value(id));
    }
    pchat_sql_add(sql, ")");
    return sql;
}

/* The distinct ids held in relation fields to target, as a JSON array. */
static json_t *relation_ids(apr_pool_t *p, const pchat_collection *c,
                            const pchat_collection *target, json_t *docs)
{
    apr_hash_t *seen = apr_hash_make(p);
    json_t *ids = pchat_json_own(p, json_array()), *doc;
    size_t i;
    int f;

    json_array_foreach(docs, i, doc) {
        for (f = 0; f < c->nfields; f++) {
            json_t *v = json_object_get(doc, c->fields[f].name);
            json_int_t id;
            if (c->fields[f].relation_to != target || !json_is_integer(v)) {
                continue;
            }
            id = json_integer_value(v);
            if (!apr_hash_get(seen, &id, sizeof(id))) {
                json_int_t *key = apr_pmemdup(p, &id, sizeof(id));
                apr_hash_set(seen, key, sizeof(*key), key);
                json_array_append_new(ids, json_integer(id));
            }
        }
    }
    return ids;
}

static int populate_target(pchat_conn *conn, apr_pool_t *p,
                           const pchat_collection *c,
                           const pchat_collection *target, json_t *docs,
                           int depth)
{
    json_t *ids = relation_ids(p, c, target, docs), *related, *doc;
    apr_hash_t *by_id = apr_hash_make(p);
    size_t i;
    int f, rv;

    if (!json_array_size(ids)) {
        return 0;
    }
    rv = pchat_docs_select(conn, p, target, ids_in(p, ids), NULL, -1, 0,
                           &related);
    if (!rv) {
        rv = pchat_docs_populate(conn, p, target, related, depth - 1);
    }
    if (rv) {
        return rv;
    }
    json_array_foreach(related, i, doc) {
        json_int_t *key = apr_palloc(p, sizeof(*key));
        *key = json_integer_value(json_object_get(doc, "id"));
        json_object_set_new(doc, "collection", json_string(target->slug));
        apr_hash_set(by_id, key, sizeof(*key), doc);
    }
    json_array_foreach(docs, i, doc) {
        for (f = 0; f < c->nfields; f++) {
            json_t *v = json_object_get(doc, c->fields[f].name), *rel;
            json_int_t id;
            if (c->fields[f].relation_to != target || !json_is_integer(v)) {
                continue;
            }
            id = json_integer_value(v);
            rel = apr_hash_get(by_id, &id, sizeof(id));
            if (rel) {
                json_object_set(doc, c->fields[f].name, rel);
            }
        }
    }
    return 0;
}

int pchat_docs_populate(pchat_conn *conn, apr_pool_t *p,
                        const pchat_collection *c, json_t *docs, int depth)
{
    const pchat_collection *done[4];
    int f, n = 0, k, rv;

    if (depth < 1) {
        return 0;
    }
    for (f = 0; f < c->nfields; f++) {
        const pchat_collection *target = c->fields[f].relation_to;
        int seen = 0;
        if (!target) {
            continue;
        }
        for (k = 0; k < n; k++) {
            seen |= done[k] == target;
        }
        if (seen || n == 4) {
            continue;
        }
        done[n++] = target;
        rv = populate_target(conn, p, c, target, docs, depth);
        if (rv) {
            return rv;
        }
    }
    return 0;
}

json_t *pchat_docs_by_id(pchat_conn *conn, apr_pool_t *p,
                         const pchat_collection *c, apr_int64_t id, int depth,
                         int *rv)
{
    pchat_sql *where = pchat_sql_make(p, c->live ? c->live : "1=1");
    json_t *docs;

    pchat_sql_add(where, " AND id = ");
    pchat_sql_int(where, id);
    *rv = pchat_docs_select(conn, p, c, where, NULL, -1, 0, &docs);
    if (!*rv) {
        *rv = pchat_docs_populate(conn, p, c, docs, depth);
    }
    return *rv ? NULL : json_array_get(docs, 0);
}
