/* Collection endpoints: find, findByID, count, create, update, delete. */
#include "pchat_api.h"
#include "pchat_docs.h"
#include "pchat_changes.h"
#include "pchat_query.h"
#include "pchat_validate.h"
#include "pchat_password.h"
#include "pchat_time.h"
#include "pchat_shm.h"
#include "pchat_access.h"
#include "pchat_auth.h"

#define MSG_NOT_FOUND "Not Found"
#define MSG_SERVER_ERROR "Something went wrong."
/* the order of the docs of a bulk answer: Payload's default sort */
#define NEWEST_FIRST "created_at DESC, id DESC"

static int server_error(request_rec *r)
{
    return pchat_send_message_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                    MSG_SERVER_ERROR);
}

static int not_found(request_rec *r)
{
    return pchat_send_message_error(r, HTTP_NOT_FOUND, MSG_NOT_FOUND);
}

/* Every endpoint holds a connection only while it talks to the database. */
static pchat_conn *acquire(request_rec *r)
{
    return pchat_conn_acquire(r);
}

/* depth from the query string, for the endpoints that take only depth. */
static int depth_param(pchat_req *q, int *depth)
{
    pchat_query parsed;
    pchat_error *err = pchat_query_parse(q->r, q->coll, q->qs,
                                         pchat_access_hidden(q, q->coll),
                                         pchat_access_hidden(q, &pchat_users),
                                         &parsed);

    if (err) {
        pchat_send_error(q->r, err);
        return -1;
    }
    *depth = parsed.depth;
    return 0;
}

/* (where) AND cond */
static pchat_sql *both(apr_pool_t *p, const pchat_sql *where,
                       const pchat_sql *cond)
{
    pchat_sql *sql = pchat_sql_make(p, "(");

    pchat_sql_cat(sql, where);
    pchat_sql_add(sql, ") AND ");
    pchat_sql_cat(sql, cond);
    return sql;
}

/* where AND the caller's access filter for op. */
static pchat_error *scoped(pchat_req *q, pchat_op op, pchat_sql **where)
{
    pchat_sql *cond;
    pchat_error *err = pchat_access_filter(q, op, &cond);

    if (!err) {
        *where = both(q->r->pool, *where, cond);
    }
    return err;
}

/* The query parameters of a find or count, access filter included; a
 * caller the rules turn away gets the 403 before any work on the query. */
static pchat_error *parse_find(pchat_req *q, pchat_query *pq)
{
    pchat_sql *cond;
    pchat_error *err = pchat_access_filter(q, PCHAT_OP_READ, &cond);

    if (!err) {
        err = pchat_query_parse(q->r, q->coll, q->qs,
                                pchat_access_hidden(q, q->coll),
                                pchat_access_hidden(q, &pchat_users), pq);
    }
    if (!err) {
        pq->where = both(q->r->pool, pq->where, cond);
    }
    return err;
}

/* "id = <id of the path>" */
static pchat_sql *this_id(pchat_req *q)
{
    pchat_sql *sql = pchat_sql_make(q->r->pool, "id = ");

    pchat_sql_int(sql, q->id);
    return sql;
}

/* ---- find ------------------------------------------------------------------ */

/* pagination=false: Payload still applies a limit and page that were
 * given, counts only the docs it returns, and reports one page. */
json_t *pchat_api_envelope(json_t *docs, const pchat_query *pq,
                           apr_int64_t total)
{
    apr_int64_t limit = pq->limit;
    apr_int64_t pages = limit > 0 ? (total + limit - 1) / limit : 1;
    apr_int64_t page = pq->page;
    int has_prev = page > 1, has_next = page < pages;

    if (!pq->paginate) {
        total = (apr_int64_t)json_array_size(docs);
        pages = 1;
        has_prev = has_next = 0;
    }
    if (pages < 1) {
        pages = 1;
    }
    /* Keys in the order a running Payload prints them. */
    return json_pack("{s:O,s:b,s:b,s:I,s:o,s:I,s:I,s:o,s:I,s:I}",
                     "docs", docs,
                     "hasNextPage", has_next,
                     "hasPrevPage", has_prev,
                     "limit", (json_int_t)limit,
                     "nextPage", has_next ? json_integer(page + 1)
                                          : json_null(),
                     "page", (json_int_t)page,
                     "pagingCounter", (json_int_t)(pq->paginate
                                                   ? (page - 1) * limit + 1
                                                   : 1),
                     "prevPage", has_prev ? json_integer(page - 1)
                                          : json_null(),
                     "totalDocs", (json_int_t)total,
                     "totalPages", (json_int_t)pages);
}

static int run_find(pchat_conn *c, request_rec *r, const pchat_query *pq,
                    json_t **docs, apr_int64_t *total)
{
    apr_int64_t limit = pq->limit > 0 ? pq->limit : -1;
    apr_int64_t offset = limit > 0 ? (apr_int64_t)(pq->page - 1) * limit : 0;
    int rv = pchat_docs_count(c, r->pool, pq->coll, pq->where, total);

    *docs = pchat_json_own(r->pool, json_array());
    if (rv || *total == 0 || offset >= *total) {
        return rv;
    }
    rv = pchat_docs_select(c, r->pool, pq->coll, pq->where, pq->order, limit,
                           offset, docs);
    return rv ? rv : pchat_docs_populate(c, r->pool, pq->coll, *docs,
                                         pq->depth);
}

