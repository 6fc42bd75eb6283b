/* The pool-bound face of jansson. */
#include <stdlib.h>
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

static int write_to_brigade(const char *buf, size_t len, void *data)
{
    apr_bucket_brigade *bb = data;
    return apr_brigade_write(bb, NULL, NULL, buf, len) == APR_SUCCESS ? 0 : -1;
}

apr_status_t pchat_json_to_brigade(const json_t *v, apr_bucket_brigade *bb)
{
    return json_dump_callback(v, write_to_brigade, bb, DUMP_FLAGS)
           ? APR_EGENERAL : APR_SUCCESS;
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
