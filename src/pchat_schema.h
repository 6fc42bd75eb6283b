/* The database schema and its migrations, applied once at startup on a
 * connection outside the pool. */
#ifndef PCHAT_SCHEMA_H
#define PCHAT_SCHEMA_H

#include "pchat_private.h"
#include "apr_dbd.h"
#include "pchat_dialect.h"

/* Brings the schema up to date in one transaction; safe when several
 * processes or nodes start at once.  Returns an error text or NULL. */
const char *pchat_schema_migrate(apr_pool_t *p, server_rec *s,
                                 const apr_dbd_driver_t *driver,
                                 const pchat_dialect *d, apr_dbd_t *h);

/* Runs sql on h outside any prepared statement; an error text or NULL. */
const char *pchat_raw_query(apr_pool_t *p, const apr_dbd_driver_t *driver,
                            apr_dbd_t *h, const char *sql);
/* The same for statements that return rows we do not need (PRAGMAs). */
const char *pchat_raw_select(apr_pool_t *p, const apr_dbd_driver_t *driver,
                             apr_dbd_t *h, const char *sql);

#endif
