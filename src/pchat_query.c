/* Payload's query language: qs parsing, where/sort validation, SQL. */
#include <errno.h>
#include "apr_lib.h"
#include "apr_hash.h"
#include "pchat_query.h"
#include "pchat_config.h"
#include "pchat_time.h"

#define QS_MAX_PARAMS 1000   /* qs's parameterLimit */
#define QS_MAX_DEPTH 10      /* Payload parses with depth 10 */
#define QS_ARRAY_LIMIT 1000  /* and arrayLimit 1000: a larger index is a key */
#define WHERE_MAX_TERMS 200  /* PayloadChatMaxWhereTerms at most */
#define LIST_MAX_VALUES 500  /* in one in/not_in/all list */
#define WHERE_MAX_VALUES 1000 /* bound in one where (sqlite allows 32,766) */
#define LIKE_MAX_WORDS 100   /* in one like */
#define SORT_MAX_FIELDS 10   /* named in one sort */
#define DEFAULT_LIMIT 10
#define DEFAULT_DEPTH 2
#define MAX_DEPTH 10

/* ---- qs ------------------------------------------------------------------ */

static pchat_error *bad_request(apr_pool_t *p, const char *message)
{
    return pchat_error_make(p, HTTP_BAD_REQUEST, NULL, NULL, message);
}

/* A value as qs's parse builds it, before it becomes JSON: arrays keep
 * their indexes, sparse until the end, when they are compacted (qs's
 * `compact`), so "a[3]=x&a[7]=y" is ["x","y"] as in Payload. */
typedef enum { QS_STRING, QS_TRUE, QS_ARRAY, QS_OBJECT } qs_kind;
typedef struct qs_node qs_node;
typedef struct {
    const char *key;     /* of an object's member */
    int index;           /* of an array's element: ascending */
    qs_node *val;
} qs_item;
struct qs_node {
    qs_kind kind;
    const char *text;            /* QS_STRING */
    apr_array_header_t *items;   /* of qs_item, in containers */
};

static qs_node *qs_new(apr_pool_t *p, qs_kind kind, const char *text)
{
    qs_node *n = apr_palloc(p, sizeof(*n));

    n->kind = kind;
    n->text = text;
    n->items = kind == QS_ARRAY || kind == QS_OBJECT
               ? apr_array_make(p, 2, sizeof(qs_item)) : NULL;
    return n;
}

static int qs_container(const qs_node *n)
{
    return n->items != NULL;
}

static qs_item *qs_at(const qs_node *n, int i)
{
    return &APR_ARRAY_IDX(n->items, i, qs_item);
}

/* Where index is or would go in an array (binary search). */
static int qs_slot(const qs_node *a, int index, int *found)
{
    int lo = 0, hi = a->items->nelts;

    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (qs_at(a, mid)->index < index) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    *found = lo < a->items->nelts && qs_at(a, lo)->index == index;
    return lo;
}

/* a[index] = val */
static void qs_set_index(qs_node *a, int index, qs_node *val)
{
    int found, at = qs_slot(a, index, &found);
    qs_item *item;

    if (found) {
        qs_at(a, at)->val = val;
        return;
    }
    apr_array_push(a->items);
    item = qs_at(a, at);
    memmove(item + 1, item, (a->items->nelts - 1 - at) * sizeof(*item));
    item->key = NULL;
    item->index = index;
    item->val = val;
}

/* JavaScript's push: after the highest index. */
static void qs_push(qs_node *a, qs_node *val)
{
    int n = a->items->nelts;

    qs_set_index(a, n ? qs_at(a, n - 1)->index + 1 : 0, val);
}

static qs_item *qs_member(const qs_node *o, const char *key)
{
    int i;

    for (i = 0; i < o->items->nelts; i++) {
        if (!strcmp(qs_at(o, i)->key, key)) {
            return qs_at(o, i);
        }
    }
    return NULL;
}

/* o[key] = val */
static void qs_set_key(qs_node *o, const char *key, qs_node *val)
{
    qs_item *item = qs_member(o, key);

    if (!item) {
        item = apr_array_push(o->items);
        item->key = key;
        item->index = 0;
    }
    item->val = val;
}

/* An item's key in an object: an array's index becomes one (qs's
 * arrayToObject). */
static const char *qs_key_of(apr_pool_t *p, const qs_node *n, int i)
{
    return n->kind == QS_ARRAY ? apr_itoa(p, qs_at(n, i)->index)
                               : qs_at(n, i)->key;
}

