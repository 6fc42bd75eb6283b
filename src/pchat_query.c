/* Payload's query language: qs parsing, where/sort validation, SQL. */
#include <errno.h>
#include "apr_lib.h"
#include "pchat_query.h"
#include "pchat_config.h"
#include "pchat_time.h"

#define QS_MAX_PARAMS 1000   /* qs's parameterLimit */
#define QS_MAX_DEPTH 10      /* Payload parses with depth 10 */
#define WHERE_MAX_TERMS 200
#define LIST_MAX_VALUES 500
#define DEFAULT_LIMIT 10
#define DEFAULT_DEPTH 2
#define MAX_DEPTH 10

/* ---- qs ------------------------------------------------------------------ */

static pchat_error *bad_request(apr_pool_t *p, const char *message)
{
    return pchat_error_make(p, HTTP_BAD_REQUEST, NULL, NULL, message);
}

/* Splits "a[b][c]" into "a", "b", "c"; a key whose brackets do not close
 * is one literal name, as in qs. */
static apr_array_header_t *key_segments(apr_pool_t *p, char *key)
{
    apr_array_header_t *segs = apr_array_make(p, 4, sizeof(char *));
    char *open = strchr(key, '[');
    char *cur;

    if (open == key) {
        open = NULL;  /* "[a]=1" has no name: keep it literal */
    }
    APR_ARRAY_PUSH(segs, char *) = key;
    if (!open) {
        return segs;
    }
    for (cur = open; *cur == '['; ) {
        char *close = strchr(cur, ']');
        if (!close) {
            break;   /* the rest stays part of the previous segment */
        }
        *cur = '\0';
        *close = '\0';
        APR_ARRAY_PUSH(segs, char *) = cur + 1;
        cur = close + 1;
    }
    return segs;
}

static void set_leaf(json_t *node, const char *seg, const char *value)
{
    json_t *old = json_object_get(node, seg);

    if (!old) {
        json_object_set_new(node, seg, json_string(value));
    }
    else if (json_is_string(old)) {
        json_object_set_new(node, seg, json_pack("[Os]", old, value));
    }
    else if (json_is_array(old)) {
        json_array_append_new(old, json_string(value));
    }
    /* an object already there wins, as in qs */
}

/* Places value at the path of segments in root. */
static int qs_insert(json_t *root, apr_array_header_t *segs, const char *value)
{
    json_t *node = root;
    int i, n = segs->nelts;

    if (n > QS_MAX_DEPTH + 1) {
        return -1;
    }
    for (i = 0; i < n - 1; i++) {
        const char *seg = APR_ARRAY_IDX(segs, i, char *);
        json_t *next = json_object_get(node, seg);
        if (!next) {
            next = json_object();
            json_object_set_new(node, seg, next);
        }
        if (!json_is_object(next)) {
            return 0;   /* "a=1&a[b]=2": the scalar wins */
        }
        node = next;
    }
    if (!*APR_ARRAY_IDX(segs, n - 1, char *) && n > 1) {
        /* "a[]=x" appends: the next index of the container */
        set_leaf(node, apr_itoa(segs->pool, (int)json_object_size(node)),
                 value);
        return 0;
    }
    set_leaf(node, APR_ARRAY_IDX(segs, n - 1, char *), value);
    return 0;
}

static int valid_utf8(const char *text)
{
    json_t *probe = json_string(text);   /* jansson refuses invalid UTF-8 */

    json_decref(probe);
    return probe != NULL;
}

json_t *pchat_qs_parse(apr_pool_t *p, const char *args, pchat_error **err)
{
    json_t *root = pchat_json_own(p, json_object());
    char *copy, *pair, *state = NULL;
    int count = 0;

    *err = NULL;
    if (!args || !*args) {
        return root;
    }
    copy = apr_pstrdup(p, args);
    for (pair = apr_strtok(copy, "&", &state); pair;
         pair = apr_strtok(NULL, "&", &state)) {
        char *eq = strchr(pair, '=');
        /* "a" alone has an empty value: a writable one, as unescaping
         * writes in place */
        char *value = pair + strlen(pair);

        if (++count > QS_MAX_PARAMS) {
            *err = bad_request(p, "Too many query parameters.");
            return NULL;
        }
        if (eq) {
            *eq = '\0';
            value = eq + 1;
        }
        if (ap_unescape_urlencoded(pair) || ap_unescape_urlencoded(value)
            || !*pair) {
            *err = bad_request(p, "Malformed query string.");
            return NULL;
        }
        if (!valid_utf8(pair) || !valid_utf8(value)) {
            *err = bad_request(p, "Query string is not valid UTF-8.");
            return NULL;
        }
        if (qs_insert(root, key_segments(p, pair), value) < 0) {
            *err = bad_request(p, "Query string is nested too deeply.");
            return NULL;
        }
    }
    return root;
}

