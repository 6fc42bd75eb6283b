/* The httpd symbols the module's parser files refer to, for linking them
 * outside Apache (the fuzz targets, unit/).  Those the parsers and the
 * unit tests use are written out here, faithful to httpd's; the rest
 * (unreached.c) belong to request and server plumbing that neither
 * reaches, and abort if one ever does. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "ap_mpm.h"
#include "apr_strings.h"

module AP_MODULE_DECLARE_DATA payloadchat_module;

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* As httpd's: '+' is a space, %xx a byte; a bad escape is a 400. */
int ap_unescape_urlencoded(char *query)
{
    char *in = query, *out = query;
    int bad = 0;

    if (!query || !strpbrk(query, "%+")) {
        return OK;   /* httpd writes nothing then either */
    }
    for (; in && *in; in++, out++) {
        if (*in == '+') {
            *out = ' ';
        }
        else if (*in == '%' && isxdigit((unsigned char)in[1])
                 && isxdigit((unsigned char)in[2])) {
            *out = (char)(hexval((unsigned char)in[1]) * 16
                          + hexval((unsigned char)in[2]));
            in += 2;
        }
        else {
            bad |= *in == '%';
            *out = *in;
        }
    }
    *out = '\0';
    return bad ? HTTP_BAD_REQUEST : OK;
}

char *ap_strcasestr(const char *s1, const char *s2)
{
    return strcasestr(s1, s2);
}

/* As httpd's, for a ServerRoot of /srv/httpd: relative names go under it. */
char *ap_server_root_relative(apr_pool_t *p, const char *fname)
{
    return fname[0] == '/' ? apr_pstrdup(p, fname)
                           : apr_pstrcat(p, "/srv/httpd/", fname, NULL);
}

/* Every answer 0, as prefork answers AP_MPMQ_IS_ASYNC, the one question
 * the parsers' files ask (the startup notice: can streams suspend?). */
apr_status_t ap_mpm_query(int query_code, int *result)
{
    *result = 0;
    return APR_SUCCESS;
}