int pchat_api_find(pchat_req *q)
{
    pchat_query pq;
    pchat_error *err = parse_find(q, &pq);
    pchat_conn *c;
    json_t *docs;
    apr_int64_t total = 0;
    int rv;

    if (err) {
        return pchat_send_error(q->r, err);
    }
    if (!pq.paginate && !json_object_get(q->qs, "limit")) {
        pq.limit = 0;   /* no limit unless one was given */
    }
    if (!(c = acquire(q->r))) {
        return pchat_send_no_database(q->r);
    }
    rv = run_find(c, q->r, &pq, &docs, &total);
    pchat_conn_release(c);
    if (rv) {
        return server_error(q->r);
    }
    pchat_access_shape(q, q->coll, docs);
    pchat_query_select(q->r->pool, q->coll, q->qs, docs);   /* checked */
    return pchat_send_json(q->r, HTTP_OK,
                           pchat_api_envelope(docs, &pq, total));
}

int pchat_api_count(pchat_req *q)
{
    pchat_query pq;
    pchat_error *err = parse_find(q, &pq);
    pchat_conn *c;
    apr_int64_t total = 0;
    int rv;

    if (err) {
        return pchat_send_error(q->r, err);
    }
    if (!(c = acquire(q->r))) {
        return pchat_send_no_database(q->r);
    }
    rv = pchat_docs_count(c, q->r->pool, q->coll, pq.where, &total);
    pchat_conn_release(c);
    if (rv) {
        return server_error(q->r);
    }
    return pchat_send_json(q->r, HTTP_OK,
                           json_pack("{s:I}", "totalDocs", (json_int_t)total));
}

int pchat_api_find_by_id(pchat_req *q)
{
    pchat_sql *where = this_id(q);
    pchat_error *err = scoped(q, PCHAT_OP_READ, &where);
    pchat_conn *c;
    json_t *docs;
    int depth, rv;

    if (err) {
        return pchat_send_error(q->r, err);
    }
    if (depth_param(q, &depth)) {
        return OK;
    }
    if (!(c = acquire(q->r))) {
        return pchat_send_no_database(q->r);
    }
    rv = pchat_docs_select(c, q->r->pool, q->coll,
                           pchat_where_live(q->r->pool, q->coll, where), NULL,
                           1, 0, &docs);
    if (!rv) {
        rv = pchat_docs_populate(c, q->r->pool, q->coll, docs, depth);
    }
    pchat_conn_release(c);
    if (rv) {
        return server_error(q->r);
    }
    pchat_access_shape(q, q->coll, docs);
    pchat_query_select(q->r->pool, q->coll, q->qs, docs);   /* checked */
    return json_array_size(docs)
           ? pchat_send_json(q->r, HTTP_OK, json_incref(json_array_get(docs, 0)))
           : not_found(q->r);
}

/* Tells subscribers in every process that messages changed. */
static void changed(const pchat_collection *coll)
{
    if (coll->live) {
        pchat_shm_notify_change();
    }
}

/* ---- writes ---------------------------------------------------------------- */

/* Ids in values that reference no document: a ValidationError, or NULL. */
static pchat_error *check_relations(pchat_conn *c, request_rec *r,
                                    const pchat_collection *coll,
                                    const pchat_values *v, int *rv)
{
    json_t *errors = pchat_json_own(r->pool, json_array());
    int i;

    *rv = 0;
    for (i = 0; i < v->assigns->nelts && !*rv; i++) {
        const pchat_assign *a = &APR_ARRAY_IDX(v->assigns, i, pchat_assign);
        json_t *doc;
        if (a->field->type != PCHAT_FT_RELATION) {
            continue;
        }
        doc = pchat_docs_by_id(c, r->pool, a->field->relation_to, a->i, 0, rv);
        if (!doc && !*rv) {
            pchat_field_error(r->pool, errors, a->field, a->field->name,
                              apr_psprintf(r->pool, "This relationship field "
                                           "has the following invalid "
                                           "relationships: %" APR_INT64_T_FMT,
                                           a->i));
        }
    }
    return json_array_size(errors)
           ? pchat_validation_error(r->pool, coll, errors) : NULL;
}

static void bind_assign(pchat_sql *sql, const pchat_assign *a)
{
    if (a->is_int) {
        pchat_sql_int(sql, a->i);
    }
    else {
        pchat_sql_str(sql, a->s);
    }
}

/* Adds the hash and salt columns for a new password. */
static int add_password(request_rec *r, const pchat_collection *coll,
                        pchat_values *v)
{
    static const pchat_field hash = {"hash", "hash", "Hash", PCHAT_FT_TEXT,
                                     PCHAT_FF_HIDDEN, NULL};
    static const pchat_field salt = {"salt", "salt", "Salt", PCHAT_FT_TEXT,
                                     PCHAT_FF_HIDDEN, NULL};
    pchat_assign a = {&hash, 0, 0, NULL}, b = {&salt, 0, 0, NULL};

    if (!v->password) {
        return 0;
    }
    if (pchat_password_hash(r->pool, v->password, &b.s, &a.s)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PCHAT_LOGNO(00301)
                      "password hashing failed in libcrypto");
        return -1;
    }
    APR_ARRAY_PUSH(v->assigns, pchat_assign) = a;
    APR_ARRAY_PUSH(v->assigns, pchat_assign) = b;
    return 0;
}