/* qs's utils.merge: source into target, returning the result. */
static qs_node *qs_merge(apr_pool_t *p, qs_node *target, qs_node *source)
{
    qs_node *list;
    int i;

    if (source->kind == QS_STRING && !*source->text) {
        return target;   /* `if (!source)` */
    }
    if (!qs_container(source)) {
        if (target->kind == QS_ARRAY) {
            qs_push(target, source);
            return target;
        }
        if (target->kind == QS_OBJECT) {
            qs_set_key(target, source->text, qs_new(p, QS_TRUE, NULL));
            return target;
        }
        list = qs_new(p, QS_ARRAY, NULL);
        qs_push(list, target);
        qs_push(list, source);
        return list;
    }
    if (!qs_container(target)) {
        /* [target].concat(source) */
        list = qs_new(p, QS_ARRAY, NULL);
        qs_push(list, target);
        if (source->kind == QS_ARRAY) {
            for (i = 0; i < source->items->nelts; i++) {
                qs_set_index(list, qs_at(source, i)->index + 1,
                             qs_at(source, i)->val);
            }
        }
        else {
            qs_push(list, source);
        }
        return list;
    }
    if (target->kind == QS_ARRAY && source->kind == QS_ARRAY) {
        for (i = 0; i < source->items->nelts; i++) {
            qs_item *from = qs_at(source, i);
            int found, at = qs_slot(target, from->index, &found);
            if (!found) {
                qs_set_index(target, from->index, from->val);
            }
            else if (qs_container(qs_at(target, at)->val)
                     && qs_container(from->val)) {
                qs_node *merged = qs_merge(p, qs_at(target, at)->val,
                                           from->val);
                qs_at(target, at)->val = merged;
            }
            else {
                qs_push(target, from->val);
            }
        }
        return target;
    }
    if (target->kind == QS_ARRAY) {
        list = qs_new(p, QS_OBJECT, NULL);
        for (i = 0; i < target->items->nelts; i++) {
            qs_set_key(list, qs_key_of(p, target, i), qs_at(target, i)->val);
        }
        target = list;
    }
    for (i = 0; i < source->items->nelts; i++) {
        const char *key = qs_key_of(p, source, i);
        qs_item *item = qs_member(target, key);
        if (item) {
            qs_node *merged = qs_merge(p, item->val, qs_at(source, i)->val);
            item->val = merged;
        }
        else {
            qs_set_key(target, key, qs_at(source, i)->val);
        }
    }
    return target;
}

/* An array index as qs takes one: "0" or digits without a leading zero,
 * at most QS_ARRAY_LIMIT; -1 for anything else (an object key). */
static int qs_index(const char *text)
{
    int n = 0;
    const char *c;

    if (!*text || (text[0] == '0' && text[1])) {
        return -1;
    }
    for (c = text; *c; c++) {
        if (!apr_isdigit(*c) || c - text >= 4) {
            return -1;
        }
        n = n * 10 + (*c - '0');
    }
    return n <= QS_ARRAY_LIMIT ? n : -1;
}

/* qs's parseObject: the node for the segments of a key ("where", "[or]",
 * "[0]", ...) holding leaf. */
static qs_node *qs_object(apr_pool_t *p, apr_array_header_t *segs,
                          qs_node *leaf)
{
    int i;

    for (i = segs->nelts - 1; i >= 0; i--) {
        const char *root = APR_ARRAY_IDX(segs, i, const char *);
        size_t len = strlen(root);
        qs_node *obj;

        if (!strcmp(root, "[]")) {
            /* [].concat(leaf) */
            obj = leaf->kind == QS_ARRAY ? leaf : qs_new(p, QS_ARRAY, NULL);
            if (obj != leaf) {
                qs_push(obj, leaf);
            }
        }
        else {
            int bracketed = len >= 2 && root[0] == '[' && root[len - 1] == ']';
            const char *clean = bracketed ? apr_pstrmemdup(p, root + 1, len - 2)
                                          : root;
            int index = bracketed ? qs_index(clean) : -1;
            if (index >= 0) {
                obj = qs_new(p, QS_ARRAY, NULL);
                qs_set_index(obj, index, leaf);
            }
            else {
                obj = qs_new(p, QS_OBJECT, NULL);
                if (strcmp(clean, "__proto__")) {
                    qs_set_key(obj, clean, leaf);
                }
            }
        }
        leaf = obj;
    }
    return leaf;
}

/* The next "[...]" at or after s with no bracket inside (qs's
 * /\[[^[\]]*]/), or NULL; *end is just past it. */
static const char *next_brackets(const char *s, const char **end)
{
    const char *open = strchr(s, '[');

    while (open) {
        const char *c = open + 1;
        while (*c && *c != '[' && *c != ']') {
            c++;
        }
        if (*c == ']') {
            *end = c + 1;
            return open;
        }
        open = *c ? c : NULL;   /* another '[' first: start from it */
    }
    return NULL;
}

/* qs's parseKeys: "a[b][c]" -> "a", "[b]", "[c]"; text outside brackets
 * after the first is skipped, as qs does.  NULL when there are more than
 * QS_MAX_DEPTH segments (qs would keep the rest as one odd key). */
