/* SQL text plus its bound arguments, built from our own fragments with
 * every value bound as a parameter.  Appending is amortised linear: the
 * text grows by doubling, so a where of n conditions costs O(n), not
 * O(n^2) (a `like` of 3,000 words once took 1.5 GB). */
#ifndef PCHAT_SQL_H
#define PCHAT_SQL_H

#include "apr_pools.h"
#include "apr_tables.h"

typedef struct {
    apr_pool_t *pool;
    char *text;                 /* NUL-terminated; read only */
    apr_size_t len, cap;        /* of text, without / with the NUL */
    apr_array_header_t *args;   /* of const void *, as apr_dbd_pbselect */
    apr_array_header_t *types;  /* of char: 'i' (apr_int64_t *) or 's' */
} pchat_sql;

pchat_sql *pchat_sql_make(apr_pool_t *p, const char *text);
/* Appends trusted text (never request data). */
void pchat_sql_add(pchat_sql *sql, const char *text);
/* Appends the texts up to a NULL, as apr_pstrcat. */
void pchat_sql_addv(pchat_sql *sql, ...);
/* Appends a placeholder bound to an integer / a string. */
void pchat_sql_int(pchat_sql *sql, apr_int64_t v);
void pchat_sql_str(pchat_sql *sql, const char *s);
/* Appends another statement fragment with its arguments. */
void pchat_sql_cat(pchat_sql *sql, const pchat_sql *part);
/* The text and its bound values, made in one pass: equal keys, equal
 * results. */
const char *pchat_sql_key(apr_pool_t *p, const pchat_sql *sql);

#endif
