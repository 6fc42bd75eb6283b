/* APR DBD storage: the connection pool, statements, transactions (the
 * schema is in pchat_schema.c, the dialects in pchat_dialect.c). */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include "apr_reslist.h"
#include "apr_allocator.h"
#include "apr_thread_mutex.h"
#include "apr_hash.h"
#include "apr_file_info.h"
#include "apr_file_io.h"
#include "unixd.h"
#include "util_mutex.h"
#include "apr_atomic.h"
#include "pchat_libpq.h"
#include "pchat_store.h"
#include "pchat_schema.h"
#include "pchat_changes.h"
#include "pchat_shm.h"

/* The Mutex directive's name for the lock that serialises this node's
 * writes. */
#define WRITE_MUTEX_TYPE "payloadchat-write"

/* Prepared statements cached per connection before the cache starts over. */
#define STMT_CACHE_MAX 256
/* Remembered counts per database and child before that cache starts over. */
#define COUNT_CACHE_MAX 512
/* How long a request waits for a free connection. */
#define ACQUIRE_TIMEOUT apr_time_from_sec(10)
/* Idle connections are closed after this long. */
#define CONN_TTL apr_time_from_sec(300)

struct pchat_db {
    server_rec *s;
    const char *params;
    const apr_dbd_driver_t *driver;
    const pchat_dialect *dialect;
    const char *next_seq;      /* what PCHAT_NEXT_SEQ stands for */
    pchat_sync_mode sync;
    int max;
    apr_reslist_t *conns;   /* per child process */
    apr_global_mutex_t *write_mutex;   /* one writer per node at a time */
    apr_uint32_t generation;   /* grows when a broken connection is found */
    apr_thread_mutex_t *counts_mu;     /* guards the three below */
    apr_pool_t *counts_pool;
    apr_hash_t *counts;        /* where key -> count_entry, per child */
    unsigned ncounts;
    apr_uint32_t next_purge_s; /* when this child may purge tombstones */
};

/* A remembered count and the version of the data it was taken at. */
typedef struct {
    apr_int64_t version;
    apr_int64_t count;
} count_entry;

struct pchat_conn {
    apr_pool_t *pool;
    apr_dbd_t *handle;
    pchat_db *db;
    apr_pool_t *stmt_pool;
    apr_hash_t *stmts;       /* SQL text -> apr_dbd_prepared_t */
    unsigned nstmts;
    int in_txn;              /* holds the node's write lock */
    int failed;              /* a statement failed since the acquire */
    int fd;                  /* PostgreSQL's socket, or -1 */
    apr_uint32_t generation; /* db->generation when last known alive */
};

/* ---- connections ------------------------------------------------------------ */

/* Per-connection settings: sqlite waits for a busy writer instead of
 * failing at once, and syncs as configured. */
static const char *init_connection(apr_pool_t *p, pchat_db *db, apr_dbd_t *h)
{
    static const char *const sync[] = {"OFF", "NORMAL", "FULL"};
    const pchat_dialect *d = db->dialect;
    const char *err = NULL;

    if (d->on_connect) {
        err = pchat_raw_select(p, db->driver, h, d->on_connect);
    }
    if (!err && d->set_sync) {
        err = pchat_raw_select(p, db->driver, h, apr_pstrcat(
            p, d->set_sync, sync[db->sync], NULL));
    }
    return err;
}

static const char *open_handle(apr_pool_t *p, pchat_db *db, apr_dbd_t **h)
{
    const char *error = NULL;
    apr_status_t rv = apr_dbd_open_ex(db->driver, p, db->params, h, &error);

    if (rv != APR_SUCCESS) {
        return apr_psprintf(p, "cannot open the %s database: %s",
                            db->dialect->driver, error ? error : "(no detail)");
    }
    return init_connection(p, db, *h);
}

int pchat_db_can_listen(const pchat_db *db)
{
    return db->dialect->listen != NULL;
}

const apr_dbd_driver_t *pchat_db_driver(const pchat_db *db)
{
    return db->driver;
}

const char *pchat_db_open_listening(pchat_db *db, apr_pool_t *p,
                                    apr_dbd_t **h)
{
    const char *err = open_handle(p, db, h);

    if (!err && (err = pchat_raw_query(p, db->driver, *h,
                                          db->dialect->listen))) {
        apr_dbd_close(db->driver, *h);
    }
    return err;
}

