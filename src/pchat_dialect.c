/* The SQL dialects: one row each, read by the store, the schema and the
 * configuration. */
#include <string.h>
#include "apr_strings.h"
#include "pchat_dialect.h"

/* Write transactions run one at a time on either database: a writer's
 * change numbers (seq, see migration 2) are taken under a lock held until
 * its commit, so seq order is commit order and a stream that has read seq
 * N can never later meet a smaller one.  sqlite's BEGIN IMMEDIATE takes
 * its write lock; on PostgreSQL a transaction-scoped advisory lock does
 * the same across every node sharing the database (it is released after
 * the commit is visible).  The same statement queues a notification that
 * PostgreSQL delivers to listening hubs on every node when (and only if)
 * the transaction commits: see pchat_listen.c.
 *
 * On PostgreSQL the number itself comes from payloadchat_next_seq()
 * (migration 5), which takes the lock and queues the notification before
 * it reads MAX(seq) with a snapshot of its own, taken after the lock.  So
 * an INSERT that calls it is a whole write transaction by itself, and the
 * lock is held for no network round trip: from the moment the statement
 * reaches the number until its commit is visible. */
static const pchat_dialect dialects[] = {
    {.driver = "sqlite3",
     .pk = "INTEGER PRIMARY KEY AUTOINCREMENT",
     .begin_write = "BEGIN IMMEDIATE",
     .local_file = 1,
     .before_migrate = "PRAGMA journal_mode=WAL",
     /* wait for a busy writer instead of failing at once */
     .on_connect = "PRAGMA busy_timeout=10000",
     .set_sync = "PRAGMA synchronous="},
    /* pgsql's query call runs several statements (PQexec) and accepts one
     * that returns rows; its row-at-a-time mode waits 100 ms after an
     * empty result, hence random access */
    {.driver = "pgsql",
     .pk = "BIGSERIAL PRIMARY KEY",
     .begin_write = "BEGIN; SELECT " PCHAT_PG_WRITE_LOCK ", " PCHAT_PG_NOTIFY,
     .migration_lock = "SELECT pg_advisory_xact_lock(7243278)",
     .random_access = 1,
     .listen = "LISTEN " PCHAT_NOTIFY_CHANNEL,
     .next_seq = "payloadchat_next_seq()",
     .seq_takes_lock = 1,
     .named_statements = 1,
     .libpq = 1},
};

#define NDIALECTS (sizeof(dialects) / sizeof(dialects[0]))

const pchat_dialect *pchat_dialect_find(const char *driver)
{
    size_t i;

    for (i = 0; i < NDIALECTS; i++) {
        if (!strcmp(dialects[i].driver, driver)) {
            return &dialects[i];
        }
    }
    return NULL;
}

const char *pchat_replace_all(apr_pool_t *p, const char *text,
                              const char *from, const char *to)
{
    const char *at = strstr(text, from);

    while (at) {
        text = apr_pstrcat(p, apr_pstrmemdup(p, text, at - text), to,
                           at + strlen(from), NULL);
        at = strstr(text, from);
    }
    return text;
}

const char *pchat_dialect_sql(apr_pool_t *p, const pchat_dialect *d,
                              const char *text)
{
    size_t i;

    for (i = 0; i < NDIALECTS; i++) {
        size_t n = strlen(dialects[i].driver);
        if (!strncmp(text, dialects[i].driver, n) && text[n] == ':') {
            if (&dialects[i] != d) {
                return NULL;
            }
            text += n + 1;
        }
    }
    return pchat_replace_all(p, text, "@PK@", d->pk);
}
