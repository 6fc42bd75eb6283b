/* The hub's listening connection.
 *
 * Every write transaction on PostgreSQL queues a notification with its
 * write lock (see the dialects in pchat_dialect.c); PostgreSQL delivers it to
 * every listening session when the transaction commits.  A hub that hears
 * one probes MAX(seq) at once, so a message posted on one node reaches the
 * streams of every other node within a hub tick instead of a poll interval.
 * The poll stays as the backstop: a notification only says "look now".
 *
 * apr_dbd has no call for notifications: we reach libpq through the
 * driver's native handle (pchat_libpq.c). */
#include "pchat_libpq.h"
#include "pchat_listen.h"

/* Reconnects back off from 1 s to 30 s while the database stays away. */
#define RETRY_FIRST apr_time_from_sec(1)
#define RETRY_MAX apr_time_from_sec(30)

struct pchat_listener {
    server_rec *s;
    pchat_db *db;
    apr_pool_t *pool;
    apr_pool_t *conn_pool;      /* the open connection's, or NULL */
    apr_dbd_t *handle;
    void *pg;                   /* its PGconn */
    int fd;
    apr_time_t retry_at;        /* no reconnect before this */
    apr_time_t backoff;         /* then wait this long after a failure */
    pchat_libpq pq;
};

pchat_listener *pchat_listener_make(apr_pool_t *p, server_rec *s,
                                    pchat_db *db)
{
    pchat_listener *l;
    const char *missing;

    if (!db || !pchat_db_can_listen(db) || !pchat_conf_stream_listen(s)) {
        return NULL;
    }
    l = apr_pcalloc(p, sizeof(*l));
    l->s = s;
    l->db = db;
    l->pool = p;
    l->fd = -1;
    l->backoff = RETRY_FIRST;
    if ((missing = pchat_libpq_find(&l->pq))) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PCHAT_LOGNO(00701)
                     "libpq's notification calls not found (%s): other "
                     "nodes' messages arrive with each poll only", missing);
        return NULL;
    }
    return l;
}

static apr_status_t close_handle(void *data)
{
    pchat_listener *l = data;

    apr_dbd_close(pchat_db_driver(l->db), l->handle);
    return APR_SUCCESS;
}

static void listener_close(pchat_listener *l)
{
    apr_pool_destroy(l->conn_pool);   /* closes the handle */
    l->conn_pool = NULL;
    l->handle = NULL;
    l->pg = NULL;
    l->fd = -1;
}

static int listener_open(pchat_listener *l)
{
    const char *err;

    apr_pool_create(&l->conn_pool, l->pool);
    apr_pool_tag(l->conn_pool, "pchat_listen");
    err = pchat_db_open_listening(l->db, l->conn_pool, &l->handle);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, l->s, PCHAT_LOGNO(00702)
                     "stream listener: %s; retrying in %" APR_TIME_T_FMT " s",
                     err, apr_time_sec(l->backoff));
        apr_pool_destroy(l->conn_pool);
        l->conn_pool = NULL;
        return 0;
    }
    apr_pool_cleanup_register(l->conn_pool, l, close_handle,
                              apr_pool_cleanup_null);
    l->pg = apr_dbd_native_handle(pchat_db_driver(l->db), l->handle);
    l->fd = l->pq.socket_fd(l->pg);
    return 1;
}

int pchat_listener_heard(pchat_listener *l, apr_time_t now)
{
    void *n;
    int heard = 0;

    if (!l) {
        return 0;
    }
    if (!l->handle) {
        if (now < l->retry_at) {
            return 0;
        }
        if (!listener_open(l)) {
            l->retry_at = now + l->backoff;
            l->backoff = l->backoff * 2 > RETRY_MAX ? RETRY_MAX
                                                     : l->backoff * 2;
            return 0;
        }
        l->backoff = RETRY_FIRST;
        return 1;
    }
    if (!pchat_fd_readable(l->fd)) {
        return 0;
    }
    if (!l->pq.consume(l->pg)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, l->s, PCHAT_LOGNO(00703)
                     "stream listener lost its connection: %s; reconnecting",
                     apr_dbd_error(pchat_db_driver(l->db), l->handle, 0));
        listener_close(l);
        l->retry_at = now;
        return 1;
    }
    while ((n = l->pq.notifies(l->pg))) {
        l->pq.freemem(n);
        heard = 1;
    }
    return heard;
}