/* " WHERE EXISTS (the related document) AND ...": an insert whose
 * relations are missing inserts nothing, so checking them costs no round
 * trip of its own under the write lock.  (Which one is missing is asked
 * only then: see insert_doc.) */
static void add_relations_exist(apr_pool_t *p, pchat_sql *sql,
                                const pchat_values *v)
{
    const char *glue = " WHERE ";
    int i;

    for (i = 0; i < v->assigns->nelts; i++) {
        const pchat_assign *a = &APR_ARRAY_IDX(v->assigns, i, pchat_assign);
        const pchat_collection *to = a->field->relation_to;
        pchat_sql *id_is;

        if (a->field->type != PCHAT_FT_RELATION) {
            continue;
        }
        id_is = pchat_sql_make(p, "id = ");
        pchat_sql_int(id_is, a->i);
        pchat_sql_add(sql, apr_pstrcat(p, glue, "EXISTS (SELECT 1 FROM ",
                                       to->table, " WHERE ", NULL));
        pchat_sql_cat(sql, pchat_where_live(p, to, id_is));
        pchat_sql_add(sql, ")");
        glue = " AND ";
    }
}

/* "INSERT INTO t (a, ..., created_at, updated_at) SELECT ?, ..., ?, ?
 * [WHERE the related documents exist] RETURNING id" */
static pchat_sql *insert_sql(apr_pool_t *p, const pchat_collection *coll,
                             const pchat_values *v, apr_int64_t now)
{
    pchat_sql *sql = pchat_sql_make(p, apr_pstrcat(p, "INSERT INTO ",
                                                   coll->table, " (", NULL));
    /* a createdAt the client gave is among the values */
    int given = pchat_values_get(v, pchat_field_find(coll, "createdAt"))
                != NULL;
    int i;

    for (i = 0; i < v->assigns->nelts; i++) {
        pchat_sql_add(sql, APR_ARRAY_IDX(v->assigns, i, pchat_assign).field
                           ->column);
        pchat_sql_add(sql, ", ");
    }
    if (coll->live) {
        pchat_changes_insert_column(sql);
    }
    pchat_sql_add(sql, given ? "updated_at) SELECT "
                             : "created_at, updated_at) SELECT ");
    for (i = 0; i < v->assigns->nelts; i++) {
        bind_assign(sql, &APR_ARRAY_IDX(v->assigns, i, pchat_assign));
        pchat_sql_add(sql, ", ");
    }
    if (coll->live) {
        pchat_changes_insert_value(sql);
    }
    if (!given) {
        pchat_sql_int(sql, now);
        pchat_sql_add(sql, ", ");
    }
    pchat_sql_int(sql, now);
    add_relations_exist(p, sql, v);
    pchat_sql_add(sql, " RETURNING id");
    return sql;
}

/* "UPDATE t SET a = ?, ..., updated_at = ? WHERE live AND id = ?
 * RETURNING id"; one row per statement, so each change gets its own seq. */
static pchat_sql *update_sql(apr_pool_t *p, const pchat_collection *coll,
                             const pchat_values *v, apr_int64_t id)
{
    pchat_sql *sql = pchat_sql_make(p, apr_pstrcat(p, "UPDATE ", coll->table,
                                                   " SET ", NULL));
    int i;

    for (i = 0; i < v->assigns->nelts; i++) {
        const pchat_assign *a = &APR_ARRAY_IDX(v->assigns, i, pchat_assign);
        pchat_sql_add(sql, apr_pstrcat(p, a->field->column, " = ", NULL));
        bind_assign(sql, a);
        pchat_sql_add(sql, ", ");
    }
    if (coll->live) {
        pchat_changes_update_set(sql);
    }
    pchat_sql_add(sql, "updated_at = ");
    pchat_sql_int(sql, pchat_now_ms());
    pchat_sql_add(sql, apr_pstrcat(p, " WHERE ", coll->live ? coll->live
                                   : "1=1", " AND id = ", NULL));
    pchat_sql_int(sql, id);
    pchat_sql_add(sql, " RETURNING id");
    return sql;
}

static pchat_error *unique_email(request_rec *r, const pchat_collection *coll)
{
    json_t *errors = pchat_json_own(r->pool, json_array());

    pchat_field_error(r->pool, errors, &pchat_login_email, "email",
                      "A user with the given email is already registered.");
    return pchat_validation_error(r->pool, coll, errors);
}

/* Runs a write that returns ids; *ids gets them, *err a client error. */
static int write_returning_ids(pchat_conn *c, request_rec *r,
                               const pchat_collection *coll,
                               const pchat_sql *sql, json_t **ids,
                               pchat_error **err)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    int rv = pchat_db_select(c, r->pool, sql, &res);

    *ids = pchat_json_own(r->pool, json_array());
    if (rv && pchat_db_is_unique_violation(c, rv)) {
        if (pchat_field_find(coll, "email")) {
            *err = unique_email(r, coll);
            return 0;
        }
        /* seq is the only other unique column: a writer outside the
         * module that took a number without the write lock */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PCHAT_LOGNO(00302)
                      "duplicate change number in %s: %s", coll->table,
                      pchat_db_error(c, rv));
    }
    if (rv) {
        return rv;
    }
    while (pchat_db_next_row(c, r->pool, res, &row)) {
        json_array_append_new(*ids, json_integer(
            apr_atoi64(pchat_db_entry(c, row, 0))));
    }
    return 0;
}

