/* ISO-8601 dates from where values and bodies; a parsed date formatted
 * and parsed again must give the same instant. */
#include "fuzz_common.h"
#include "pchat_time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *text = fuzz_text(&p, data, size);
    apr_int64_t ms, again;
    char buf[PCHAT_ISO_LEN + 32];

    /* the round trip holds for the years ISO-8601 writes with 4 digits */
    if (pchat_time_parse(text, &ms) == 0 && ms >= -62167219200000LL
        && ms < 253402300800000LL) {
        pchat_time_format(buf, ms);
        if (pchat_time_parse(buf, &again) != 0 || again != ms) {
            abort();
        }
    }
    apr_pool_destroy(p);
    return 0;
}