/* ---- values ---------------------------------------------------------------- */

/* A list in any of the forms qs and Payload accept: an array, an object
 * with numeric keys ({"0":..,"1":..}), or a comma-separated string. */
static json_t *as_list(apr_pool_t *p, json_t *v)
{
    json_t *list;

    if (json_is_array(v)) {
        return v;
    }
    list = pchat_json_own(p, json_array());
    if (json_is_string(v)) {
        char *copy = apr_pstrdup(p, json_string_value(v)), *state = NULL, *t;
        if (!*copy) {
            return list;
        }
        for (t = apr_strtok(copy, ",", &state); t;
             t = apr_strtok(NULL, ",", &state)) {
            json_array_append_new(list, json_string(t));
        }
    }
    else if (json_is_object(v)) {
        size_t i, n = json_object_size(v);
        for (i = 0; i < n; i++) {
            json_t *item = json_object_get(v, apr_itoa(p, (int)i));
            if (!item) {
                return NULL;   /* keys are not 0..n-1 */
            }
            json_array_append(list, item);
        }
    }
    else {
        json_array_append(list, v);
    }
    return list;
}

typedef struct {
    apr_pool_t *p;
    const pchat_collection *coll;
    json_t *bad_paths;      /* [{"path":...}] for the QueryError */
    pchat_error *err;       /* first other error */
    int terms;
    int max_depth;          /* and/or nesting allowed */
    int max_terms;          /* conditions allowed */
} where_ctx;

static void fail(where_ctx *cx, const char *fmt, const char *a, const char *b)
{
    if (!cx->err) {
        cx->err = bad_request(cx->p, apr_psprintf(cx->p, fmt, a, b));
    }
}

static const char *scalar_text(json_t *v)
{
    if (json_is_string(v)) {
        return json_string_value(v);
    }
    return NULL;
}

/* Binds one value coerced to the field's type. */
static int bind_value(where_ctx *cx, const pchat_field *f, json_t *v,
                      pchat_sql *sql)
{
    const char *text = scalar_text(v);
    apr_int64_t n;
    char *end;

    if (json_is_integer(v) && (f->type == PCHAT_FT_ID
                               || f->type == PCHAT_FT_RELATION)) {
        pchat_sql_int(sql, json_integer_value(v));
        return 0;
    }
    if (!text) {
        fail(cx, "The value of %s must be a single value.", f->name, NULL);
        return -1;
    }
    switch (f->type) {
    case PCHAT_FT_ID:
    case PCHAT_FT_RELATION:
        errno = 0;
        n = apr_strtoi64(text, &end, 10);
        if (!*text || *end || errno) {
            fail(cx, "The value of %s must be a number, got '%s'.", f->name,
                 text);
            return -1;
        }
        pchat_sql_int(sql, n);
        return 0;
    case PCHAT_FT_DATE:
        if (pchat_time_parse(text, &n)) {
            fail(cx, "The value of %s must be an ISO-8601 date, got '%s'.",
                 f->name, text);
            return -1;
        }
        pchat_sql_int(sql, n);
        return 0;
    default:
        pchat_sql_str(sql, text);
        return 0;
    }
}

static int is_text(const pchat_field *f)
{
    return f->type == PCHAT_FT_TEXT || f->type == PCHAT_FT_EMAIL;
}