static int send_doc(pchat_req *q, int status, json_t *doc, const char *msg)
{
    return pchat_send_json(q->r, status,
                           json_pack("{s:O,s:s}", "doc", doc, "message", msg));
}

/* The docs with these ids, newest first, at depth. */
static int docs_by_ids(pchat_conn *c, request_rec *r,
                       const pchat_collection *coll, json_t *ids, int depth,
                       json_t **docs)
{
    pchat_sql *where = pchat_sql_make(r->pool, "id IN (");
    json_t *id;
    size_t i;
    int rv;

    if (!json_array_size(ids)) {
        *docs = pchat_json_own(r->pool, json_array());
        return 0;
    }
    json_array_foreach(ids, i, id) {
        pchat_sql_add(where, i ? ", " : "");
        pchat_sql_int(where, json_integer_value(id));
    }
    pchat_sql_add(where, ")");
    rv = pchat_docs_select(c, r->pool, coll, where, NEWEST_FIRST, -1, 0,
                           docs);
    return rv ? rv : pchat_docs_populate(c, r->pool, coll, *docs, depth);
}

/* A write: validated values, the access condition on the rows it may
 * touch, and a held connection. */
typedef struct {
    pchat_req *q;
    pchat_conn *c;
    pchat_values v;
    pchat_sql *allowed;
    int depth;
    int duplicating;     /* a create for POST /{id}/duplicate */
} pchat_write;

typedef int (*write_fn)(pchat_write *w);
static int update_many(pchat_write *w);
static int bulk_invalid(pchat_req *q, pchat_error *err);

static pchat_error *short_password(pchat_req *q, const pchat_values *v)
{
    int min = pchat_conf_password_min(q->r->server);
    json_t *errors;

    if (!v->password || (int)strlen(v->password) >= min) {
        return NULL;
    }
    errors = pchat_json_own(q->r->pool, json_array());
    pchat_field_error(q->r->pool, errors,
                      pchat_field_find(&pchat_users, "password"), "password",
                      apr_psprintf(q->r->pool, "This value must be longer "
                                   "than the minimum length of %d "
                                   "characters.", min));
    return pchat_validation_error(q->r->pool, q->coll, errors);
}

/* A sign-up with an email that is taken fails anyway: it is answered
 * without the cost of a hash.  *rv gets a database error. */
static pchat_error *email_taken(pchat_req *q, const pchat_values *v, int *rv)
{
    const pchat_field *f = pchat_field_find(q->coll, "email");
    const pchat_assign *a = f ? pchat_values_get(v, f) : NULL;
    pchat_sql *sql;
    pchat_conn *c;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    int taken = 0;

    if (!a || !a->s || !(c = acquire(q->r))) {
        return NULL;   /* (no connection: the write will say so) */
    }
    sql = pchat_sql_make(q->r->pool, apr_pstrcat(q->r->pool, "SELECT id FROM ",
                                                 q->coll->table,
                                                 " WHERE email = ", NULL));
    pchat_sql_str(sql, a->s);
    *rv = pchat_db_select(c, q->r->pool, sql, &res);
    while (!*rv && pchat_db_next_row(c, q->r->pool, res, &row)) {
        taken = 1;
    }
    pchat_conn_release(c);
    return taken ? unique_email(q->r, q->coll) : NULL;
}

/* Hashes the new password in v: counted against the client address's
 * limit, after a sign-up's email was found free, with a hashing slot held
 * and no connection.  DECLINED to go on, or the status of the answer sent. */
static int hash_new_password(pchat_req *q, int creating, pchat_values *v)
{
    pchat_error *err = pchat_auth_hash_allowed(q->r);
    int rv = 0;

    if (!err && creating) {
        err = email_taken(q, v, &rv);
    }
    if (err) {
        return pchat_send_error(q->r, err);
    }
    if (rv) {
        return server_error(q->r);
    }
    if (pchat_auth_hash_slot_acquire()) {
        return pchat_auth_busy(q->r);
    }
    rv = add_password(q->r, q->coll, v);
    pchat_auth_hash_slot_release();
    return rv ? server_error(q->r) : DECLINED;
}

/* A ValidationError of an update by id names the document, as Payload's
 * does: data {"id", "collection", "errors"}. */
static pchat_error *of_doc(pchat_req *q, pchat_error *err)
{
    json_t *data;

    if (!err || !q->id || !err->name || strcmp(err->name, "ValidationError")
        || !json_is_object(err->data)) {
        return err;
    }
    data = pchat_json_own(q->r->pool, json_pack("{s:I}", "id",
                                                (json_int_t)q->id));
    json_object_update(data, err->data);
    err->data = data;
    return err;
}

static int with_body_json(pchat_req *q, json_t *body, int creating,
                          pchat_op op, write_fn fn);

/* Reads, validates and authorises the body, hashes a password before
 * taking a connection (PBKDF2 is slow on purpose), then runs the write. */
static int with_body(pchat_req *q, int creating, pchat_op op, write_fn fn)
{
    json_t *body = NULL;
    pchat_error *err = pchat_read_json_body(q->r, &body);

    return err ? pchat_send_error(q->r, err)
               : with_body_json(q, body, creating, op, fn);
}

