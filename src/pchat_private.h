/* Private header shared by every file of mod_payloadchat: the module record,
 * per-module log configuration and our own log-tag macro. */
#ifndef PCHAT_PRIVATE_H
#define PCHAT_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

extern module AP_MODULE_DECLARE_DATA payloadchat_module;
#ifndef PCHAT_MODULE_MAIN   /* AP_DECLARE_MODULE defines it there */
APLOG_USE_MODULE(payloadchat);
#endif

/* httpd reserves AHnnnnn for itself; ours are PCHnnnnn, one per call site. */
#define PCHAT_LOGNO(n) "PCH" #n ": "

#define PCHAT_HANDLER "payloadchat"

#endif