static apr_array_header_t *key_segments(apr_pool_t *p, const char *key)
{
    apr_array_header_t *segs = apr_array_make(p, 4, sizeof(char *));
    const char *end, *seg = next_brackets(key, &end), *pos = key;
    int n = 0;

    if (!seg || seg > key) {
        APR_ARRAY_PUSH(segs, const char *) =
            seg ? apr_pstrmemdup(p, key, seg - key) : key;
    }
    while ((seg = next_brackets(pos, &end))) {
        if (++n > QS_MAX_DEPTH) {
            return NULL;
        }
        APR_ARRAY_PUSH(segs, const char *) = apr_pstrmemdup(p, seg, end - seg);
        pos = end;
    }
    return segs;
}

/* The tree as JSON, arrays compacted. */
static json_t *qs_json(const qs_node *n)
{
    json_t *out;
    int i;

    switch (n->kind) {
    case QS_STRING:
        return json_string(n->text);
    case QS_TRUE:
        return json_true();
    case QS_ARRAY:
        out = json_array();
        for (i = 0; i < n->items->nelts; i++) {
            json_array_append_new(out, qs_json(qs_at(n, i)->val));
        }
        return out;
    default:
        out = json_object();
        for (i = 0; i < n->items->nelts; i++) {
            json_object_set_new(out, qs_at(n, i)->key,
                                qs_json(qs_at(n, i)->val));
        }
        return out;
    }
}

static int valid_utf8(const char *text)
{
    json_t *probe = json_string(text);   /* jansson refuses invalid UTF-8 */

    json_decref(probe);
    return probe != NULL;
}

/* A key's values in order of appearance (qs's parseValues): one string, or
 * an array of them when the key repeats. */
typedef struct {
    const char *key;
    qs_node *value;
} qs_pair;

json_t *pchat_qs_parse(apr_pool_t *p, const char *args, pchat_error **err)
{
    apr_array_header_t *pairs = apr_array_make(p, 8, sizeof(qs_pair));
    apr_hash_t *seen = apr_hash_make(p);
    qs_node *root = qs_new(p, QS_OBJECT, NULL);
    char *copy, *part, *state = NULL;
    int count = 0, i;

    *err = NULL;
    if (!args || !*args) {
        return pchat_json_own(p, json_object());
    }
    copy = apr_pstrdup(p, args);
    for (part = apr_strtok(copy, "&", &state); part;
         part = apr_strtok(NULL, "&", &state)) {
        /* "a[b=c]=d" is the key "a[b=c]", as in qs */
        char *eq = strstr(part, "]=");
        /* "a" alone has an empty value: a writable one, as unescaping
         * writes in place */
        char *value = part + strlen(part);
        qs_pair *pair;
        apr_uintptr_t at;

        if (++count > QS_MAX_PARAMS) {
            *err = bad_request(p, apr_psprintf(p, "The query string has more "
                                               "than %d parameters.",
                                               QS_MAX_PARAMS));
            return NULL;
        }
        eq = eq ? eq + 1 : strchr(part, '=');
        if (eq) {
            *eq = '\0';
            value = eq + 1;
        }
        if (ap_unescape_urlencoded(part) || ap_unescape_urlencoded(value)
            || !*part) {
            *err = bad_request(p, "Malformed query string.");
            return NULL;
        }
        if (!valid_utf8(part) || !valid_utf8(value)) {
            *err = bad_request(p, "Query string is not valid UTF-8.");
            return NULL;
        }
        /* the hash holds 1 + the pair's index */
        at = (apr_uintptr_t)apr_hash_get(seen, part, APR_HASH_KEY_STRING);
        if (!at) {
            pair = apr_array_push(pairs);
            pair->key = part;
            pair->value = qs_new(p, QS_STRING, value);
            apr_hash_set(seen, part, APR_HASH_KEY_STRING,
                         (void *)(apr_uintptr_t)pairs->nelts);
            continue;
        }
        pair = &APR_ARRAY_IDX(pairs, at - 1, qs_pair);
        if (pair->value->kind == QS_STRING) {
            /* utils.combine */
            qs_node *list = qs_new(p, QS_ARRAY, NULL);
            qs_push(list, pair->value);
            pair->value = list;
        }
        qs_push(pair->value, qs_new(p, QS_STRING, value));
    }
    for (i = 0; i < pairs->nelts; i++) {
        qs_pair *pair = &APR_ARRAY_IDX(pairs, i, qs_pair);
        apr_array_header_t *segs = key_segments(p, pair->key);
        if (!segs) {
            *err = bad_request(p, apr_psprintf(p, "The query string is nested "
                                               "more than %d levels deep.",
                                               QS_MAX_DEPTH));
            return NULL;
        }
        root = qs_merge(p, root, qs_object(p, segs, pair->value));
    }
    return pchat_json_own(p, qs_json(root));
}