/* The socket of a PostgreSQL connection, where libpq can be reached. */
static int server_socket(pchat_db *db, apr_dbd_t *handle)
{
    pchat_libpq pq;

    if (!db->dialect->libpq || pchat_libpq_find(&pq)) {
        return -1;
    }
    return pq.socket_fd(apr_dbd_native_handle(db->driver, handle));
}

static apr_status_t conn_construct(void **resource, void *params,
                                   apr_pool_t *pool)
{
    pchat_db *db = params;
    pchat_conn *c;
    apr_pool_t *cp;
    const char *err;

    apr_pool_create(&cp, pool);
    apr_pool_tag(cp, "pchat_conn");
    c = apr_pcalloc(cp, sizeof(*c));
    c->pool = cp;
    c->db = db;
    err = open_handle(cp, db, &c->handle);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, db->s, PCHAT_LOGNO(00202)
                     "%s", err);
        apr_pool_destroy(cp);
        return APR_EGENERAL;
    }
    apr_pool_create(&c->stmt_pool, cp);
    c->stmts = apr_hash_make(c->stmt_pool);
    c->generation = apr_atomic_read32(&db->generation);
    c->fd = server_socket(db, c->handle);
    pchat_shm_db_add(1, 0);
    *resource = c;
    return APR_SUCCESS;
}

static apr_status_t conn_destruct(void *resource, void *params,
                                  apr_pool_t *pool)
{
    pchat_conn *c = resource;

    pchat_shm_db_add(-1, 0);
    apr_pool_destroy(c->stmt_pool);   /* finalises statements first */
    apr_dbd_close(c->db->driver, c->handle);
    apr_pool_destroy(c->pool);
    return APR_SUCCESS;
}

pchat_db *pchat_store_db(const server_rec *s)
{
    return pchat_conf(s)->db;
}

/* Whether the database still answers on this connection: a statement
 * that returns no row, fine on both dialects, one round trip. */
static int conn_alive(pchat_conn *c)
{
    int nrows;

    return apr_dbd_query(c->db->driver, c->handle, &nrows,
                         "SELECT 1 WHERE 1 = 0") == 0;
}

/* A database restart breaks every pooled connection at once.  An idle
 * PostgreSQL connection has nothing to read unless its server said goodbye
 * (a shutdown's FATAL message, or the end of file of a crash), so one
 * poll() finds those before a request uses them.  What it cannot see (a
 * server gone without a word) the request that meets it finds: it fails,
 * the store's generation grows, and every other pooled connection is
 * checked once before its next use. */
static apr_status_t acquire_alive(pchat_db *db, void **resource)
{
    apr_status_t rv;
    int tries;

    for (tries = 0; tries <= db->max; tries++) {
        apr_uint32_t now = apr_atomic_read32(&db->generation);
        pchat_conn *c;

        if ((rv = apr_reslist_acquire(db->conns, resource)) != APR_SUCCESS) {
            return rv;
        }
        c = *resource;
        if ((c->generation == now
             && (c->fd < 0 || !pchat_fd_readable(c->fd)))
            || conn_alive(c)) {
            c->generation = now;
            return APR_SUCCESS;
        }
        apr_reslist_invalidate(db->conns, c);
    }
    return APR_EGENERAL;
}

pchat_conn *pchat_conn_acquire_server(server_rec *s)
{
    pchat_db *db = pchat_conf(s)->db;
    void *resource = NULL;
    apr_status_t rv;

    if (!db || !db->conns) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, PCHAT_LOGNO(00203)
                     "no database configured for this server");
        return NULL;
    }
    rv = acquire_alive(db, &resource);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, PCHAT_LOGNO(00204)
                     "no database connection available");
        return NULL;
    }
    pchat_shm_db_add(0, 1);
    return resource;
}

pchat_conn *pchat_conn_acquire(request_rec *r)
{
    return pchat_conn_acquire_server(r->server);
}

void pchat_conn_release(pchat_conn *c)
{
    if (!c) {
        return;
    }
    pchat_shm_db_add(0, -1);
    if (c->failed) {
        c->failed = 0;
        if (!conn_alive(c)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, c->db->s,
                         PCHAT_LOGNO(00208) "a database connection broke; "
                         "checking the others before their next use");
            apr_atomic_inc32(&c->db->generation);
            apr_reslist_invalidate(c->db->conns, c);
            return;
        }
    }
    apr_reslist_release(c->db->conns, c);
}

