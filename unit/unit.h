/* Shared by the unit tests: each check_<area>.c makes one Check suite of
 * the module's pure code, run by unit.c.  Every test gets a fresh APR pool
 * (unit_pool), destroyed after it, so a leak of the code under test shows
 * under LeakSanitizer; the httpd symbols come from fuzz/stubs.c. */
#ifndef UNIT_H
#define UNIT_H

#include <check.h>
#include "pchat_private.h"

extern apr_pool_t *unit_pool;

/* A test case whose tests each get unit_pool. */
TCase *unit_tcase(const char *name);

/* A server with the module's configuration as httpd creates it, before
 * any directive. */
server_rec *unit_server(void);

/* A request to s whose pool is unit_pool. */
request_rec *unit_request(server_rec *s);

/* n items joined by sep, each fmt with its number (1 to n): "%d", ","
 * gives "1,2,3". */
const char *unit_join(int n, const char *sep, const char *fmt);

/* Runs directive's setter on s as httpd.conf would, with arg (and arg2
 * for a two-argument directive; "On"/"Off" for a flag); returns the
 * setter's error text or NULL. */
const char *unit_directive(server_rec *s, const char *name, const char *arg,
                           const char *arg2);

Suite *unit_config_suite(void);
Suite *unit_cursor_suite(void);
Suite *unit_envelope_suite(void);
Suite *unit_jwt_suite(void);
Suite *unit_query_suite(void);
Suite *unit_sql_suite(void);
Suite *unit_time_suite(void);
Suite *unit_where_suite(void);

#endif
