/* The stream.
 *
 * Every change to a message gives it the next `seq` inside the writing
 * transaction (see pchat_changes.c), so seq order is commit order and a
 * cursor "everything after seq S" loses nothing and repeats nothing.
 *
 * Each child process runs one hub thread per database.  It learns of new
 * changes cheaply: writers in any child of this node bump a counter in
 * shared memory (checked every HUB_TICK), and once per poll interval the hub
 * asks the database for MAX(seq) to see writes made by other nodes.  Only
 * when the known maximum grows do subscribers query the database, so an
 * idle stream costs one query per process per interval, whatever the
 * number of subscribers.
 *
 * Two drivers serve a subscriber.  On the event MPM the handler writes the
 * first frames and returns SUSPENDED: no thread is held.  The hub thread
 * watches the parked subscribers and, when one has something to send (a
 * change, a keep-alive, a gone client, a stopping server), hands it to a
 * worker through an already-expired timed callback — registering a timer
 * also wakes the MPM's listener, which on 2.4.71 does not fire timers on an
 * idle server by itself.  Everywhere else (prefork, worker, HTTP/2) a
 * blocking loop holds the worker thread for the life of the stream. */
#include "pchat_stream_private.h"

/* Scratch memory for one delivery, cleared when it ends: one pool per
 * delivering thread (a worker, or a blocking stream's own thread) rather
 * than one per subscriber, which would keep 8 KiB more for every parked
 * stream.  Worker threads live as long as their process, as do these. */
static apr_pool_t *tick_pool(void)
{
    static _Thread_local apr_pool_t *scratch;

    if (!scratch) {
        pchat_shedding_pool_create(&scratch, NULL, "pchat_tick");
    }
    return scratch;
}

/* Users in stream docs are reduced to id and email, as the original app's
 * populate: {users: {email: true}} did. */
static void reduce_users(json_t *docs)
{
    static const char *const fields[] = {"sender", "receiver"};
    json_t *doc;
    size_t i, f;

    json_array_foreach(docs, i, doc) {
        for (f = 0; f < 2; f++) {
            json_t *u = json_object_get(doc, fields[f]);
            if (json_is_object(u)) {
                json_object_set_new(doc, fields[f], json_pack(
                    "{s:O,s:O,s:s}", "id", json_object_get(u, "id"),
                    "email", json_object_get(u, "email"),
                    "collection", "users"));
            }
        }
    }
}

/* Frames one run of docs: upserts as `message`, tombstones as `delete`. */
static int send_run(pchat_sub *sub, pchat_conn *c, json_t *docs, int deleted,
                    apr_int64_t last_seq)
{
    if (!json_array_size(docs)) {
        return 0;
    }
    if (deleted) {
        pchat_sse_deleted(sub, tick_pool(), last_seq, docs);
        return 0;
    }
    if (pchat_docs_populate(c, tick_pool(), &pchat_messages, docs, 1)) {
        return -1;
    }
    reduce_users(docs);
    pchat_sse_messages(sub, last_seq, docs);
    return 0;
}

/* Reads up to one batch of changes after the cursor and frames them in
 * seq order.  Returns the number of rows, or -1 on a database error. */
static int deliver_batch(pchat_sub *sub, pchat_conn *c)
{
    apr_pool_t *p = tick_pool();
    int n = 0, run_deleted = -1;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    json_t *run = pchat_json_own(p, json_array());
    apr_int64_t seq = sub->cursor, run_seq = 0;

    if (pchat_changes_select(c, p, sub->cursor, sub->filter, sub->batch,
                             &res)) {
        return -1;
    }
    while (pchat_db_next_row(c, p, res, &row)) {
        int deleted = pchat_changes_row_deleted(c, row);
        seq = pchat_changes_row_seq(c, row);
        if (deleted != run_deleted && send_run(sub, c, run, run_deleted,
                                               run_seq)) {
            return -1;
        }
        if (deleted != run_deleted) {
            run = pchat_json_own(p, json_array());
            run_deleted = deleted;
        }
        json_array_append_new(run, pchat_docs_row(c, pchat_change_log, row));
        run_seq = seq;
        n++;
    }
    if (send_run(sub, c, run, run_deleted, run_seq)) {
        return -1;
    }
    sub->cursor = seq;
    return n;
}