/* ---- statements --------------------------------------------------------- */

static int log_db_error(pchat_conn *c, int rv, const char *what,
                        const char *sql)
{
    c->failed = 1;
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, c->db->s, PCHAT_LOGNO(00205)
                 "%s failed (%d: %s): %s", what, rv,
                 apr_dbd_error(c->db->driver, c->handle, rv), sql);
    return rv ? rv : -1;
}

/* Writers of one node queue here, not inside the database.  apr_dbd's
 * sqlite driver holds one process-wide mutex while a statement runs, busy
 * waits included: a thread waiting there for sqlite's write lock would
 * stall the thread of the same process that holds that lock and needs the
 * mutex to finish its transaction.  Queueing on our lock first means
 * sqlite's lock is only ever contended by other nodes and tools. */
static void lock_writes(pchat_db *db)
{
    apr_status_t rv = apr_global_mutex_lock(db->write_mutex);

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, db->s, PCHAT_LOGNO(00209)
                     "cannot take the write lock");
    }
}

static void unlock_writes(pchat_db *db)
{
    apr_global_mutex_unlock(db->write_mutex);
}

static apr_dbd_prepared_t *prepared(pchat_conn *c, const char *text, int *rv)
{
    apr_dbd_prepared_t *stmt = apr_hash_get(c->stmts, text,
                                            APR_HASH_KEY_STRING);
    const char *label = NULL, *sql;

    if (stmt) {
        return stmt;
    }
    if (c->nstmts >= STMT_CACHE_MAX) {
        apr_pool_clear(c->stmt_pool);
        c->stmts = apr_hash_make(c->stmt_pool);
        c->nstmts = 0;
    }
    text = apr_pstrdup(c->stmt_pool, text);
    if (c->db->dialect->named_statements) {
        /* pgsql prepares on the server only under a name. */
        label = apr_psprintf(c->stmt_pool, "pchat_%u_%pp", c->nstmts, c);
    }
    sql = pchat_replace_all(c->stmt_pool, text, PCHAT_NEXT_SEQ,
                            c->db->next_seq);
    *rv = apr_dbd_prepare(c->db->driver, c->stmt_pool, c->handle, sql,
                          label, &stmt);
    if (*rv) {
        log_db_error(c, *rv, "prepare", sql);
        return NULL;
    }
    apr_hash_set(c->stmts, text, APR_HASH_KEY_STRING, stmt);
    c->nstmts++;
    return stmt;
}

int pchat_db_select(pchat_conn *c, apr_pool_t *p, const pchat_sql *sql,
                    apr_dbd_results_t **res)
{
    int rv = 0;
    apr_dbd_prepared_t *stmt = prepared(c, sql->text, &rv);

    if (!stmt) {
        return rv ? rv : -1;
    }
    *res = NULL;
    rv = apr_dbd_pbselect(c->db->driver, p, c->handle, res, stmt,
                          c->db->dialect->random_access,
                          (const void **)sql->args->elts);
    if (rv && !pchat_db_is_unique_violation(c, rv)) {
        log_db_error(c, rv, "select", sql->text);
    }
    return rv;
}

int pchat_db_exec(pchat_conn *c, apr_pool_t *p, const pchat_sql *sql,
                  int *nrows)
{
    int rv = 0;
    apr_dbd_prepared_t *stmt = prepared(c, sql->text, &rv);

    if (!stmt) {
        return rv ? rv : -1;
    }
    *nrows = 0;
    if (!c->in_txn) {
        lock_writes(c->db);
    }
    rv = apr_dbd_pbquery(c->db->driver, p, c->handle, nrows, stmt,
                         (const void **)sql->args->elts);
    if (!c->in_txn) {
        unlock_writes(c->db);
    }
    if (rv && !pchat_db_is_unique_violation(c, rv)) {
        log_db_error(c, rv, "query", sql->text);
    }
    return rv;
}

int pchat_db_next_row(pchat_conn *c, apr_pool_t *p, apr_dbd_results_t *res,
                      apr_dbd_row_t **row)
{
    /* pgsql counts rows in the row it is given: hand back the last one */
    return apr_dbd_get_row(c->db->driver, p, res, row, -1) == 0;
}

