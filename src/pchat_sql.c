/* The SQL builder: a doubling text buffer and argument arrays. */
#include <stdarg.h>
#include <string.h>
#include "apr_strings.h"
#include "pchat_sql.h"

#define INITIAL_CAP 64
#define INT64_TEXT_MAX 20     /* "-9223372036854775808" */
#define SIZE_TEXT_MAX 20

pchat_sql *pchat_sql_make(apr_pool_t *p, const char *text)
{
    pchat_sql *sql = apr_palloc(p, sizeof(*sql));
    apr_size_t len = strlen(text);

    sql->pool = p;
    sql->len = len;
    sql->cap = len + 1 > INITIAL_CAP ? len + 1 : INITIAL_CAP;
    sql->text = apr_palloc(p, sql->cap);
    memcpy(sql->text, text, len + 1);
    sql->args = apr_array_make(p, 8, sizeof(const void *));
    sql->types = apr_array_make(p, 8, sizeof(char));
    return sql;
}

static void add_bytes(pchat_sql *sql, const char *text, apr_size_t n)
{
    if (sql->len + n + 1 > sql->cap) {
        apr_size_t cap = sql->cap * 2;
        char *grown;

        if (cap < sql->len + n + 1) {
            cap = sql->len + n + 1;
        }
        /* the old buffer stays in the pool: all of them together are less
         * than twice the final one */
        grown = apr_palloc(sql->pool, cap);
        memcpy(grown, sql->text, sql->len);
        sql->text = grown;
        sql->cap = cap;
    }
    memcpy(sql->text + sql->len, text, n);
    sql->len += n;
    sql->text[sql->len] = '\0';
}

void pchat_sql_add(pchat_sql *sql, const char *text)
{
    add_bytes(sql, text, strlen(text));
}

void pchat_sql_addv(pchat_sql *sql, ...)
{
    const char *text;
    va_list ap;

    va_start(ap, sql);
    while ((text = va_arg(ap, const char *))) {
        pchat_sql_add(sql, text);
    }
    va_end(ap);
}

void pchat_sql_int(pchat_sql *sql, apr_int64_t v)
{
    apr_int64_t *copy = apr_palloc(sql->pool, sizeof(*copy));

    *copy = v;
    APR_ARRAY_PUSH(sql->types, char) = 'i';
    add_bytes(sql, "%lld", 4);
    APR_ARRAY_PUSH(sql->args, const void *) = copy;
}

void pchat_sql_str(pchat_sql *sql, const char *s)
{
    APR_ARRAY_PUSH(sql->types, char) = 's';
    add_bytes(sql, "%s", 2);
    APR_ARRAY_PUSH(sql->args, const void *) = s;
}

void pchat_sql_cat(pchat_sql *sql, const pchat_sql *part)
{
    add_bytes(sql, part->text, part->len);
    apr_array_cat(sql->args, part->args);
    apr_array_cat(sql->types, part->types);
}

/* "|i<n>" for an integer, "|s<length>:<text>" for a string: lengths keep
 * ("a|s1:b") and ("a", "b") apart. */
const char *pchat_sql_key(apr_pool_t *p, const pchat_sql *sql)
{
    apr_size_t size = sql->len + 1, at;
    char *key;
    int i;

    for (i = 0; i < sql->args->nelts; i++) {
        const char *arg = APR_ARRAY_IDX(sql->args, i, const char *);
        size += APR_ARRAY_IDX(sql->types, i, char) == 'i'
                ? 2 + INT64_TEXT_MAX : 3 + SIZE_TEXT_MAX + strlen(arg);
    }
    key = apr_palloc(p, size);
    memcpy(key, sql->text, sql->len);
    at = sql->len;
    for (i = 0; i < sql->args->nelts; i++) {
        const void *arg = APR_ARRAY_IDX(sql->args, i, const void *);
        if (APR_ARRAY_IDX(sql->types, i, char) == 'i') {
            at += apr_snprintf(key + at, size - at, "|i%" APR_INT64_T_FMT,
                               *(const apr_int64_t *)arg);
        }
        else {
            apr_size_t n = strlen(arg);
            at += apr_snprintf(key + at, size - at, "|s%" APR_SIZE_T_FMT ":",
                               n);
            memcpy(key + at, arg, n);
            at += n;
        }
    }
    key[at] = '\0';
    return key;
}
