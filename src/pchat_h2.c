/* HTTP/2 streams: their count per child and per connection.
 *
 * mod_http2 (2.0.x in Apache 2.4.71) processes an h2 request on a secondary
 * connection in one of its own worker threads (H2MaxWorkers per child,
 * by default 1.5 x ThreadsPerChild) and gives the worker back only when
 * the handler returns; the event MPM's suspend cannot apply there.  A live
 * stream therefore holds one h2 worker.  mod_http2 also processes at most
 * a few requests of one connection at a time: 6 on a new connection, more
 * once requests finish, and fewer after resets it dislikes.  Streams that
 * never finish can thus hold every slot of their connection, and the
 * page's next API request on that connection then waits for ever.  So an
 * h2 stream is refused, with Retry-After, before either runs out: 429 when
 * its connection already has PayloadChatStreamMaxPerH2Connection streams,
 * 503 when this child has PayloadChatStreamMaxH2.
 *
 * An h2 connection with a stream open also holds one of the event MPM's
 * worker threads: its main connection stays in processing while its
 * secondary connections run, and does not go back to the listener.  With
 * 2 children x 32 threads, 64 connections of 4 streams took every worker
 * (256 streams), and a plain request on a new connection then waited
 * (AH00484).  So a stream that would make one more connection of this
 * child hold streams is refused with 503 too once this child has
 * PayloadChatStreamMaxH2Connections of them (default half of
 * ThreadsPerChild), leaving the other workers to ordinary requests. */
#include <stdlib.h>
#include "apr_hash.h"
#include "apr_thread_mutex.h"
#include "ap_mpm.h"
#include "http_config.h"
#include "pchat_h2.h"
#include "pchat_config.h"
#include "pchat_shm.h"

/* The streams of one h2 connection.  Keyed by the connection's address,
 * not its id: the event MPM's c->id names the worker thread that accepted
 * it, so two connections can share one, and a stream of the older one
 * ending would then free a slot of the newer. */
typedef struct {
    conn_rec *master;
    int n;
} conn_streams;

static apr_thread_mutex_t *mu;
static apr_hash_t *per_conn;   /* &entry->master -> entry (malloc'd) */
static int streams;            /* this child's */
static int holding;            /* this child's connections with streams */
static int workers;            /* mod_http2's per child */
static int threads;            /* the MPM's per child */

/* A directive's argument in the main server's config, or NULL. */
static const char *main_directive(const char *name)
{
    const ap_directive_t *d;

    for (d = ap_conftree; d; d = d->next) {
        if (!strcasecmp(d->directive, name)) {
            return d->args;
        }
    }
    return NULL;
}

/* As mod_http2 computes it: H2MaxWorkers, else 3/2 of H2MinWorkers, which
 * defaults to ThreadsPerChild; at least 4. */
static int h2_workers(void)
{
    const char *maxw = main_directive("H2MaxWorkers");
    const char *minw = main_directive("H2MinWorkers");
    int n;

    if (maxw && (n = atoi(maxw)) > 0) {
        return n;
    }
    n = minw && atoi(minw) > 0 ? atoi(minw) : threads;
    return 3 * n / 2 > 4 ? 3 * n / 2 : 4;
}

void pchat_h2_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_thread_mutex_create(&mu, APR_THREAD_MUTEX_DEFAULT, pchild);
    per_conn = apr_hash_make(pchild);
    ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads);
    workers = h2_workers();
}

int pchat_h2_max_streams(const server_rec *s)
{
    int n = pchat_conf_stream_max_h2(s);

    return n > 0 ? n : (workers / 2 > 1 ? workers / 2 : 1);
}

int pchat_h2_max_connections(const server_rec *s)
{
    int n = pchat_conf_stream_max_h2_conns(s);

    return n > 0 ? n : (threads / 2 > 1 ? threads / 2 : 1);
}

int pchat_h2_streams(void)
{
    int n;

    apr_thread_mutex_lock(mu);
    n = streams;
    apr_thread_mutex_unlock(mu);
    return n;
}

static apr_status_t release(void *data)
{
    conn_streams *cs = data;
    int last;

    apr_thread_mutex_lock(mu);
    if ((last = --cs->n == 0)) {
        apr_hash_set(per_conn, &cs->master, sizeof(cs->master), NULL);
        free(cs);
        holding--;
    }
    streams--;
    apr_thread_mutex_unlock(mu);
    pchat_shm_h2_subscribers_add(-1);
    if (last) {
        pchat_shm_h2_connections_add(-1);
    }
    return APR_SUCCESS;
}

pchat_error *pchat_h2_admit(request_rec *r)
{
    conn_rec *master = r->connection->master;
    int per_conn_max = pchat_conf_stream_max_per_h2_conn(r->server);
    int child_max = pchat_h2_max_streams(r->server);
    int conns_max = pchat_h2_max_connections(r->server);
    conn_streams *cs;
    pchat_error *err = NULL;
    int first = 0;

    if (!master || !mu) {
        return NULL;
    }
    apr_thread_mutex_lock(mu);
    cs = apr_hash_get(per_conn, &master, sizeof(master));
    if (cs && cs->n >= per_conn_max) {
        err = pchat_error_make(r->pool, HTTP_TOO_MANY_REQUESTS, NULL, NULL,
            apr_psprintf(r->pool, "This HTTP/2 connection has %d streams "
                         "open already, the most allowed.", per_conn_max));
    }
    else if (streams >= child_max) {
        err = pchat_unavailable(r, 5, "Too many HTTP/2 streams on this "
                                "server; try again later.");
    }
    else if (!cs && holding >= conns_max) {
        err = pchat_error_make(r->pool, HTTP_SERVICE_UNAVAILABLE, NULL, NULL,
            apr_psprintf(r->pool, "Too many HTTP/2 connections with streams "
                         "open on this server process (%d, the most "
                         "allowed): each holds a worker thread; try again "
                         "later.", conns_max));
    }
    else if (!cs && !(cs = calloc(1, sizeof(*cs)))) {
        err = pchat_unavailable(r, 5, "Out of memory; try again later.");
    }
    else {
        if ((first = !cs->n++)) {
            cs->master = master;
            apr_hash_set(per_conn, &cs->master, sizeof(cs->master), cs);
            holding++;
        }
        streams++;
    }
    apr_thread_mutex_unlock(mu);
    if (err) {
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "h2 stream refused: %s",
                      err->message);
        return err;
    }
    pchat_shm_h2_subscribers_add(1);
    if (first) {
        pchat_shm_h2_connections_add(1);
    }
    apr_pool_cleanup_register(r->pool, cs, release, apr_pool_cleanup_null);
    return NULL;
}
