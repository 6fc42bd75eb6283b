/* The pool-bound face of jansson. */
#include <stdlib.h>
#include <string.h>
#include "apr_strings.h"
#include "pchat_json.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

static apr_status_t json_cleanup(void *v)
{
    json_decref(v);
    return APR_SUCCESS;
}

json_t *pchat_json_own(apr_pool_t *p, json_t *v)
{
    if (v) {
        apr_pool_cleanup_register(p, v, json_cleanup, apr_pool_cleanup_null);
    }
    return v;
}

/* One malloc'd buffer handed to a heap bucket: jansson's callback would
 * call us for every token. */
apr_status_t pchat_json_to_brigade(const json_t *v, apr_bucket_brigade *bb)
{
    char *text = json_dumps(v, DUMP_FLAGS | JSON_ENCODE_ANY);

    if (!text) {
        return APR_EGENERAL;
    }
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_heap_create(text, strlen(text),
                                                       free, bb->bucket_alloc));
    return APR_SUCCESS;
}

char *pchat_json_pstr(apr_pool_t *p, const json_t *v)
{
    char *s = json_dumps(v, DUMP_FLAGS | JSON_ENCODE_ANY);
    char *copy = s ? apr_pstrdup(p, s) : NULL;

    free(s);
    return copy;
}

json_t *pchat_json_parse(apr_pool_t *p, const char *text, apr_size_t len)
{
    json_error_t err;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                           &err);
    return pchat_json_own(p, v);
}
