/* httpd functions the parsers and the unit tests never call: linked so
 * the module's files link outside Apache, and abort() so that a call would
 * be found.  No httpd header here: these are bare symbols, not their
 * prototypes. */
#include <stdlib.h>

#define UNREACHED(name) void name(void); void name(void) { abort(); }
UNREACHED(ap_get_brigade)
UNREACHED(ap_log_error_)
UNREACHED(ap_log_rerror_)
UNREACHED(ap_map_http_request_error)
UNREACHED(ap_runtime_dir_relative)
UNREACHED(ap_set_content_length)
UNREACHED(ap_set_content_type)