const char *pchat_db_entry(pchat_conn *c, apr_dbd_row_t *row, int col)
{
    return apr_dbd_get_entry(c->db->driver, row, col);
}

const char *pchat_db_error(pchat_conn *c, int rv)
{
    return apr_dbd_error(c->db->driver, c->handle, rv);
}

int pchat_db_is_unique_violation(pchat_conn *c, int rv)
{
    const char *msg = rv ? pchat_db_error(c, rv) : NULL;

    return msg && (strstr(msg, "UNIQUE constraint")
                   || strstr(msg, "duplicate key"));
}

static int txn_query(pchat_conn *c, const char *sql)
{
    int nrows, rv = apr_dbd_query(c->db->driver, c->handle, &nrows, sql);

    return rv ? log_db_error(c, rv, "transaction", sql) : 0;
}

int pchat_db_begin(pchat_conn *c)
{
    int rv, nrows;

    lock_writes(c->db);
    rv = txn_query(c, c->db->dialect->begin_write);
    if (rv) {
        /* a lock that failed after BEGIN leaves a transaction open; where
         * none is, the error of this ROLLBACK says nothing new */
        apr_dbd_query(c->db->driver, c->handle, &nrows, "ROLLBACK");
        unlock_writes(c->db);
    }
    c->in_txn = !rv;
    return rv;
}

static int end_txn(pchat_conn *c, const char *sql)
{
    int rv = txn_query(c, sql);

    if (c->in_txn) {
        c->in_txn = 0;
        unlock_writes(c->db);
    }
    return rv;
}

int pchat_db_commit(pchat_conn *c)
{
    return end_txn(c, "COMMIT");
}

void pchat_db_rollback(pchat_conn *c)
{
    end_txn(c, "ROLLBACK");
}

int pchat_db_count_recall(pchat_conn *c, const char *key,
                          apr_int64_t version, apr_int64_t *count)
{
    pchat_db *db = c->db;
    count_entry *e;
    int found = 0;

    apr_thread_mutex_lock(db->counts_mu);
    e = apr_hash_get(db->counts, key, APR_HASH_KEY_STRING);
    if (e && e->version == version) {
        *count = e->count;
        found = 1;
    }
    apr_thread_mutex_unlock(db->counts_mu);
    return found;
}

void pchat_db_count_remember(pchat_conn *c, const char *key,
                             apr_int64_t version, apr_int64_t count)
{
    pchat_db *db = c->db;
    count_entry *e;

    apr_thread_mutex_lock(db->counts_mu);
    e = apr_hash_get(db->counts, key, APR_HASH_KEY_STRING);
    if (!e) {
        if (db->ncounts >= COUNT_CACHE_MAX) {
            apr_pool_clear(db->counts_pool);
            db->counts = apr_hash_make(db->counts_pool);
            db->ncounts = 0;
        }
        e = apr_pcalloc(db->counts_pool, sizeof(*e));
        apr_hash_set(db->counts, apr_pstrdup(db->counts_pool, key),
                     APR_HASH_KEY_STRING, e);
        db->ncounts++;
    }
    if (version >= e->version) {   /* never overwrite a newer one */
        e->version = version;
        e->count = count;
    }
    apr_thread_mutex_unlock(db->counts_mu);
}

int pchat_db_purge_turn(pchat_db *db, int every_s)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t due = apr_atomic_read32(&db->next_purge_s);

    return now >= due
           && apr_atomic_cas32(&db->next_purge_s, now + (apr_uint32_t)every_s,
                               due) == due;
}

int pchat_db_seq_takes_lock(const pchat_conn *c)
{
    return c->db->dialect->seq_takes_lock;
}

/* ---- setup ----------------------------------------------------------------- */

/* The child processes run as the configured User: when we start as root,
 * the sqlite file, its WAL files and a directory we created are theirs. */
static void give_to_child_user(apr_pool_t *p, const char *path)
{
    if (geteuid() == 0 && chown(path, ap_unixd_config.user_id,
                                ap_unixd_config.group_id) != 0
        && errno != ENOENT) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, errno, NULL,
                     PCHAT_LOGNO(00206) "cannot hand %s to the child user",
                     path);
    }
}

