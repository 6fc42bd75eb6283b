/* The query string parser (qs bracket syntax), the where and sort compilers,
 * for both collections: the bytes after '?' of any find, count, update or
 * delete by where, and of the stream. */
#include "fuzz_common.h"
#include "pchat_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *args = fuzz_text(&p, data, size);
    pchat_error *err = NULL;
    json_t *qs = pchat_qs_parse(p, args, &err);

    if (qs) {
        const pchat_collection *colls[] = {&pchat_messages, &pchat_users};
        for (int i = 0; i < 2; i++) {
            pchat_sql *sql = NULL;
            const char *order = NULL;
            if (!pchat_where_compile(p, colls[i], json_object_get(qs, "where"),
                                     &sql) && !sql) {
                abort();   /* success must produce SQL */
            }
            if (!pchat_sort_compile(p, colls[i], json_object_get(qs, "sort"),
                                    0, 0, &order) && !order) {
                abort();
            }
        }
    }
    else if (!err) {
        abort();           /* a refusal must say why */
    }
    apr_pool_destroy(p);
    return 0;
}
