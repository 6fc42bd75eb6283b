/* Last-Event-ID headers and since= values: accepted only as a whole
 * decimal event id that fits, and then read back exactly. */
#include "fuzz_common.h"
#include "pchat_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *text = fuzz_text(&p, data, size);
    apr_int64_t cursor = -1;

    if (pchat_cursor_parse(text, &cursor) == 0
        && (cursor < 0 || strcmp(apr_psprintf(p, "%" APR_INT64_T_FMT,
                                              cursor),
                                 text + strspn(text, "0")) != 0)
        && !(cursor == 0 && strspn(text, "0") == strlen(text))) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
