/* The schema: numbered migrations, each a list of statements in the
 * dialects' words, applied at startup in one transaction. */
#include "pchat_schema.h"

/* Each migration is a list of statements; "@PK@" becomes the dialect's
 * auto-increment primary key, and a statement that starts with a driver's
 * name and a colon runs on that driver only.  Never edit a released step:
 * add one. */
static const char *const migration_1[] = {
    "CREATE TABLE users (id @PK@, email TEXT NOT NULL, hash TEXT, salt TEXT,"
    " login_attempts INTEGER NOT NULL DEFAULT 0, lock_until BIGINT,"
    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX users_email ON users (email)",
    "CREATE TABLE messages (id @PK@, sender BIGINT NOT NULL,"
    " receiver BIGINT NOT NULL, content TEXT NOT NULL, ts BIGINT NOT NULL,"
    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE INDEX messages_sender ON messages (sender)",
    "CREATE INDEX messages_receiver ON messages (receiver)",
    "CREATE INDEX messages_created ON messages (created_at)",
    NULL
};

/* The stream's cursor: every change to a message (create, update, delete)
 * gives it the next seq, assigned inside the writing transaction, so seq
 * order is commit order.  Deleted messages stay as tombstones so that
 * subscribers learn of the delete. */
static const char *const migration_2[] = {
    "ALTER TABLE messages ADD COLUMN seq BIGINT",
    "ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0",
    "UPDATE messages SET seq = id",
    "CREATE UNIQUE INDEX messages_seq ON messages (seq)",
    NULL
};

/* Login sessions: a token names its session (sid); logout deletes it. */
static const char *const migration_3[] = {
    "CREATE TABLE users_sessions (id TEXT PRIMARY KEY, user_id BIGINT NOT NULL,"
    " created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)",
    "CREATE INDEX users_sessions_user ON users_sessions (user_id)",
    NULL
};

/* Finds and counts of live messages in their default order walk a small
 * partial index instead of the table. */
static const char *const migration_4[] = {
    "CREATE INDEX messages_live_created ON messages (created_at) "
    "WHERE deleted = 0",
    NULL
};

/* The seq function of the PostgreSQL dialect (see pchat_dialect.c).
 * plpgsql, VOLATILE: each statement in it reads with a fresh snapshot, so
 * MAX(seq) sees every commit made before the lock was granted.  Outside
 * writers may keep taking the lock and MAX(seq) + 1 themselves. */
static const char *const migration_5[] = {
    "pgsql:CREATE OR REPLACE FUNCTION payloadchat_next_seq() RETURNS bigint"
    " LANGUAGE plpgsql VOLATILE AS $$ DECLARE n bigint; BEGIN"
    " PERFORM " PCHAT_PG_WRITE_LOCK "; PERFORM " PCHAT_PG_NOTIFY ";"
    " SELECT COALESCE(MAX(seq), 0) + 1 INTO n FROM messages;"
    " RETURN n; END $$",
    NULL
};

/* Expired tombstones are found through a partial index of tombstones
 * only (pchat_changes_purge). */
static const char *const migration_6[] = {
    "CREATE INDEX messages_tombstones ON messages (updated_at) "
    "WHERE deleted = 1",
    NULL
};

/* forgot-password's token (hex) and when it expires (ms). */
static const char *const migration_7[] = {
    "ALTER TABLE users ADD COLUMN reset_password_token TEXT",
    "ALTER TABLE users ADD COLUMN reset_password_expiration BIGINT",
    NULL
};

/* Issue 16: signals (typing, read, presence: short-lived events every
 * node's hub reads), presence (one row per user and child process with a
 * stream of that user, kept alive by a heartbeat), when a user was last
 * seen, read receipts (one per reader and peer), and an index for unread
 * counts (messages of one sender to one receiver after an id). */
static const char *const migration_8[] = {
    "CREATE TABLE signals (id @PK@, kind TEXT NOT NULL,"
    " from_user BIGINT NOT NULL, to_user BIGINT, body TEXT NOT NULL,"
    " created_at BIGINT NOT NULL)",
    "CREATE INDEX signals_created ON signals (created_at)",
    "CREATE INDEX signals_pair ON signals (from_user, to_user, created_at)",
    "CREATE TABLE presence (user_id BIGINT NOT NULL, node TEXT NOT NULL,"
    " beat_at BIGINT NOT NULL, PRIMARY KEY (user_id, node))",
    "CREATE INDEX presence_beat ON presence (beat_at)",
    "CREATE TABLE presence_seen (user_id BIGINT PRIMARY KEY,"
    " last_seen BIGINT NOT NULL)",
    "CREATE TABLE receipts (id @PK@, user_id BIGINT NOT NULL,"
    " peer BIGINT NOT NULL, message BIGINT NOT NULL,"
    " read_at BIGINT NOT NULL, created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX receipts_pair ON receipts (user_id, peer)",
    "CREATE INDEX receipts_peer ON receipts (peer)",
    "CREATE INDEX messages_pair ON messages (sender, receiver, id) "
    "WHERE deleted = 0",
    NULL
};