static const char *prepare_sqlite_dir(apr_pool_t *p, const char *file)
{
    char *dir = ap_make_dirstr_parent(p, file);
    apr_finfo_t fi;

    if (apr_stat(&fi, dir, APR_FINFO_TYPE, p) != APR_SUCCESS) {
        apr_status_t rv = apr_dir_make_recursive(
            dir, APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE
                 | APR_FPROT_GREAD | APR_FPROT_GEXECUTE, p);
        if (rv != APR_SUCCESS) {
            return apr_psprintf(p, "cannot create the directory %s", dir);
        }
        give_to_child_user(p, dir);
    }
    return NULL;
}

static void give_sqlite_files(apr_pool_t *p, const char *file)
{
    give_to_child_user(p, file);
    give_to_child_user(p, apr_pstrcat(p, file, "-wal", NULL));
    give_to_child_user(p, apr_pstrcat(p, file, "-shm", NULL));
}

static const char *open_db(apr_pool_t *pconf, apr_pool_t *ptemp,
                           server_rec *s, pchat_db **out)
{
    const char *driver = pchat_conf_db_driver(s);
    pchat_db *db = apr_pcalloc(pconf, sizeof(*db));
    apr_dbd_t *h = NULL;
    const char *err;
    apr_status_t rv;

    db->s = s;
    db->params = pchat_conf_db_params(pconf, s);
    db->dialect = pchat_dialect_find(driver);
    db->next_seq = pchat_changes_next_seq(pconf, db->dialect);
    db->sync = pchat_conf_sqlite_sync(s);
    db->max = pchat_conf_db_max(s);
    rv = apr_dbd_get_driver(pconf, driver, &db->driver);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(ptemp, "PayloadChatDatabase: the APR DBD driver "
                            "'%s' is not available (Debian package "
                            "libaprutil1-dbd-%s)", driver, driver);
    }
    if (db->dialect->local_file
        && (err = prepare_sqlite_dir(ptemp, db->params))) {
        return err;
    }
    rv = ap_global_mutex_create(&db->write_mutex, NULL, WRITE_MUTEX_TYPE,
                                apr_psprintf(ptemp, "%pp", (void *)s), s,
                                pconf, 0);
    if (rv != APR_SUCCESS) {
        return "cannot create the write lock (see the Mutex directive)";
    }
    err = open_handle(ptemp, db, &h);
    if (!err) {
        err = pchat_schema_migrate(ptemp, s, db->driver, db->dialect, h);
        apr_dbd_close(db->driver, h);
    }
    if (db->dialect->local_file) {
        give_sqlite_files(ptemp, db->params);
    }
    *out = db;
    return err;
}

/* The nearest existing directory on the way to the sqlite file must be a
 * directory (the file's own directory is made at startup when missing),
 * and the file, when there, a regular file. */
static const char *check_sqlite_path(apr_pool_t *p, const char *file)
{
    char *dir = apr_pstrdup(p, file);
    apr_finfo_t fi;

    if (apr_stat(&fi, file, APR_FINFO_TYPE, p) == APR_SUCCESS
        && fi.filetype != APR_REG) {
        return apr_psprintf(p, "%s is not a regular file", file);
    }
    do {    /* up one level: cut the last "/name" */
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir) {
            return NULL;
        }
        *slash = '\0';
    } while (apr_stat(&fi, dir, APR_FINFO_TYPE, p) != APR_SUCCESS);
    if (fi.filetype != APR_DIR) {
        return apr_psprintf(p, "%s is not a directory", dir);
    }
    return NULL;
}

const char *pchat_store_check(apr_pool_t *p, server_rec *s)
{
    server_rec *vs;

    for (vs = s; vs; vs = vs->next) {
        const char *driver = pchat_conf_db_driver(vs);
        const apr_dbd_driver_t *d;
        const char *err = NULL;

        if (!pchat_conf_enabled(vs)) {
            continue;
        }
        if (apr_dbd_get_driver(p, driver, &d) != APR_SUCCESS) {
            err = apr_psprintf(p, "the APR DBD driver '%s' is not available"
                               " (Debian package libaprutil1-dbd-%s)",
                               driver, driver);
        }
        else if (pchat_dialect_find(driver)->local_file) {
            err = check_sqlite_path(p, pchat_conf_db_params(p, vs));
        }
        if (err) {
            return apr_psprintf(p, "PayloadChatDatabase: %s", err);
        }
    }
    return NULL;
}

