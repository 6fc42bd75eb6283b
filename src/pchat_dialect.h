/* What differs between the SQL dialects we speak (sqlite3 and pgsql), as
 * data: the store, the schema and the configuration read these fields
 * instead of comparing driver names. */
#ifndef PCHAT_DIALECT_H
#define PCHAT_DIALECT_H

#include "apr_pools.h"

/* PostgreSQL's node-wide write lock and the notification that wakes the
 * listening hubs (see pchat_dialect.c). */
#define PCHAT_PG_WRITE_LOCK "pg_advisory_xact_lock(7243279)"
#define PCHAT_NOTIFY_CHANNEL "payloadchat"
#define PCHAT_PG_NOTIFY "pg_notify('" PCHAT_NOTIFY_CHANNEL "', '')"

typedef struct {
    const char *driver;           /* the APR DBD driver's name */
    const char *pk;               /* auto-increment integer primary key */
    const char *begin_write;      /* a transaction that will write, with
                                   * the write lock: one round trip */
    const char *migration_lock;   /* serialises migrations, or NULL */
    int random_access;            /* select whole results at once */
    const char *listen;           /* hears begin_write's commits, or NULL */
    const char *next_seq;         /* PCHAT_NEXT_SEQ, or NULL: the change
                                   * log's MAX(seq) + 1 (pchat_changes.c) */
    int seq_takes_lock;           /* next_seq takes the write lock */
    int local_file;               /* the parameters name a file here: its
                                   * directory is made, its files handed
                                   * to the child user */
    const char *before_migrate;   /* a statement returning rows, or NULL */
    const char *on_connect;       /* ditto, run on every new connection */
    const char *set_sync;         /* + OFF|NORMAL|FULL, or NULL */
    int named_statements;         /* prepares on the server only by name */
    int libpq;                    /* a libpq connection: its socket can be
                                   * polled; its conninfo may hold a
                                   * password */
} pchat_dialect;

/* The dialect of an APR DBD driver, or NULL when we speak no such one. */
const pchat_dialect *pchat_dialect_find(const char *driver);

/* A migration statement in d's words ("@PK@" replaced), or NULL when it
 * starts with another driver's name and a colon (meant for that one). */
const char *pchat_dialect_sql(apr_pool_t *p, const pchat_dialect *d,
                              const char *text);

/* text with every from replaced by to. */
const char *pchat_replace_all(apr_pool_t *p, const char *text,
                              const char *from, const char *to);

#endif
