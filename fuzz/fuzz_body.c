/* JSON request bodies: jansson's parser, then validation for create and
 * update of both collections. */
#include "fuzz_common.h"
#include "pchat_validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    json_error_t jerr;
    json_t *body;

    apr_pool_create(&p, fuzz_root);
    body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (body) {
        const pchat_collection *colls[] = {&pchat_messages, &pchat_users};
        for (int i = 0; i < 4; i++) {
            pchat_values v;
            memset(&v, 0, sizeof(v));
            pchat_validate(p, colls[i / 2], body, i % 2, &v);
        }
        json_decref(body);
    }
    apr_pool_destroy(p);
    return 0;
}