static int with_body_json(pchat_req *q, json_t *body, int creating,
                          pchat_op op, write_fn fn)
{
    pchat_write w = {q, NULL, {NULL, NULL}, NULL, 0, 0};
    pchat_error *err = pchat_access_filter(q, op, &w.allowed);
    int status;

    if (!err) {
        err = pchat_validate(q->r->pool, q->coll, body, creating, &w.v);
    }
    if (!err) {
        err = short_password(q, &w.v);
    }
    if (!err) {
        err = pchat_access_check_values(q, &w.v);
    }
    if (err && fn == update_many) {
        return bulk_invalid(q, err);
    }
    if (err) {
        return pchat_send_error(q->r, of_doc(q, err));
    }
    if (depth_param(q, &w.depth)) {
        return OK;
    }
    if (w.v.password
        && (status = hash_new_password(q, creating, &w.v)) != DECLINED) {
        return status;
    }
    if (!(w.c = acquire(q->r))) {
        return pchat_send_no_database(q->r);
    }
    status = fn(&w);
    pchat_conn_release(w.c);
    return status;
}

/* Ends the transaction of a write: commits when it went well and tells
 * subscribers of changes, rolls back otherwise.  Returns rv or the
 * commit's error. */
static int end_write(pchat_conn *c, int rv, int failed,
                     const pchat_collection *coll, size_t changes)
{
    if (rv || failed) {
        pchat_db_rollback(c);
        return rv;
    }
    rv = pchat_db_commit(c);
    if (!rv && changes) {
        changed(coll);
    }
    return rv;
}

/* Whether a one-statement write to the collection is a transaction by
 * itself: where taking a message's seq takes the write lock (PostgreSQL,
 * pchat_dialect.c).  Elsewhere a transaction takes the lock first, even for
 * one row. */
static int writes_alone(const pchat_write *w)
{
    return w->q->coll->live && pchat_db_seq_takes_lock(w->c);
}

/* end_write for a write that was one statement in autocommit. */
static int end_alone(const pchat_collection *coll, int rv, int failed,
                     size_t changes)
{
    if (!rv && !failed && changes) {
        changed(coll);
    }
    return rv;
}

/* Inserts the document; *id gets its id, *err a client error. */
static int insert_doc(pchat_write *w, apr_int64_t *id, pchat_error **err)
{
    json_t *ids;
    int rv;

    rv = write_returning_ids(w->c, w->q->r, w->q->coll,
                             insert_sql(w->q->r->pool, w->q->coll, &w->v,
                                        pchat_now_ms()), &ids, err);
    if (!*err && !rv && !json_array_size(ids)) {
        /* a related document is missing: say which */
        *err = check_relations(w->c, w->q->r, w->q->coll, &w->v, &rv);
        rv = rv ? rv : !*err;
    }
    if (!*err && !rv) {
        *id = json_integer_value(json_array_get(ids, 0));
    }
    return rv;
}

static int create(pchat_write *w)
{
    pchat_req *q = w->q;
    pchat_error *err = NULL;
    apr_int64_t id = 0;
    json_t *docs = NULL;
    int alone = writes_alone(w);
    int rv = alone ? 0 : pchat_db_begin(w->c);

    if (!rv) {
        rv = insert_doc(w, &id, &err);
        rv = alone ? end_alone(q->coll, rv, err != NULL, 1)
                   : end_write(w->c, rv, err != NULL, q->coll, 1);
    }
    if (!err && !rv) {
        rv = docs_by_ids(w->c, q->r, q->coll, pchat_json_own(
                         q->r->pool, json_pack("[I]", (json_int_t)id)),
                         w->depth, &docs);
    }
    if (err) {
        return pchat_send_error(q->r, err);
    }
    if (rv || !json_array_size(docs)) {
        return server_error(q->r);
    }
    pchat_access_shape(q, q->coll, docs);
    /* (Payload answers a duplicate with 200) */
    return send_doc(q, w->duplicating ? HTTP_OK : HTTP_CREATED,
                    json_array_get(docs, 0),
                    apr_pstrcat(q->r->pool, q->coll->singular,
                                w->duplicating ? " successfully duplicated."
                                               : " successfully created.",
                                NULL));
}

static int duplicate(pchat_write *w)
{
    w->duplicating = 1;
    return create(w);
}

/* The source message's fields under the body's. */
int pchat_api_duplicate(pchat_req *q)
{
    pchat_sql *where = this_id(q);
    pchat_error *err = scoped(q, PCHAT_OP_READ, &where);
    json_t *body = NULL, *docs = NULL, *v;
    const char *key;
    pchat_conn *c;
    int rv;

    if (!err) {
        err = pchat_read_json_body(q->r, &body);
    }
    if (err) {
        return pchat_send_error(q->r, err);
    }
    if (!(c = acquire(q->r))) {
        return pchat_send_no_database(q->r);
    }
    rv = pchat_docs_select(c, q->r->pool, q->coll,
                           pchat_where_live(q->r->pool, q->coll, where), NULL,
                           1, 0, &docs);
    pchat_conn_release(c);
    if (rv) {
        return server_error(q->r);
    }
    if (!json_array_size(docs)) {
        return not_found(q->r);
    }
    json_object_foreach(json_array_get(docs, 0), key, v) {
        const pchat_field *f = pchat_field_find(q->coll, key);
        if (f && !(f->flags & PCHAT_FF_READONLY)
            && !json_object_get(body, key)) {
            json_object_set(body, key, v);
        }
    }
    q->id = 0;
    return with_body_json(q, body, 1, PCHAT_OP_CREATE, duplicate);
}