typedef struct {
    apr_int64_t cursor;     /* the subscriber's cursor after these frames */
    char *frames;
    apr_size_t len;
} cached_frames;

#define CACHE_MAX_ENTRIES 4096
/* The cache serves many subscribers of one filter waking for the same new
 * change: small frames.  A longer read (a resume from far back) is not
 * kept, and the cache holds at most CACHE_MAX_BYTES of frames: kept until
 * the next change, distinct replays of big messages piled up (60 streams
 * of 6 MB each, every round, for as long as nobody wrote). */
#define CACHE_MAX_ENTRY (256 * 1024)
#define CACHE_MAX_BYTES (4 * 1024 * 1024)

/* Appends the frames another subscriber read for the same cursor and
 * filter, if the hub knew the same changes then.  Returns 1 on a hit. */
static int copy_cached(pchat_sub *sub, const char *key, apr_int64_t known)
{
    pchat_hub *hub = sub->hub;
    cached_frames *e = NULL;

    apr_thread_mutex_lock(hub->mu);
    if (hub->cache_known == known) {
        e = apr_hash_get(hub->cache, key, APR_HASH_KEY_STRING);
    }
    if (e) {
        pchat_sse_put_copy(sub, e->frames, e->len);
        sub->cursor = e->cursor;
    }
    apr_thread_mutex_unlock(hub->mu);
    return e != NULL;
}

static void store_cached(pchat_sub *sub, const char *key, apr_int64_t known)
{
    pchat_hub *hub = sub->hub;
    cached_frames *e;
    apr_off_t len = 0;

    apr_brigade_length(sub->bb, 1, &len);
    if (len > CACHE_MAX_ENTRY) {
        return;
    }
    apr_thread_mutex_lock(hub->mu);
    if (hub->cache_known != known
        || apr_hash_count(hub->cache) >= CACHE_MAX_ENTRIES
        || hub->cache_bytes + len > CACHE_MAX_BYTES) {
        apr_pool_clear(hub->cache_pool);
        hub->cache = apr_hash_make(hub->cache_pool);
        hub->cache_known = known;
        hub->cache_bytes = 0;
    }
    hub->cache_bytes += len;
    e = apr_palloc(hub->cache_pool, sizeof(*e));
    e->cursor = sub->cursor;
    e->len = (apr_size_t)len;
    e->frames = apr_palloc(hub->cache_pool, e->len + 1);
    apr_brigade_flatten(sub->bb, e->frames, &e->len);
    apr_hash_set(hub->cache, apr_pstrdup(hub->cache_pool, key),
                 APR_HASH_KEY_STRING, e);
    apr_thread_mutex_unlock(hub->mu);
}

/* Reads the changes after the cursor from the database, one batch per
 * frame group; a result that fits one batch is shared through the cache.
 * Returns 0; 1 when the database failed or had no connection (the cursor
 * stands where the client is); -1 when the client is gone. */
static int read_changes(pchat_sub *sub, const char *key, apr_int64_t known)
{
    pchat_conn *c = pchat_conn_acquire(sub->r);
    int n, first = 1;

    if (!c) {
        return 1;   /* try again after DB_RETRY */
    }
    do {
        n = deliver_batch(sub, c);
        if (n < 0) {
            /* the database failed: nothing of this batch was sent and the
             * cursor has not moved, so the stream stays and tries again */
            apr_brigade_cleanup(sub->bb);
            n = -2;
            break;
        }
        if (n < sub->batch && first) {
            store_cached(sub, key, known);
        }
        first = 0;
        apr_pool_clear(tick_pool());
        if (n > 0 && !pchat_sse_flush(sub)) {
            n = -1;
        }
    } while (n == sub->batch);
    pchat_conn_release(c);
    return n == -2 ? 1 : n < 0 ? -1 : 0;
}