/* An earlier server with the same database, whose store can be shared. */
static pchat_db *same_db(apr_pool_t *p, server_rec *first, server_rec *vs)
{
    const char *driver = pchat_conf_db_driver(vs);
    const char *params = pchat_conf_db_params(p, vs);
    server_rec *o;

    for (o = first; o != vs; o = o->next) {
        pchat_db *db = pchat_conf(o)->db;
        if (db && !strcmp(db->dialect->driver, driver)
            && !strcmp(db->params, params)) {
            return db;
        }
    }
    return NULL;
}

const char *pchat_store_setup(apr_pool_t *pconf, apr_pool_t *ptemp,
                              server_rec *s)
{
    server_rec *vs;

    for (vs = s; vs; vs = vs->next) {
        pchat_server_conf *conf = pchat_conf(vs);
        const char *err;

        if (!pchat_conf_enabled(vs)) {
            continue;       /* no database, no hub: the module is off here */
        }
        conf->db = same_db(ptemp, s, vs);
        if (!conf->db && (err = open_db(pconf, ptemp, vs, &conf->db))) {
            return err;
        }
    }
    return NULL;
}

static apr_status_t destroy_pool(void *pool)
{
    apr_pool_destroy(pool);
    return APR_SUCCESS;
}

apr_pool_t *pchat_shared_pool(apr_pool_t *parent)
{
    apr_allocator_t *allocator;
    apr_thread_mutex_t *mutex;
    apr_pool_t *pool;

    apr_allocator_create(&allocator);
    apr_pool_create_ex(&pool, NULL, NULL, allocator);
    apr_allocator_owner_set(allocator, pool);
    apr_thread_mutex_create(&mutex, APR_THREAD_MUTEX_DEFAULT, pool);
    apr_allocator_mutex_set(allocator, mutex);
    apr_pool_tag(pool, "pchat_shared");
    /* Not a sub-pool: those go before the parent's cleanups, and prefork
     * creates its request pools before child_init, so they would outlive
     * ours.  A cleanup of the parent runs after every sub-pool is gone. */
    apr_pool_cleanup_register(parent, pool, destroy_pool,
                              apr_pool_cleanup_null);
    return pool;
}

/* Closes the connections before the pool's sub-pools (theirs) are
 * destroyed under them: a pre-cleanup runs first.  When a child is killed
 * in the middle of a request (prefork's SIGTERM handler exits from where
 * it interrupted us), a connection may still be in use: then leave them
 * all to the exiting process. */
static apr_status_t close_connections(void *data)
{
    pchat_db *db = data;

    if (db->conns && apr_reslist_acquired_count(db->conns) == 0) {
        apr_reslist_destroy(db->conns);
        db->conns = NULL;
    }
    return APR_SUCCESS;
}

void pchat_store_pre_config(apr_pool_t *pconf)
{
    ap_mutex_register(pconf, WRITE_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

apr_status_t pchat_store_child_init(apr_pool_t *pchild, server_rec *s)
{
    server_rec *vs;
    apr_pool_t *shared = pchat_shared_pool(pchild);

    for (vs = s; vs; vs = vs->next) {
        pchat_db *db = pchat_conf(vs)->db;
        apr_status_t rv;

        if (!db || db->conns) {
            continue;
        }
        rv = apr_global_mutex_child_init(
            &db->write_mutex, apr_global_mutex_lockfile(db->write_mutex),
            pchild);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, vs, PCHAT_LOGNO(00210)
                         "cannot attach to the write lock");
            return rv;
        }
        rv = apr_reslist_create(&db->conns, 0, db->max, db->max, CONN_TTL,
                                conn_construct, conn_destruct, db, shared);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, vs, PCHAT_LOGNO(00207)
                         "cannot create the database connection pool");
            return rv;
        }
        apr_reslist_timeout_set(db->conns, ACQUIRE_TIMEOUT);
        apr_thread_mutex_create(&db->counts_mu, APR_THREAD_MUTEX_DEFAULT,
                                shared);
        apr_pool_create(&db->counts_pool, shared);
        db->counts = apr_hash_make(db->counts_pool);
        apr_pool_pre_cleanup_register(shared, db, close_connections);
    }
    return APR_SUCCESS;
}
