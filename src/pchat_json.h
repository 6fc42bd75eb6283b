/* JSON through jansson only.  Values built for a request are tied to a pool
 * with pchat_json_own(), so no path can leak a reference. */
#ifndef PCHAT_JSON_H
#define PCHAT_JSON_H

#include <jansson.h>
#include "apr_pools.h"
#include "apr_buckets.h"

/* Hands one reference of v to pool p (decref at pool cleanup); returns v. */
json_t *pchat_json_own(apr_pool_t *p, json_t *v);

/* Compact serialisation, appended to bb. */
apr_status_t pchat_json_to_brigade(const json_t *v, apr_bucket_brigade *bb);

/* Compact serialisation as a pool string. */
char *pchat_json_pstr(apr_pool_t *p, const json_t *v);

/* Parses text of len bytes; NULL when it is not one JSON value. */
json_t *pchat_json_parse(apr_pool_t *p, const char *text, apr_size_t len);

#endif