/* Sends every change the subscriber has not seen.  Returns 0, or -1 when
 * the client is gone; a database failure leaves the stream open, to try
 * again after DB_RETRY. */
static int deliver(pchat_sub *sub)
{
    pchat_hub *hub = sub->hub;
    apr_int64_t known = pchat_hub_known(hub);
    const char *key;
    int rv;

    if (known <= sub->checked) {
        return 0;
    }
    key = apr_psprintf(tick_pool(), "%" APR_INT64_T_FMT "|%s", sub->cursor,
                       sub->filter_key);
    if (!copy_cached(sub, key, known)) {
        apr_thread_mutex_lock(hub->read_mu);
        rv = copy_cached(sub, key, known) ? 0 : read_changes(sub, key, known);
        apr_thread_mutex_unlock(hub->read_mu);
        if (rv) {
            apr_pool_clear(tick_pool());
            sub->not_before = apr_time_now() + DB_RETRY;
            return rv < 0 ? -1 : 0;
        }
    }
    apr_pool_clear(tick_pool());
    if (!APR_BRIGADE_EMPTY(sub->bb) && !pchat_sse_flush(sub)) {
        return -1;
    }
    sub->checked = known;
    return 0;
}

/* The recent history, oldest first, for a subscriber without a cursor;
 * the cursor then stands at the newest change. */
static int replay_backlog(pchat_sub *sub, int backlog)
{
    apr_pool_t *p = tick_pool();
    pchat_conn *c = pchat_conn_acquire(sub->r);
    pchat_sql *sql;
    json_t *docs, *page;
    apr_int64_t snapshot;
    size_t i, n;
    int rv;

    if (!c) {
        return -1;
    }
    snapshot = pchat_changes_max_seq(c, p, &rv);
    sql = pchat_changes_live_upto(p, snapshot, sub->filter);
    if (!rv && backlog > 0) {
        rv = pchat_docs_select(c, p, pchat_change_log, sql,
                               PCHAT_NEWEST_CHANGE_FIRST, backlog, 0, &docs);
    }
    for (n = rv || backlog <= 0 ? 0 : json_array_size(docs), i = 0; i < n;
         i += sub->batch) {
        size_t k;
        page = pchat_json_own(p, json_array());
        for (k = i; k < n && k < i + sub->batch; k++) {
            json_array_append(page, json_array_get(docs, n - 1 - k));
        }
        rv = send_run(sub, c, page, 0, snapshot);
    }
    pchat_conn_release(c);
    if (!rv) {
        if (!n) {   /* an event with only an id moves the client's cursor */
            pchat_sse_id_only(sub, snapshot);
        }
        sub->cursor = snapshot;
    }
    apr_pool_clear(p);
    return rv ? -1 : 0;
}

/* Last-Event-ID, or ?since= for clients that cannot set headers. */
static pchat_error *read_cursor(pchat_req *q, apr_int64_t *cursor, int *has)
{
    const char *text = apr_table_get(q->r->headers_in, "Last-Event-ID");
    json_t *since = json_object_get(q->qs, "since");

    if (!text && since) {
        text = json_string_value(since);
        if (!text) {
            text = "";
        }
    }
    *has = text != NULL;
    if (text && pchat_cursor_parse(text, cursor)) {
        return pchat_error_make(q->r->pool, HTTP_BAD_REQUEST, NULL, NULL,
                                "Last-Event-ID / since must be an event id "
                                "from this stream.");
    }
    return NULL;
}

/* Whether the client went away.  Over HTTP/1 a poll() of the socket
 * sees the TCP close.  An HTTP/2 stream runs on a secondary connection
 * (c->master set) whose "socket" is a dummy that mod_http2 shares between
 * all its streams and that polls as hung up: there mod_http2 marks the
 * secondary connection aborted when the client resets the stream
 * (RST_STREAM) or the connection ends, and a write fails after that. */
