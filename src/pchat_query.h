/* Query parameters of a find: the qs bracket syntax of Payload's REST API
 * (where[or][0][sender][equals]=1), validated against the collection's
 * fields and compiled to SQL with every value bound. */
#ifndef PCHAT_QUERY_H
#define PCHAT_QUERY_H

#include "pchat_http.h"
#include "pchat_sql.h"
#include "pchat_collections.h"

typedef struct {
    const pchat_collection *coll;
    pchat_sql *where;     /* a boolean SQL expression, "1=1" when empty */
    const char *order;    /* ORDER BY list, always ending in a unique key */
    int limit;            /* rows per page; 0 with paginate off = all */
    int page;             /* 1-based */
    int paginate;
    int depth;
} pchat_query;

/* Parses a raw query string the way the qs package does with Payload's
 * options (depth 10, arrayLimit 1000): nested brackets become objects,
 * numeric indexes up to 1000, [] and repeated keys arrays (compacted:
 * sparse indexes keep their order).  NULL with *err set when it is
 * malformed or too large. */
json_t *pchat_qs_parse(apr_pool_t *p, const char *args, pchat_error **err);

/* Reads where, sort, limit, page, pagination and depth from a parsed query
 * string; returns NULL or the error to send.  hidden: the fields (bits of
 * PCHAT_FIELD_BIT) the caller may not read, hence not query or sort by;
 * rel_hidden: those of the users a relation names, for dotted paths
 * (where[sender.email][equals]=..., sort=sender.email).  A page, limit or
 * depth that is not a whole number or is below its least is read as
 * Payload reads it (page 1, the default limit, depth 0). */
pchat_error *pchat_query_parse(request_rec *r, const pchat_collection *c,
                               json_t *qs, unsigned hidden,
                               unsigned rel_hidden, pchat_query *q);

/* Compiles only a `where` object (also used by update/delete by where and
 * the stream) within the server's PayloadChatMaxWhereDepth/Terms...  A
 * where that is not fully understood is an error, never a wider match. */
pchat_error *pchat_where_compile_for(request_rec *r,
                                     const pchat_collection *c, json_t *where,
                                     unsigned hidden, unsigned rel_hidden,
                                     pchat_sql **out);
/* ...within the given limits... */
pchat_error *pchat_where_compile_limited(apr_pool_t *p,
                                         const pchat_collection *c,
                                         json_t *where, int max_depth,
                                         int max_terms, unsigned hidden,
                                         unsigned rel_hidden, pchat_sql **out);
/* ...or within the largest ones (10 levels, 200 conditions), every
 * readable field allowed. */
pchat_error *pchat_where_compile(apr_pool_t *p, const pchat_collection *c,
                                 json_t *where, pchat_sql **out);

/* The ORDER BY list of a sort parameter (NULL: the default order), ending
 * in a unique key; at most 10 fields, a repeated one dropped. */
pchat_error *pchat_sort_compile(apr_pool_t *p, const pchat_collection *c,
                                json_t *sort, unsigned hidden,
                                unsigned rel_hidden, const char **out);

/* where restricted to live documents (no tombstones). */
pchat_sql *pchat_where_live(apr_pool_t *p, const pchat_collection *c,
                            const pchat_sql *where);

/* Applies select[field]=true|false and populate[users][field]=true|false
 * of a parsed query string to found docs (after population and access
 * shaping: they only take keys away); NULL or the error to send. */
pchat_error *pchat_query_select(apr_pool_t *p, const pchat_collection *c,
                                json_t *qs, json_t *docs);

/* A stream cursor (Last-Event-ID or since=): 0 and *cursor for up to 18
 * decimal digits, -1 for anything else. */
int pchat_cursor_parse(const char *text, apr_int64_t *cursor);

#endif