/* ---- values ---------------------------------------------------------------- */

/* A list of an in/not_in/all: an array (qs's a[]=x, a[0]=x, repeated
 * keys) or a comma-separated string; NULL for anything else. */
static json_t *as_list(apr_pool_t *p, json_t *v)
{
    json_t *list;
    char *copy, *state = NULL, *t;

    if (json_is_array(v)) {
        return v;
    }
    if (!json_is_string(v)) {
        return NULL;
    }
    list = pchat_json_own(p, json_array());
    copy = apr_pstrdup(p, json_string_value(v));
    for (t = apr_strtok(copy, ",", &state); t;
         t = apr_strtok(NULL, ",", &state)) {
        json_array_append_new(list, json_string(t));
    }
    return list;
}

typedef struct {
    apr_pool_t *p;
    const pchat_collection *coll;
    apr_array_header_t *bad_paths;   /* of const char *, for the QueryError */
    pchat_error *err;       /* first other error */
    int terms;              /* comparisons so far */
    int values;             /* bound values so far */
    int max_depth;          /* and/or nesting allowed */
    int max_terms;          /* comparisons allowed */
    unsigned hidden;        /* fields the caller may not query */
    unsigned rel_hidden;    /* ...and of the users a relation names */
} where_ctx;

static void fail(where_ctx *cx, const char *fmt, const char *a, const char *b)
{
    if (!cx->err) {
        cx->err = bad_request(cx->p, apr_psprintf(cx->p, fmt, a, b));
    }
}

/* Counts n more comparisons; -1 (and the error) beyond the limit.  Each
 * is one node of the SQL expression: sqlite refuses trees deeper than
 * 1,000 ("Expression tree is too large"). */
static int count_terms(where_ctx *cx, int n)
{
    if ((cx->terms += n) > cx->max_terms) {
        fail(cx, apr_psprintf(cx->p, "The where query has more than %d "
                              "conditions (PayloadChatMaxWhereTerms).",
                              cx->max_terms), NULL, NULL);
        return -1;
    }
    return 0;
}