int pchat_stream_client_gone(request_rec *r)
{
    conn_rec *c = r->connection;
    apr_socket_t *sock;
    apr_os_sock_t fd;
    struct pollfd pfd;

    if (c->aborted || (c->master && c->master->aborted)) {
        return 1;
    }
    if (c->master) {
        return 0;
    }
    sock = ap_get_conn_socket(c);
    if (!sock || apr_os_sock_get(&fd, sock) != APR_SUCCESS) {
        return 0;
    }
    pfd.fd = fd;
    pfd.events = POLLRDHUP;
    pfd.revents = 0;
    return poll(&pfd, 1, 0) > 0
           && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

static apr_status_t subscriber_gone(void *data)
{
    pchat_hub *hub = data;

    apr_thread_mutex_lock(hub->mu);
    hub->subscribers--;
    apr_thread_mutex_unlock(hub->mu);
    pchat_shm_subscribers_add(-1);
    return APR_SUCCESS;
}

static apr_status_t client_stream_gone(void *data)
{
    pchat_shm_client_stream_release(data);
    return APR_SUCCESS;
}

/* Counts the subscriber in, or says why not: the node is full (503) or
 * its client address has its most streams open (429). */
static pchat_error *admit(request_rec *r, pchat_hub *hub)
{
    /* per virtual host: each has its own limit */
    const char *addr = apr_psprintf(r->pool, "%pp|%s", (void *)r->server,
                                    r->useragent_ip);
    int per_client = pchat_conf_max_streams_per_client(r->server);
    pchat_error *err = pchat_h2_admit(r);

    if (err) {
        return err;
    }
    if (!pchat_shm_client_stream_take(addr, per_client)) {
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
        return pchat_error_make(r->pool, HTTP_TOO_MANY_REQUESTS, NULL, NULL,
                                apr_psprintf(r->pool, "This address has %d "
                                             "streams open already, the "
                                             "most allowed.", per_client));
    }
    apr_pool_cleanup_register(r->pool, addr, client_stream_gone,
                              apr_pool_cleanup_null);
    if (pchat_shm_subscribers_add(1)
        > (apr_uint32_t)pchat_conf_max_subscribers(r->server)) {
        pchat_shm_subscribers_add(-1);
        return pchat_unavailable(r, 5, "Too many stream subscribers; try "
                                 "again later.");
    }
    apr_thread_mutex_lock(hub->mu);
    hub->subscribers++;
    apr_thread_mutex_unlock(hub->mu);
    apr_pool_cleanup_register(r->pool, hub, subscriber_gone,
                              apr_pool_cleanup_null);
    return NULL;
}

/* One round of work: pending changes, then a keep-alive when due.
 * Returns -1 when the stream should end. */
/* Sends the signals (typing, read, presence) for the subscriber's user
 * that came since it last looked.  Returns -1 when the client is gone. */
static int deliver_signals(pchat_sub *sub)
{
    apr_size_t len = 0;
    const char *frames = pchat_signals_take(sub->hub->signals,
                                            &sub->sig_cursor, sub->user,
                                            tick_pool(), &len);
    int ok = 1;

    if (frames) {
        pchat_sse_put_copy(sub, frames, len);
        ok = pchat_sse_flush(sub);
    }
    apr_pool_clear(tick_pool());
    return ok ? 0 : -1;
}

/* A stream gets the signals stored after it opened, for its user; its
 * user is online while it is open. */
static void open_signals(pchat_sub *sub, pchat_req *q)
{
    pchat_conn *c = pchat_conn_acquire(sub->r);
    int rv = 1;

    if (c) {
        sub->sig_cursor = pchat_signals_max(c, sub->r->pool, &rv);
        pchat_conn_release(c);
    }
    if (!rv) {
        pchat_signals_start(sub->hub->signals, sub->sig_cursor);
    }
    sub->user = q->user ? q->user->id : 0;
    if (sub->user) {
        pchat_presence_join(sub->hub->presence, sub->r, sub->user);
    }
}

int pchat_stream_serve_once(pchat_sub *sub)
{
    if (deliver(sub) < 0 || deliver_signals(sub) < 0) {
        return -1;
    }
    if (apr_time_now() >= sub->next_ping) {
        pchat_sse_ping(sub);
        if (!pchat_sse_flush(sub)) {
            return -1;
        }
        sub->next_ping = apr_time_now() + sub->keepalive;
    }
    return 0;
}

/* The blocking driver: this thread serves the subscriber until it leaves
 * or the server stops. */
static void run_blocking(pchat_sub *sub)
{
    while (!pchat_stream_client_gone(sub->r) && !sub->hub->stopping) {
        apr_time_t now = apr_time_now();
        apr_time_t deadline = sub->next_ping < now + MAX_WAIT
                              ? sub->next_ping : now + MAX_WAIT;

        if (sub->not_before > now) {
            apr_sleep(sub->not_before - now);
        }
        pchat_hub_wait(sub, deadline);
        if (pchat_stream_serve_once(sub) < 0) {
            break;
        }
    }
}

/* The subscriber's where AND the access filter, as find builds it (the
 * 403 first). */
static pchat_error *parse_filter(pchat_req *q, pchat_sql **filter)
{
    pchat_sql *where, *allowed;
    pchat_error *err = pchat_access_filter(q, PCHAT_OP_READ, &allowed);

    if (!err) {
        err = pchat_where_compile_for(q->r, &pchat_messages,
                                      json_object_get(q->qs, "where"),
                                      pchat_access_hidden(q, &pchat_messages),
                                      pchat_access_hidden(q, &pchat_users),
                                      &where);
    }
    if (err) {
        return err;
    }
    *filter = pchat_sql_make(q->r->pool, "(");
    pchat_sql_cat(*filter, where);
    pchat_sql_add(*filter, ") AND ");
    pchat_sql_cat(*filter, allowed);
    return NULL;
}

int pchat_stream_handler(pchat_req *q)
{
    request_rec *r = q->r;
    pchat_sub *sub = apr_pcalloc(r->pool, sizeof(*sub));
    pchat_error *err;
    pchat_sql *allowed;
    int resume = 0;

    if (r->header_only) {
        /* the answer to GET's headers, 403 included */
        if ((err = pchat_access_filter(q, PCHAT_OP_READ, &allowed))) {
            return pchat_send_error(r, err);
        }
        pchat_sse_headers(r);
        return OK;
    }
    sub->r = r;
    sub->hub = pchat_hub_for(r->server);
    if ((err = parse_filter(q, &sub->filter))
        || (err = read_cursor(q, &sub->cursor, &resume))) {
        return pchat_send_error(r, err);
    }
    if (!sub->hub) {
        return pchat_send_unavailable(r, 5, "The stream is not available.");
    }
    if ((err = admit(r, sub->hub))) {
        return pchat_send_error(r, err);
    }
    sub->filter_key = pchat_sql_key(r->pool, sub->filter);
    sub->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    sub->batch = pchat_conf_batch(r->server);
    sub->keepalive = apr_time_from_sec(pchat_conf_keepalive_s(r->server));
    sub->next_ping = apr_time_now() + sub->keepalive;
    sub->checked = -1;
    open_signals(sub, q);
    pchat_sse_headers(r);
    pchat_sse_open(sub, pchat_conf_retry_ms(r->server));
    if (!resume && replay_backlog(sub, pchat_conf_backlog(r->server)) < 0) {
        return OK;
    }
    if (!pchat_sse_flush(sub)) {
        return OK;
    }
    if (pchat_suspend_possible(r)) {
        pchat_suspend_park(sub);
        return SUSPENDED;
    }
    run_blocking(sub);
    return OK;
}

int pchat_stream_stats(pchat_req *q)
{
    pchat_sql *allowed;
    pchat_error *err = pchat_access_filter(q, PCHAT_OP_READ, &allowed);

    if (err) {
        return pchat_send_error(q->r, err);
    }
    return pchat_send_json(q->r, HTTP_OK, json_pack(
        "{s:I, s:I}", "subscribers", (json_int_t)pchat_shm_subscribers_total(),
        "h2Subscribers", (json_int_t)pchat_shm_h2_subscribers_total()));
}