int pchat_api_init(pchat_req *q)
{
    pchat_conn *c = acquire(q->r);
    apr_int64_t n = 0;
    int rv;

    if (!c) {
        return pchat_send_no_database(q->r);
    }
    rv = pchat_docs_count(c, q->r->pool, &pchat_users,
                          pchat_sql_make(q->r->pool, "1=1"), &n);
    pchat_conn_release(c);
    return rv ? server_error(q->r)
              : pchat_send_json(q->r, HTTP_OK,
                                json_pack("{s:b}", "initialized", n > 0));
}

/* Whether the caller may do op in coll, by the access rules. */
static int may(pchat_req *q, const pchat_collection *coll, pchat_op op)
{
    const pchat_collection *was = q->coll;
    pchat_sql *cond;
    pchat_error *err;

    q->coll = coll;
    err = pchat_access_filter(q, op, &cond);
    q->coll = was;
    /* users: in open mode only a logged-in user changes (their own) user */
    return !err && (coll != &pchat_users || op == PCHAT_OP_READ
                    || op == PCHAT_OP_CREATE || q->user);
}

int pchat_api_access(pchat_req *q)
{
    const pchat_collection *colls[] = {&pchat_users, &pchat_messages};
    json_t *out = json_object(), *all = json_object();
    size_t i;

    for (i = 0; i < sizeof(colls) / sizeof(colls[0]); i++) {
        json_object_set_new(all, colls[i]->slug, json_pack(
            "{s:b,s:b,s:b,s:b,s:b}", "fields", 1,
            "create", may(q, colls[i], PCHAT_OP_CREATE),
            "read", may(q, colls[i], PCHAT_OP_READ),
            "update", may(q, colls[i], PCHAT_OP_UPDATE),
            "delete", may(q, colls[i], PCHAT_OP_DELETE)));
    }
    json_object_set_new(out, "collections", all);
    json_object_set_new(out, "canAccessAdmin", json_false());
    return pchat_send_json(q->r, HTTP_OK, out);
}

int pchat_api_create(pchat_req *q)
{
    return with_body(q, 1, PCHAT_OP_CREATE, create);
}

/* POST /users/first-register: creates the first user and logs them in;
 * refused once any user exists. */
static int first_register(pchat_write *w)
{
    pchat_req *q = w->q;
    pchat_error *err = NULL;
    apr_int64_t n = 0, id = 0;
    int rv = pchat_db_begin(w->c);

    if (!rv) {
        rv = pchat_docs_count(w->c, q->r->pool, &pchat_users,
                              pchat_sql_make(q->r->pool, "1=1"), &n);
    }
    if (!rv && !n) {
        rv = insert_doc(w, &id, &err);
    }
    if (rv || err || n) {
        pchat_db_rollback(w->c);
    }
    else {
        rv = pchat_db_commit(w->c);
    }
    if (err || n) {
        return pchat_send_error(q->r, err ? err : pchat_forbidden(q->r->pool));
    }
    if (rv) {
        return server_error(q->r);
    }
    return pchat_auth_start_session(q, w->c, id, PCHAT_MSG_REGISTERED);
}

int pchat_api_first_register(pchat_req *q)
{
    pchat_error *err = pchat_auth_csrf_login(q->r);

    if (err) {
        return pchat_send_error(q->r, err);
    }
    q->coll = &pchat_users;
    return with_body(q, 1, PCHAT_OP_READ, first_register);
}

/* The ids of live documents matching where, in id order. */
static int matching_ids(pchat_conn *c, request_rec *r,
                        const pchat_collection *coll, const pchat_sql *where,
                        json_t **ids)
{
    pchat_sql *sql = pchat_sql_make(r->pool, apr_pstrcat(
        r->pool, "SELECT id FROM ", coll->table, " WHERE ", NULL));
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    int rv;

    pchat_sql_cat(sql, pchat_where_live(r->pool, coll, where));
    pchat_sql_add(sql, " ORDER BY id");
    rv = pchat_db_select(c, r->pool, sql, &res);
    *ids = pchat_json_own(r->pool, json_array());
    while (!rv && pchat_db_next_row(c, r->pool, res, &row)) {
        json_array_append_new(*ids, json_integer(
            apr_atoi64(pchat_db_entry(c, row, 0))));
    }
    return rv;
}

/* Updates each of ids in one transaction; *updated gets the ids that
 * still existed. */
static int update_ids(pchat_write *w, json_t *ids, json_t **updated,
                      pchat_error **err)
{
    pchat_req *q = w->q;
    json_t *id, *one;
    size_t i;
    int alone = json_array_size(ids) == 1 && writes_alone(w);
    int rv = alone ? 0 : pchat_db_begin(w->c);

    *updated = pchat_json_own(q->r->pool, json_array());
    json_array_foreach(ids, i, id) {
        if (rv || *err) {
            break;
        }
        rv = write_returning_ids(w->c, q->r, q->coll,
                                 update_sql(q->r->pool, q->coll, &w->v,
                                            json_integer_value(id)),
                                 &one, err);
        json_array_extend(*updated, one);
    }
    return alone ? end_alone(q->coll, rv, *err != NULL,
                             json_array_size(*updated))
                 : end_write(w->c, rv, *err != NULL, q->coll,
                             json_array_size(*updated));
}