static const char *const *const migrations[] = {
    migration_1, migration_2, migration_3, migration_4, migration_5,
    migration_6, migration_7, migration_8};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

const char *pchat_raw_query(apr_pool_t *p, const apr_dbd_driver_t *driver,
                            apr_dbd_t *h, const char *sql)
{
    int nrows = 0;
    int rv = apr_dbd_query(driver, h, &nrows, sql);

    return rv ? apr_psprintf(p, "%s: %s", sql, apr_dbd_error(driver, h, rv))
              : NULL;
}

const char *pchat_raw_select(apr_pool_t *p, const apr_dbd_driver_t *driver,
                             apr_dbd_t *h, const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rv = apr_dbd_select(driver, p, h, &res, sql, 0);

    if (rv) {
        return apr_psprintf(p, "%s: %s", sql, apr_dbd_error(driver, h, rv));
    }
    while (apr_dbd_get_row(driver, p, res, &row, -1) == 0) {
        /* read to the end so the driver releases the statement */
    }
    return NULL;
}

static int schema_version(apr_pool_t *p, const apr_dbd_driver_t *driver,
                          apr_dbd_t *h)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int version = 0;

    if (apr_dbd_select(driver, p, h, &res,
                       "SELECT MAX(version) FROM pchat_schema", 0)) {
        return -1;
    }
    while (apr_dbd_get_row(driver, p, res, &row, -1) == 0) {
        const char *v = apr_dbd_get_entry(driver, row, 0);
        version = v ? atoi(v) : 0;
    }
    return version;
}

static const char *apply_migrations(apr_pool_t *p,
                                    const apr_dbd_driver_t *driver,
                                    const pchat_dialect *d, apr_dbd_t *h,
                                    int *from)
{
    const char *err;
    int v, i;

    err = pchat_raw_query(p, driver, h, "CREATE TABLE IF NOT EXISTS"
                          " pchat_schema (version INTEGER NOT NULL)");
    if (err) {
        return err;
    }
    *from = v = schema_version(p, driver, h);
    if (v < 0) {
        return "could not read the schema version";
    }
    if (v > SCHEMA_VERSION) {
        return apr_psprintf(p, "the database has schema version %d, newer "
                            "than this module's %d", v, SCHEMA_VERSION);
    }
    for (; v < SCHEMA_VERSION; v++) {
        for (i = 0; migrations[v][i]; i++) {
            const char *sql = pchat_dialect_sql(p, d, migrations[v][i]);
            if (sql && (err = pchat_raw_query(p, driver, h, sql))) {
                return err;
            }
        }
        err = pchat_raw_query(p, driver, h, apr_psprintf(
            p, "INSERT INTO pchat_schema VALUES (%d)", v + 1));
        if (err) {
            return err;
        }
    }
    return NULL;
}

const char *pchat_schema_migrate(apr_pool_t *p, server_rec *s,
                                 const apr_dbd_driver_t *driver,
                                 const pchat_dialect *d, apr_dbd_t *h)
{
    const char *err;
    int from = 0;

    if (d->before_migrate) {
        err = pchat_raw_select(p, driver, h, d->before_migrate);
        if (err) {
            return err;
        }
    }
    err = pchat_raw_query(p, driver, h, d->begin_write);
    if (!err && d->migration_lock) {
        err = pchat_raw_query(p, driver, h, d->migration_lock);
    }
    if (!err) {
        err = apply_migrations(p, driver, d, h, &from);
    }
    if (err) {
        pchat_raw_query(p, driver, h, "ROLLBACK");
        return err;
    }
    err = pchat_raw_query(p, driver, h, "COMMIT");
    if (!err && from < SCHEMA_VERSION) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, PCHAT_LOGNO(00201)
                     "database schema migrated from version %d to %d",
                     from, SCHEMA_VERSION);
    }
    return err;
}