/* Counts n more bound values; -1 beyond WHERE_MAX_VALUES. */
static int count_values(where_ctx *cx, int n)
{
    if ((cx->values += n) > WHERE_MAX_VALUES) {
        fail(cx, apr_psprintf(cx->p, "The where query has more than %d "
                              "values.", WHERE_MAX_VALUES), NULL, NULL);
        return -1;
    }
    return 0;
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

    if (!text) {
        fail(cx, "The value of %s must be a single value.", f->name, NULL);
        return -1;
    }
    if (count_values(cx, 1)) {
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

static int is_number_field(const pchat_field *f)
{
    return f->type == PCHAT_FT_ID || f->type == PCHAT_FT_RELATION;
}

static int is_integer(const char *text)
{
    apr_int64_t n;
    char *end;

    errno = 0;
    n = apr_strtoi64(text, &end, 10);
    (void)n;
    return *text && !*end && !errno;
}

/* like/contains on a date: Payload matches the stored ISO text, which
 * holds a whole date as the API writes it iff it equals it; a part of one
 * ("2026-01", "10:02") is refused rather than guessed. */
static void compile_date_like(where_ctx *cx, const pchat_field *f,
                              const char *text, pchat_sql *sql)
{
    char iso[PCHAT_ISO_LEN];
    apr_int64_t ms;

    if (pchat_time_parse(text, &ms) || (pchat_time_format(iso, ms),
                                        strcmp(iso, text))) {
        fail(cx, "A like or contains on %s takes a whole date as the API "
             "writes it (2026-01-31T12:00:00.000Z), got '%s'.", f->name,
             text);
        return;
    }
    if (count_values(cx, 1)) {
        return;
    }
    pchat_sql_addv(sql, f->column, " = ", NULL);
    pchat_sql_int(sql, ms);
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

static int add_like(where_ctx *cx, pchat_sql *sql, const char *col,
                    const char *word)
{
    if (count_values(cx, 1)) {
        return -1;
    }
    pchat_sql_addv(sql, "LOWER(", col, ") LIKE LOWER(", NULL);
    pchat_sql_str(sql, like_pattern(cx->p, word));
    pchat_sql_add(sql, ") ESCAPE '\\'");
    return 0;
}

/* like: every word, each a comparison of its own. */
static void compile_like(where_ctx *cx, const pchat_field *f, const char *text,
                         int all_words, pchat_sql *sql)
{
    char *copy = apr_pstrdup(cx->p, text), *state = NULL, *w;
    /* ids and relations match as their decimal text, as Payload's */
    const char *col = is_number_field(f)
                      ? apr_pstrcat(cx->p, "CAST(", f->column, " AS TEXT)",
                                    NULL)
                      : f->column;
    int n = 0;

    if (!all_words) {
        add_like(cx, sql, col, text);
        return;
    }
    pchat_sql_add(sql, "(");
    for (w = apr_strtok(copy, " \t\r\n", &state); w;
         w = apr_strtok(NULL, " \t\r\n", &state)) {
        if (++n > LIKE_MAX_WORDS) {
            fail(cx, apr_psprintf(cx->p, "The like value of %%s has more "
                                  "than %d words.", LIKE_MAX_WORDS),
                 f->name, NULL);
            return;
        }
        /* the operator itself counted as the first */
        if ((n > 1 && count_terms(cx, 1))) {
            return;
        }
        pchat_sql_add(sql, n > 1 ? " AND " : "");
        if (add_like(cx, sql, col, w)) {
            return;
        }
    }
    if (!n) {
        /* it would match every text: a condition that constrains nothing
         * is refused, as it would turn a bulk write on all */
        fail(cx, "The like value of %s has no words.", f->name, NULL);
        return;
    }
    pchat_sql_add(sql, ")");
}

static void compile_list(where_ctx *cx, const pchat_field *f, const char *op,
                         json_t *value, pchat_sql *sql)
{
    json_t *list = as_list(cx->p, value), *item;
    size_t i, n = list ? json_array_size(list) : 0;
    int negate = !strcmp(op, "not_in"), all = !strcmp(op, "all");

    if (!list) {
        fail(cx, "The %s value of %s must be a list (comma-separated or "
             "repeated).", op, f->name);
        return;
    }
    if (n > LIST_MAX_VALUES) {
        fail(cx, apr_psprintf(cx->p, "The %%s list of %%s has more than %d "
                              "values.", LIST_MAX_VALUES), op, f->name);
        return;
    }
    /* all is a comparison per value */
    if (all && n > 1 && count_terms(cx, (int)n - 1)) {
        return;
    }
    if (n == 0) {
        /* nothing is in an empty list; not in it and all of it would be
         * every row, refused like an empty like */
        if (negate || all) {
            fail(cx, "The %s list of %s is empty.", op, f->name);
        }
        else {
            pchat_sql_add(sql, "1=0");
        }
        return;
    }
    pchat_sql_addv(sql, "(", f->column,
                   all ? " = " : negate ? " NOT IN (" : " IN (", NULL);
    json_array_foreach(list, i, item) {
        if (i) {
            if (all) {
                pchat_sql_addv(sql, " AND ", f->column, " = ", NULL);
            }
            else {
                pchat_sql_add(sql, ", ");
            }
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

static void bad_path(where_ctx *cx, const char *path)
{
    APR_ARRAY_PUSH(cx->bad_paths, const char *) = path;
}

static void compile_operator(where_ctx *cx, const pchat_field *f,
                             const char *op, json_t *value, pchat_sql *sql)
{
    const char *cmp = comparison(op);
    int flag;

    if (cmp && !strcmp(op, "equals") && is_number_field(f)
        && scalar_text(value) && !is_integer(scalar_text(value))) {
        /* id equals abc: no document has that id (Payload: no match) */
        pchat_sql_add(sql, "1=0");
    }
    else if (cmp) {
        pchat_sql_addv(sql, f->column, cmp, NULL);
        bind_value(cx, f, value, sql);
    }
    else if (!strcmp(op, "in") || !strcmp(op, "not_in")
             || !strcmp(op, "all")) {
        compile_list(cx, f, op, value, sql);
    }
    else if (!strcmp(op, "exists")) {
        if (parse_bool(scalar_text(value), &flag)) {
            /* Payload matches nothing (exists=maybe): narrower, so safe */
            pchat_sql_add(sql, "1=0");
            return;
        }
        pchat_sql_addv(sql, f->column, flag ? " IS NOT NULL" : " IS NULL",
                       NULL);
    }
    else if (!strcmp(op, "like") || !strcmp(op, "contains")) {
        if (!scalar_text(value)) {
            fail(cx, "The value of %s must be a single value.", f->name, NULL);
            return;
        }
        if (f->type == PCHAT_FT_DATE) {
            compile_date_like(cx, f, scalar_text(value), sql);
            return;
        }
        compile_like(cx, f, scalar_text(value), !strcmp(op, "like"), sql);
    }
    else {
        bad_path(cx, apr_pstrcat(cx->p, f->name, ".", op, NULL));
    }
}

static void compile_node(where_ctx *cx, json_t *where, pchat_sql *sql,
                         int depth);

/* An and/or group: a non-empty list of where objects, as qs parses
 * where[or][0][...] and where[or][][...].  Anything else is refused: a
 * group we read wrong must never match more than was asked. */
static void compile_group(where_ctx *cx, const char *key, json_t *value,
                          pchat_sql *sql, int depth)
{
    json_t *item;
    size_t i;
    int is_or = !strcmp(key, "or");

    if (!json_is_array(value) || !json_array_size(value)) {
        fail(cx, "The %s of a where query must be a list of conditions, "
             "e.g. where[%s][0][field][equals]=...", key, key);
        return;
    }
    pchat_sql_add(sql, "(");
    json_array_foreach(value, i, item) {
        pchat_sql_add(sql, i ? (is_or ? " OR " : " AND ") : "");
        compile_node(cx, item, sql, depth + 1);
        if (cx->err) {
            return;
        }
    }
    pchat_sql_add(sql, ")");
}

static int hidden_field(const where_ctx *cx, const pchat_field *f)
{
    return !pchat_field_readable(f)
           || (cx->hidden & PCHAT_FIELD_BIT(cx->coll, f));
}

/* The field a dotted path "relation.field" names in the related
 * collection, when the caller may read both; *rel is the relation.
 * "relation.id" is the relation's own column. */
static const pchat_field *related_field(where_ctx *cx, const char *path,
                                        const pchat_field **rel)
{
    const char *dot = strchr(path, '.');
    const pchat_field *f;

    *rel = dot ? pchat_field_find(cx->coll,
                                  apr_pstrmemdup(cx->p, path, dot - path))
               : NULL;
    if (!*rel || (*rel)->type != PCHAT_FT_RELATION || hidden_field(cx, *rel)) {
        return NULL;
    }
    f = pchat_field_find((*rel)->relation_to, dot + 1);
    if (!f || !pchat_field_readable(f)
        || (cx->rel_hidden & PCHAT_FIELD_BIT((*rel)->relation_to, f))) {
        return NULL;
    }
    return f;
}

static void compile_field(where_ctx *cx, const char *path, json_t *ops,
                          pchat_sql *sql)
{
    const pchat_field *f = pchat_field_find(cx->coll, path), *rel = NULL;
    const char *op;
    json_t *value;
    int n = 0;

    if (!f) {
        f = related_field(cx, path, &rel);
        if (f && f->type == PCHAT_FT_ID) {
            f = rel;     /* sender.id is sender */
            rel = NULL;
        }
    }
    if (!f || (!rel && hidden_field(cx, f))) {
        if (!count_terms(cx, 1)) {
            bad_path(cx, path);
        }
        pchat_sql_add(sql, "1=0");   /* never run: the error is sent */
        return;
    }
    if (!json_is_object(ops) || !json_object_size(ops)) {
        fail(cx, "The condition on %s must name an operator, e.g. "
             "where[%s][equals]=...", path, path);
        return;
    }
    if (rel) {
        /* through the relation: its ids whose document matches (the
         * columns inside name the related table's) */
        pchat_sql_addv(sql, "(", rel->column, " IN (SELECT id FROM ",
                       rel->relation_to->table, " WHERE ", NULL);
    }
    pchat_sql_add(sql, "(");
    json_object_foreach(ops, op, value) {
        if (count_terms(cx, 1)) {
            return;
        }
        pchat_sql_add(sql, n++ ? " AND " : "");
        compile_operator(cx, f, op, value, sql);
        if (cx->err) {
            return;
        }
    }
    pchat_sql_add(sql, rel ? ")))" : ")");
}

/* A where object: fields and and/or groups, all of which must hold. */
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
    if (!json_is_object(where) || !json_object_size(where)) {
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
    pchat_sql_add(sql, ")");
}

/* "a, b, c" in one allocation. */
static const char *join_paths(apr_pool_t *p, const apr_array_header_t *paths)
{
    apr_size_t size = 1, at = 0;
    char *out;
    int i;

    for (i = 0; i < paths->nelts; i++) {
        size += strlen(APR_ARRAY_IDX(paths, i, const char *)) + 2;
    }
    out = apr_palloc(p, size);
    for (i = 0; i < paths->nelts; i++) {
        const char *path = APR_ARRAY_IDX(paths, i, const char *);
        apr_size_t n = strlen(path);
        if (i) {
            memcpy(out + at, ", ", 2);
            at += 2;
        }
        memcpy(out + at, path, n);
        at += n;
    }
    out[at] = '\0';
    return out;
}

static pchat_error *query_error(apr_pool_t *p, apr_array_header_t *paths)
{
    json_t *data = json_array();
    int i;

    for (i = 0; i < paths->nelts; i++) {
        json_array_append_new(data, json_pack(
            "{s:s}", "path", APR_ARRAY_IDX(paths, i, const char *)));
    }
    return pchat_error_make(p, HTTP_BAD_REQUEST, "QueryError", data,
                            apr_psprintf(p,
                            "The following path%s cannot be queried: %s",
                            paths->nelts > 1 ? "s" : "",
                            join_paths(p, paths)));
}

pchat_error *pchat_where_compile(apr_pool_t *p, const pchat_collection *c,
                                 json_t *where, pchat_sql **out)
{
    return pchat_where_compile_limited(p, c, where, QS_MAX_DEPTH,
                                       WHERE_MAX_TERMS, 0, 0, out);
}

pchat_error *pchat_where_compile_for(request_rec *r,
                                     const pchat_collection *c, json_t *where,
                                     unsigned hidden, unsigned rel_hidden,
                                     pchat_sql **out)
{
    return pchat_where_compile_limited(
        r->pool, c, where, pchat_conf_max_where_depth(r->server),
        pchat_conf_max_where_terms(r->server), hidden, rel_hidden, out);
}

pchat_error *pchat_where_compile_limited(apr_pool_t *p,
                                         const pchat_collection *c,
                                         json_t *where, int max_depth,
                                         int max_terms, unsigned hidden,
                                         unsigned rel_hidden, pchat_sql **out)
{
    where_ctx cx = {p, c, apr_array_make(p, 2, sizeof(const char *)), NULL,
                    0, 0, max_depth, max_terms, hidden, rel_hidden};

    *out = pchat_sql_make(p, "");
    if (!where) {
        pchat_sql_add(*out, "1=1");
        return NULL;
    }
    compile_node(&cx, where, *out, 0);
    if (cx.err) {
        return cx.err;
    }
    return cx.bad_paths->nelts ? query_error(p, cx.bad_paths) : NULL;
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
 * which hides typos).  A field named again adds nothing to the order and
 * is dropped (2,600 of them were a 500: "too many terms in ORDER BY"). */
pchat_error *pchat_sort_compile(apr_pool_t *p, const pchat_collection *c,
                                json_t *sort, unsigned hidden,
                                unsigned rel_hidden, const char **out)
{
    json_t *list = sort ? as_list(p, sort) : NULL, *item;
    apr_array_header_t *bad = apr_array_make(p, 1, sizeof(const char *));
    where_ctx cx = {p, c, bad, NULL, 0, 0, 0, 0, hidden, rel_hidden};
    const char *order = "";
    unsigned used = 0;
    size_t i;

    if (sort && !list) {
        return bad_request(p, "sort must be a comma-separated list of "
                           "fields.");
    }
    if (list && json_array_size(list) > SORT_MAX_FIELDS) {
        return bad_request(p, apr_psprintf(p, "sort names more than %d "
                                           "fields.", SORT_MAX_FIELDS));
    }
    if (!list || !json_array_size(list)) {
        list = pchat_json_own(p, json_pack("[s]", "-createdAt"));
    }
    json_array_foreach(list, i, item) {
        const char *name = scalar_text(item);
        int desc = name && *name == '-';
        const pchat_field *f, *rel = NULL;

        if (!name || !*name) {
            continue;
        }
        f = pchat_field_find(c, desc || *name == '+' ? name + 1 : name);
        if (!f && (f = related_field(&cx, desc || *name == '+' ? name + 1
                                                               : name, &rel))
            && f->type != PCHAT_FT_ID) {
            /* the related document's value (one row: ids are unique) */
            order = apr_pstrcat(p, order, *order ? ", " : "",
                                "(SELECT pchat_rel.", f->column, " FROM ",
                                rel->relation_to->table, " pchat_rel WHERE "
                                "pchat_rel.id = ", c->table, ".", rel->column,
                                ")", desc ? " DESC" : " ASC", NULL);
            continue;
        }
        if (f && f->type == PCHAT_FT_ID && rel) {
            f = rel;     /* sender.id is sender */
        }
        if (!f || hidden_field(&cx, f)) {
            if (sort) {
                bad_path(&cx, name);
            }
            continue;   /* the default order on a hidden createdAt */
        }
        if (used & PCHAT_FIELD_BIT(c, f)) {
            continue;
        }
        used |= PCHAT_FIELD_BIT(c, f);
        order = apr_pstrcat(p, order, *order ? ", " : "", f->column,
                            desc ? " DESC" : " ASC", NULL);
    }
    /* ties: newest first, by creation where the caller may see it */
    if (!(used & pchat_field_bit_named(c, "createdAt"))
        && !(used & pchat_field_bit_named(c, "id"))
        && !(hidden & pchat_field_bit_named(c, "createdAt"))) {
        order = apr_pstrcat(p, order, *order ? ", " : "", "created_at DESC",
                            NULL);
    }
    if (!(used & pchat_field_bit_named(c, "id"))) {
        order = apr_pstrcat(p, order, *order ? ", " : "", "id DESC", NULL);
    }
    *out = order;
    return bad->nelts ? query_error(p, bad) : NULL;
}

/* A whole number from a query value, read as Payload reads paging: one
 * that is not a whole number or is below min is `fallback` (page=0 is page
 * 1, depth=abc depth 0); above max it is -1, a bound we keep. */
static int query_int(json_t *v, int min, int max, int fallback, int *out)
{
    const char *text = scalar_text(v);
    apr_int64_t n;
    char *end;

    *out = fallback;
    if (!text) {
        return 0;
    }
    errno = 0;
    n = apr_strtoi64(text, &end, 10);
    if (!*text || *end || (errno && n < 0) || n < min) {
        return 0;
    }
    if (errno || n > max) {
        return -1;
    }
    *out = (int)n;
    return 0;
}

pchat_error *pchat_query_parse(request_rec *r, const pchat_collection *c,
                               json_t *qs, unsigned hidden,
                               unsigned rel_hidden, pchat_query *q)
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
        && query_int(v, 0, max_limit, DEFAULT_LIMIT, &q->limit)) {
        return bad_request(p, apr_psprintf(p, "limit must be a whole number "
                                           "from 0 to %d.", max_limit));
    }
    if ((v = json_object_get(qs, "page"))
        && query_int(v, 1, 1000000000, 1, &q->page)) {
        return bad_request(p, "page must be at most 1000000000.");
    }
    if ((v = json_object_get(qs, "depth"))
        && query_int(v, 0, MAX_DEPTH, 0, &q->depth)) {
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
    /* select and populate are applied to the docs found: checked now */
    err = pchat_query_select(p, c, qs, NULL);
    if (!err) {
        err = pchat_where_compile_for(r, c, json_object_get(qs, "where"),
                                      hidden, rel_hidden, &q->where);
    }
    if (err) {
        return err;
    }
    q->where = pchat_where_live(p, c, q->where);
    return pchat_sort_compile(p, c, json_object_get(qs, "sort"), hidden,
                              rel_hidden, &q->order);
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

/* ---- select and populate -------------------------------------------------- */

/* A select object of c's fields, each true or false: NULL or the error.
 * *include: some field is true (keep those and id), else drop the false. */
static pchat_error *select_read(apr_pool_t *p, const pchat_collection *c,
                                const char *param, json_t *sel, int *include)
{
    const char *name;
    json_t *v;
    int flag;

    *include = 0;
    if (!json_is_object(sel) || !json_object_size(sel)) {
        return bad_request(p, apr_psprintf(p, "%s must name fields, e.g. "
                                           "%s[content]=true.", param, param));
    }
    json_object_foreach(sel, name, v) {
        if (!pchat_field_find(c, name)) {
            return bad_request(p, apr_psprintf(p, "%s names no field %s.",
                                               param, name));
        }
        if (parse_bool(scalar_text(v), &flag)) {
            return bad_request(p, apr_psprintf(p, "%s[%s] must be true or "
                                               "false.", param, name));
        }
        *include |= flag;
    }
    return NULL;
}

/* Removes from doc the keys sel leaves out; `keep` is kept anyway. */
static void select_doc(json_t *doc, json_t *sel, int include,
                       const char *keep)
{
    const char *key;
    json_t *v;
    void *tmp;
    int flag;

    json_object_foreach_safe(doc, tmp, key, v) {
        json_t *s = json_object_get(sel, key);
        int listed = s && !parse_bool(scalar_text(s), &flag);
        if (!strcmp(key, "id") || (keep && !strcmp(key, keep))) {
            continue;
        }
        if (include ? !(listed && flag) : (listed && !flag)) {
            json_object_del(doc, key);
        }
    }
}

pchat_error *pchat_query_select(apr_pool_t *p, const pchat_collection *c,
                                json_t *qs, json_t *docs)
{
    json_t *sel = json_object_get(qs, "select");
    json_t *pop = json_object_get(qs, "populate"), *doc, *users = NULL;
    int include = 0, pop_include = 0, f;
    pchat_error *err;
    size_t i;

    if (sel && (err = select_read(p, c, "select", sel, &include))) {
        return err;
    }
    if (pop) {
        const char *slug;
        json_t *v;
        if (!json_is_object(pop)) {
            return bad_request(p, "populate must name a collection, e.g. "
                               "populate[users][email]=true.");
        }
        json_object_foreach(pop, slug, v) {
            if (strcmp(slug, pchat_users.slug)) {
                return bad_request(p, apr_psprintf(p, "populate names no "
                                                   "related collection %s.",
                                                   slug));
            }
            if ((err = select_read(p, &pchat_users, "populate[users]", v,
                                   &pop_include))) {
                return err;
            }
            users = v;
        }
    }
    json_array_foreach(docs, i, doc) {
        for (f = 0; users && f < c->nfields; f++) {
            json_t *rel = json_object_get(doc, c->fields[f].name);
            if (c->fields[f].relation_to == &pchat_users
                && json_is_object(rel)) {
                select_doc(rel, users, pop_include, "collection");
            }
        }
        if (sel) {
            select_doc(doc, sel, include, NULL);
        }
    }
    return NULL;
}