/* Updates the documents matching where (and the access condition); *docs
 * gets them as they are now. */
static int update_where(pchat_write *w, pchat_sql *where, json_t **docs,
                        pchat_error **err)
{
    pchat_req *q = w->q;
    json_t *ids, *updated;
    int rv;

    *err = check_relations(w->c, q->r, q->coll, &w->v, &rv);
    if (*err || rv) {
        return rv;
    }
    if ((*err = scoped(q, PCHAT_OP_UPDATE, &where))) {
        return 0;
    }
    rv = matching_ids(w->c, q->r, q->coll, where, &ids);
    if (!rv) {
        rv = update_ids(w, ids, &updated, err);
    }
    if (!rv && !*err) {
        rv = docs_by_ids(w->c, q->r, q->coll, updated, w->depth, docs);
    }
    if (!rv && !*err) {
        pchat_access_shape(q, q->coll, *docs);
    }
    return rv;
}

/* A document that is not there: 404, or 403 where the access rules might
 * be what hides it (as Payload answers). */
static int missing(pchat_req *q)
{
    return pchat_access_restricted(q)
           ? pchat_send_error(q->r, pchat_forbidden(q->r->pool))
           : not_found(q->r);
}

static int update_by_id(pchat_write *w)
{
    pchat_error *err = NULL;
    json_t *docs = NULL;
    int rv = update_where(w, this_id(w->q), &docs, &err);

    if (err) {
        return pchat_send_error(w->q->r, err);
    }
    if (rv) {
        return server_error(w->q->r);
    }
    if (!json_array_size(docs)) {
        return missing(w->q);
    }
    return send_doc(w->q, HTTP_OK, json_array_get(docs, 0),
                    "Updated successfully.");
}

int pchat_api_update_by_id(pchat_req *q)
{
    return with_body(q, 0, PCHAT_OP_UPDATE, update_by_id);
}

static const char *count_message(apr_pool_t *p, const char *verb,
                                 const pchat_collection *coll, size_t n)
{
    return apr_psprintf(p, "%s %" APR_SIZE_T_FMT " %s successfully.", verb, n,
                        n == 1 ? coll->singular : coll->plural);
}

static int send_many(pchat_req *q, json_t *docs, const char *verb)
{
    return pchat_send_json(q->r, HTTP_OK, json_pack(
        "{s:O,s:[],s:s}", "docs", docs, "errors", "message",
        count_message(q->r->pool, verb, q->coll, json_array_size(docs))));
}

/* The compiled `where` of a bulk operation, which must have one. */
static pchat_error *bulk_where(pchat_req *q, pchat_sql **where)
{
    json_t *w = json_object_get(q->qs, "where");

    if (!json_is_object(w) || !json_object_size(w)) {
        return pchat_error_make(q->r->pool, HTTP_BAD_REQUEST, NULL, NULL,
                                "A where query is required to update or "
                                "delete several documents.");
    }
    return pchat_where_compile_for(q->r, q->coll, w,
                                   pchat_access_hidden(q, q->coll),
                                   pchat_access_hidden(q, &pchat_users), where);
}

static int update_many(pchat_write *w)
{
    pchat_sql *where = NULL;
    json_t *docs = NULL;
    int rv = 0;
    pchat_error *err = bulk_where(w->q, &where);

    if (!err) {
        rv = update_where(w, where, &docs, &err);
    }
    if (err) {
        return pchat_send_error(w->q->r, err);
    }
    return rv ? server_error(w->q->r) : send_many(w->q, docs, "Updated");
}

/* A bulk update whose values are invalid fails on every matching doc:
 * 400 {docs: [], errors: [{id, isPublic, message}], message}, as Payload
 * answers (none matching: as a valid update of nothing). */
static int bulk_invalid(pchat_req *q, pchat_error *invalid)
{
    pchat_sql *where = NULL;
    pchat_error *err = bulk_where(q, &where);
    json_t *ids = NULL, *errors, *id;
    pchat_conn *c;
    size_t i, n;
    int rv;

    if (!err) {
        err = scoped(q, PCHAT_OP_UPDATE, &where);
    }
    if (err || !invalid->name || strcmp(invalid->name, "ValidationError")) {
        return pchat_send_error(q->r, err ? err : invalid);
    }
    if (!(c = acquire(q->r))) {
        return pchat_send_no_database(q->r);
    }
    rv = matching_ids(c, q->r, q->coll, where, &ids);
    pchat_conn_release(c);
    if (rv) {
        return server_error(q->r);
    }
    if (!(n = json_array_size(ids))) {
        return send_many(q, pchat_json_own(q->r->pool, json_array()),
                         "Updated");
    }
    errors = json_array();
    for (i = n; i-- > 0;) {   /* newest first, as the docs would be */
        id = json_array_get(ids, i);
        json_array_append_new(errors, json_pack(
            "{s:O,s:b,s:s}", "id", id, "isPublic", 1,
            "message", invalid->message));
    }
    return pchat_send_json(q->r, HTTP_BAD_REQUEST, json_pack(
        "{s:[],s:o,s:s}", "docs", "errors", errors, "message",
        apr_psprintf(q->r->pool, "Unable to update %" APR_SIZE_T_FMT
                     " out of %" APR_SIZE_T_FMT " %s.", n, n,
                     n == 1 ? q->coll->singular : q->coll->plural)));
}