/* "%word%" with LIKE's wildcards escaped by backslash. */
static const char *like_pattern(apr_pool_t *p, const char *word)
{
    char *out = apr_palloc(p, strlen(word) * 2 + 3), *o = out;

    *o++ = '%';
    for (; *word; word++) {
        if (*word == '%' || *word == '_' || *word == '\\') {
            *o++ = '\\';
        }
        *o++ = *word;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

static void add_like(pchat_sql *sql, const char *col, const char *pattern)
{
    pchat_sql_add(sql, apr_pstrcat(sql->pool, "LOWER(", col, ") LIKE LOWER(",
                                   NULL));
    pchat_sql_str(sql, pattern);
    pchat_sql_add(sql, ") ESCAPE '\\'");
}

static void compile_like(where_ctx *cx, const pchat_field *f, const char *text,
                         int all_words, pchat_sql *sql)
{
    char *copy = apr_pstrdup(cx->p, text), *state = NULL, *w;
    int n = 0;

    if (!all_words) {
        add_like(sql, f->column, like_pattern(cx->p, text));
        return;
    }
    pchat_sql_add(sql, "(");
    for (w = apr_strtok(copy, " \t\r\n", &state); w;
         w = apr_strtok(NULL, " \t\r\n", &state)) {
        pchat_sql_add(sql, n++ ? " AND " : "");
        add_like(sql, f->column, like_pattern(cx->p, w));
    }
    pchat_sql_add(sql, n ? ")" : "1=1)");
}

static void compile_list(where_ctx *cx, const pchat_field *f, const char *op,
                         json_t *value, pchat_sql *sql)
{
    json_t *list = as_list(cx->p, value), *item;
    size_t i;
    int negate = !strcmp(op, "not_in"), all = !strcmp(op, "all");

    if (!list || json_array_size(list) > LIST_MAX_VALUES) {
        fail(cx, "The %s list of %s is malformed or too long.", op, f->name);
        return;
    }
    if (json_array_size(list) == 0) {
        pchat_sql_add(sql, negate || all ? "1=1" : "1=0");
        return;
    }
    pchat_sql_add(sql, apr_pstrcat(cx->p, "(", f->column,
                                   all ? " = " : negate ? " NOT IN (" : " IN (",
                                   NULL));
    json_array_foreach(list, i, item) {
        if (i) {
            pchat_sql_add(sql, all ? apr_pstrcat(cx->p, " AND ", f->column,
                                                 " = ", NULL) : ", ");
        }
        if (bind_value(cx, f, item, sql)) {
            return;
        }
    }
    pchat_sql_add(sql, all ? ")" : "))");
}

static int parse_bool(const char *text, int *out)
{
    if (text && (!strcasecmp(text, "true") || !strcmp(text, "1"))) {
        *out = 1;
        return 0;
    }
    if (text && (!strcasecmp(text, "false") || !strcmp(text, "0"))) {
        *out = 0;
        return 0;
    }
    return -1;
}

static const char *comparison(const char *op)
{
    static const char *const ops[][2] = {
        {"equals", " = "}, {"not_equals", " <> "},
        {"greater_than", " > "}, {"greater_than_equal", " >= "},
        {"less_than", " < "}, {"less_than_equal", " <= "},
    };
    size_t i;

    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (!strcmp(op, ops[i][0])) {
            return ops[i][1];
        }
    }
    return NULL;
}

static void compile_operator(where_ctx *cx, const pchat_field *f,
                             const char *op, json_t *value, pchat_sql *sql)
{
    const char *cmp = comparison(op);
    int flag;

    if (cmp) {
        pchat_sql_add(sql, apr_pstrcat(cx->p, f->column, cmp, NULL));
        bind_value(cx, f, value, sql);
    }
    else if (!strcmp(op, "in") || !strcmp(op, "not_in")
             || !strcmp(op, "all")) {
        compile_list(cx, f, op, value, sql);
    }
    else if (!strcmp(op, "exists")) {
        if (parse_bool(scalar_text(value), &flag)) {
            fail(cx, "The exists operator on %s takes true or false.",
                 f->name, NULL);
            return;
        }
        pchat_sql_add(sql, apr_pstrcat(cx->p, f->column,
                                       flag ? " IS NOT NULL" : " IS NULL",
                                       NULL));
    }
    else if ((!strcmp(op, "like") || !strcmp(op, "contains")) && is_text(f)) {
        if (!scalar_text(value)) {
            fail(cx, "The value of %s must be a single value.", f->name, NULL);
            return;
        }
        compile_like(cx, f, scalar_text(value), !strcmp(op, "like"), sql);
    }
    else {
        json_array_append_new(cx->bad_paths, json_pack(
            "{s:s}", "path", apr_pstrcat(cx->p, f->name, ".", op, NULL)));
    }
}

static void compile_node(where_ctx *cx, json_t *where, pchat_sql *sql,
                         int depth);

static void compile_group(where_ctx *cx, const char *key, json_t *value,
                          pchat_sql *sql, int depth)
{
    json_t *list = as_list(cx->p, value), *item;
    size_t i;
    int is_or = !strcmp(key, "or");

    if (!list || !json_array_size(list)) {
        pchat_sql_add(sql, "1=1");
        return;
    }
    pchat_sql_add(sql, "(");
    json_array_foreach(list, i, item) {
        pchat_sql_add(sql, i ? (is_or ? " OR " : " AND ") : "");
        compile_node(cx, item, sql, depth + 1);
    }
    pchat_sql_add(sql, ")");
}

static void compile_field(where_ctx *cx, const char *path, json_t *ops,
                          pchat_sql *sql)
{
    const pchat_field *f = pchat_field_find(cx->coll, path);
    const char *op;
    json_t *value;
    int n = 0;

    if (!f || !pchat_field_readable(f)) {
        json_array_append_new(cx->bad_paths, json_pack("{s:s}", "path", path));
        pchat_sql_add(sql, "1=1");
        return;
    }
    if (!json_is_object(ops)) {
        fail(cx, "The condition on %s must name an operator, e.g. "
             "where[%s][equals]=...", path, path);
        return;
    }
    pchat_sql_add(sql, "(");
    json_object_foreach(ops, op, value) {
        if (++cx->terms > cx->max_terms) {
            fail(cx, apr_psprintf(cx->p, "The where query has more than %d "
                 "conditions (PayloadChatMaxWhereTerms).", cx->max_terms),
                 NULL, NULL);
            return;
        }
        pchat_sql_add(sql, n++ ? " AND " : "");
        compile_operator(cx, f, op, value, sql);
    }
    pchat_sql_add(sql, n ? ")" : "1=1)");
}

static void compile_node(where_ctx *cx, json_t *where, pchat_sql *sql,
                         int depth)
{
    const char *key;
    json_t *value;
    int n = 0;

    if (depth > cx->max_depth) {
        fail(cx, apr_psprintf(cx->p, "The where query is nested more than %d "
             "levels deep (PayloadChatMaxWhereDepth).", cx->max_depth),
             NULL, NULL);
        return;
    }
    if (!json_is_object(where)) {
        fail(cx, "A where clause must be an object of fields or and/or "
             "lists.", NULL, NULL);
        return;
    }
    pchat_sql_add(sql, "(");
    json_object_foreach(where, key, value) {
        pchat_sql_add(sql, n++ ? " AND " : "");
        if (!strcmp(key, "and") || !strcmp(key, "or")) {
            compile_group(cx, key, value, sql, depth);
        }
        else {
            compile_field(cx, key, value, sql);
        }
        if (cx->err) {
            return;
        }
    }
    pchat_sql_add(sql, n ? ")" : "1=1)");
}

static pchat_error *query_error(apr_pool_t *p, json_t *bad_paths)
{
    const char *list = "";
    json_t *item;
    size_t i;

    json_array_foreach(bad_paths, i, item) {
        list = apr_pstrcat(p, list, i ? ", " : "",
                           json_string_value(json_object_get(item, "path")),
                           NULL);
    }
    return pchat_error_make(p, HTTP_BAD_REQUEST, "QueryError",
                            json_incref(bad_paths), apr_psprintf(p,
                            "The following path%s cannot be queried: %s",
                            json_array_size(bad_paths) > 1 ? "s" : "", list));
}

pchat_error *pchat_where_compile(apr_pool_t *p, const pchat_collection *c,
                                 json_t *where, pchat_sql **out)
{
    return pchat_where_compile_limited(p, c, where, QS_MAX_DEPTH,
                                       WHERE_MAX_TERMS, out);
}

pchat_error *pchat_where_compile_for(request_rec *r,
                                     const pchat_collection *c, json_t *where,
                                     pchat_sql **out)
{
    return pchat_where_compile_limited(
        r->pool, c, where, pchat_conf_max_where_depth(r->server),
        pchat_conf_max_where_terms(r->server), out);
}

pchat_error *pchat_where_compile_limited(apr_pool_t *p,
                                         const pchat_collection *c,
                                         json_t *where, int max_depth,
                                         int max_terms, pchat_sql **out)
{
    where_ctx cx = {p, c, pchat_json_own(p, json_array()), NULL, 0,
                    max_depth, max_terms};

    *out = pchat_sql_make(p, "");
    if (!where) {
        pchat_sql_add(*out, "1=1");
        return NULL;
    }
    compile_node(&cx, where, *out, 0);
    if (cx.err) {
        return cx.err;
    }
    return json_array_size(cx.bad_paths) ? query_error(p, cx.bad_paths)
                                          : NULL;
}

pchat_sql *pchat_where_live(apr_pool_t *p, const pchat_collection *c,
                            const pchat_sql *where)
{
    pchat_sql *sql;

    if (!c->live) {
        return (pchat_sql *)where;
    }
    sql = pchat_sql_make(p, apr_pstrcat(p, c->live, " AND ", NULL));
    pchat_sql_cat(sql, where);
    return sql;
}

/* ---- sort and paging -------------------------------------------------------- */

/* Unknown sort fields are an error here (Payload ignores them silently,
 * which hides typos). */
static pchat_error *compile_sort(apr_pool_t *p, const pchat_collection *c,
                                 json_t *sort, const char **out)
{
    json_t *list = sort ? as_list(p, sort) : NULL, *item;
    json_t *bad = pchat_json_own(p, json_array());
    const char *order = "";
    int has_created = 0, has_id = 0;
    size_t i;

    if (!list || !json_array_size(list)) {
        list = pchat_json_own(p, json_pack("[s]", "-createdAt"));
    }
    json_array_foreach(list, i, item) {
        const char *name = scalar_text(item);
        int desc = name && *name == '-';
        const pchat_field *f;

        if (!name || !*name) {
            continue;
        }
        f = pchat_field_find(c, desc || *name == '+' ? name + 1 : name);
        if (!f || !pchat_field_readable(f)) {
            json_array_append_new(bad, json_pack("{s:s}", "path", name));
            continue;
        }
        has_created |= !strcmp(f->name, "createdAt");
        has_id |= f->type == PCHAT_FT_ID;
        order = apr_pstrcat(p, order, *order ? ", " : "", f->column,
                            desc ? " DESC" : " ASC", NULL);
    }
    if (!has_created && !has_id) {
        order = apr_pstrcat(p, order, *order ? ", " : "", "created_at DESC",
                            NULL);
    }
    if (!has_id) {
        order = apr_pstrcat(p, order, ", id DESC", NULL);
    }
    *out = order;
    return json_array_size(bad) ? query_error(p, bad) : NULL;
}

/* A whole number in [min, max] from a query value, or -1. */
static int query_int(json_t *v, int min, int max, int *out)
{
    const char *text = scalar_text(v);
    apr_int64_t n;
    char *end;

    if (!text) {
        return -1;
    }
    errno = 0;
    n = apr_strtoi64(text, &end, 10);
    if (!*text || *end || errno || n < min || n > max) {
        return -1;
    }
    *out = (int)n;
    return 0;
}

pchat_error *pchat_query_parse(request_rec *r, const pchat_collection *c,
                               json_t *qs, pchat_query *q)
{
    apr_pool_t *p = r->pool;
    int max_limit = pchat_conf_max_limit(r->server);
    json_t *v;
    pchat_error *err;

    q->coll = c;
    q->limit = DEFAULT_LIMIT;
    q->page = 1;
    q->paginate = 1;
    q->depth = DEFAULT_DEPTH;
    if ((v = json_object_get(qs, "limit"))
        && query_int(v, 0, max_limit, &q->limit)) {
        return bad_request(p, apr_psprintf(p, "limit must be a whole number "
                                           "from 0 to %d.", max_limit));
    }
    if ((v = json_object_get(qs, "page"))
        && query_int(v, 1, 1000000000, &q->page)) {
        return bad_request(p, "page must be a whole number from 1.");
    }
    if ((v = json_object_get(qs, "depth"))
        && query_int(v, 0, MAX_DEPTH, &q->depth)) {
        return bad_request(p, apr_psprintf(p, "depth must be a whole number "
                                           "from 0 to %d.", MAX_DEPTH));
    }
    if ((v = json_object_get(qs, "pagination"))) {
        int flag;
        if (parse_bool(scalar_text(v), &flag)) {
            return bad_request(p, "pagination must be true or false.");
        }
        q->paginate = flag;
    }
    err = pchat_where_compile_for(r, c, json_object_get(qs, "where"),
                                  &q->where);
    if (err) {
        return err;
    }
    q->where = pchat_where_live(p, c, q->where);
    return compile_sort(p, c, json_object_get(qs, "sort"), &q->order);
}

int pchat_cursor_parse(const char *text, apr_int64_t *cursor)
{
    const char *c;

    for (c = text; *c; c++) {
        if (!apr_isdigit(*c)) {
            return -1;
        }
    }
    if (!*text || c - text > 18) {   /* fits an apr_int64_t */
        return -1;
    }
    *cursor = apr_atoi64(text);
    return 0;
}