int pchat_api_update_many(pchat_req *q)
{
    return with_body(q, 0, PCHAT_OP_UPDATE, update_many);
}

/* Removes one document: messages become tombstones with the next seq (the
 * row stays, so a stream filter can still match the delete; no REST answer
 * shows it again), other collections lose the row. */
static pchat_sql *delete_sql(apr_pool_t *p, const pchat_collection *coll,
                             apr_int64_t id)
{
    pchat_sql *sql;

    if (coll->live) {
        return pchat_changes_tombstone(p, id, pchat_now_ms());
    }
    sql = pchat_sql_make(p, apr_pstrcat(p, "DELETE FROM ", coll->table,
                                        " WHERE id = ", NULL));
    pchat_sql_int(sql, id);
    return sql;
}

/* Whether a live message names user id as sender or receiver. */
static int has_messages(pchat_conn *c, apr_pool_t *p, json_int_t id,
                        int *found)
{
    pchat_sql *sql = pchat_sql_make(p, apr_pstrcat(
        p, "SELECT id FROM ", pchat_messages.table, " WHERE ",
        pchat_messages.live, " AND (sender = ", NULL));
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    int rv;

    pchat_sql_int(sql, id);
    pchat_sql_add(sql, " OR receiver = ");
    pchat_sql_int(sql, id);
    pchat_sql_add(sql, ") LIMIT 1");
    rv = pchat_db_select(c, p, sql, &res);
    *found = 0;
    while (!rv && pchat_db_next_row(c, p, res, &row)) {
        *found = 1;
    }
    return rv;
}

/* Reads the docs matching where at depth, then deletes them, all in one
 * transaction, so the response shows what was deleted.  A user who still
 * has messages is not deleted (*err): a message never names nobody. */
static int delete_where(pchat_conn *c, pchat_req *q, const pchat_sql *where,
                        int depth, json_t **docs, pchat_error **err)
{
    request_rec *r = q->r;
    json_t *doc = NULL;   /* (gcc -O2 with ASan: maybe-uninitialized) */
    json_int_t id = 0;
    size_t i;
    int nrows, found = 0, rv = pchat_db_begin(c);

    if (!rv) {
        rv = pchat_docs_select(c, r->pool, q->coll,
                               pchat_where_live(r->pool, q->coll, where),
                               NEWEST_FIRST, -1, 0, docs);
    }
    if (!rv) {
        rv = pchat_docs_populate(c, r->pool, q->coll, *docs, depth);
    }
    json_array_foreach(rv ? NULL : *docs, i, doc) {
        id = json_integer_value(json_object_get(doc, "id"));
        if (q->coll == &pchat_users
            && (rv = has_messages(c, r->pool, id, &found), rv || found)) {
            break;
        }
        if ((rv = pchat_db_exec(c, r->pool, delete_sql(r->pool, q->coll, id),
                                &nrows))) {
            break;
        }
    }
    if (found) {
        *err = pchat_error_make(r->pool, HTTP_CONFLICT, NULL, NULL,
                                apr_psprintf(r->pool, "User %" APR_INT64_T_FMT
                                             " still sends or receives "
                                             "messages; delete those first.",
                                             (apr_int64_t)id));
    }
    rv = end_write(c, rv, found, q->coll, rv ? 0 : json_array_size(*docs));
    if (!rv) {
        pchat_access_shape(q, q->coll, *docs);
    }
    return rv;
}

/* Runs a delete of the documents matching where (after access). */
static int run_delete(pchat_req *q, pchat_sql *where, json_t **docs,
                      int *status)
{
    pchat_error *err = scoped(q, PCHAT_OP_DELETE, &where);
    pchat_conn *c;
    int depth, rv;

    if (err) {
        *status = pchat_send_error(q->r, err);
        return -1;
    }
    if (depth_param(q, &depth)) {
        *status = OK;
        return -1;
    }
    if (!(c = acquire(q->r))) {
        *status = pchat_send_no_database(q->r);
        return -1;
    }
    rv = delete_where(c, q, where, depth, docs, &err);
    if (!rv && !err && q->coll->live) {
        pchat_changes_purge(q->r->server, c, q->r->pool);
    }
    pchat_conn_release(c);
    if (rv || err) {
        *status = err ? pchat_send_error(q->r, err) : server_error(q->r);
        return -1;
    }
    return 0;
}

int pchat_api_delete_by_id(pchat_req *q)
{
    json_t *docs;
    int status;

    if (run_delete(q, this_id(q), &docs, &status)) {
        return status;
    }
    if (!json_array_size(docs)) {
        return missing(q);
    }
    return send_doc(q, HTTP_OK, json_array_get(docs, 0),
                    "Deleted successfully.");
}

int pchat_api_delete_many(pchat_req *q)
{
    pchat_sql *where, *allowed;
    /* the 403 before any work on the query */
    pchat_error *err = pchat_access_filter(q, PCHAT_OP_DELETE, &allowed);
    json_t *docs;
    int status;

    if (!err) {
        err = bulk_where(q, &where);
    }
    if (err) {
        return pchat_send_error(q->r, err);
    }
    if (run_delete(q, where, &docs, &status)) {
        return status;
    }
    return send_many(q, docs, "Deleted");
}
