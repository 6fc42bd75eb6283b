/* The event MPM's suspend and resume of streams: parking a subscriber,
 * the hub's walk over parked ones, the timed callback that serves one on
 * a worker, and ending a suspended request by hand.  This file leans on
 * event MPM internals of httpd 2.4 (see finish_suspended); t/sse tests it
 * on every build.  (Pure move from pchat_stream.c.) */
#include "pchat_stream_private.h"

static void sub_tick(void *baton);

/* Marks parked subscribers whose client hung up: one poll() for all. */
void pchat_suspend_find_gone(pchat_hub *hub, apr_pool_t *p)
{
    pchat_sub *sub;
    struct pollfd *pfds;
    int n = 0, i;

    apr_thread_mutex_lock(hub->mu);
    for (sub = hub->parked; sub; sub = sub->next) {
        n++;
    }
    pfds = apr_pcalloc(p, (n ? n : 1) * sizeof(*pfds));
    for (i = 0, sub = hub->parked; sub; sub = sub->next, i++) {
        pfds[i].fd = sub->fd;
        pfds[i].events = POLLRDHUP;
    }
    if (n && poll(pfds, n, 0) > 0) {
        for (i = 0, sub = hub->parked; sub; sub = sub->next, i++) {
            if (pfds[i].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) {
                hub->dirty |= !sub->gone;
                sub->gone = 1;
            }
        }
    }
    apr_thread_mutex_unlock(hub->mu);
}

/* Lowers the hub's deadlines to a parked subscriber's that has no work
 * now (hub->mu held): a change to read once not_before passes, or a
 * keep-alive. */
static void note_deadline(pchat_hub *hub, pchat_sub *sub)
{
    if (pchat_hub_behind(hub, sub) || sub->gone) {
        if (sub->not_before < hub->wake_at) {
            hub->wake_at = sub->not_before;
        }
    }
    else {
        apr_time_t at = sub->next_ping > sub->not_before ? sub->next_ping
                                                         : sub->not_before;
        if (at < hub->ping_at) {
            hub->ping_at = at;
        }
    }
}

static int has_work(pchat_hub *hub, pchat_sub *sub, apr_time_t now)
{
    return now >= sub->not_before
           && (pchat_hub_behind(hub, sub) || now >= sub->next_ping
               || sub->gone || hub->stopping);
}

/* Tells the hub when to look at a subscriber that parks (hub->mu held):
 * at its next tick if it has work now, else by its deadline. */
static void note_parked(pchat_hub *hub, pchat_sub *sub, apr_time_t now)
{
    sub->state = SUB_PARKED;
    if (has_work(hub, sub, now)) {
        hub->dirty = 1;
    }
    else {
        note_deadline(hub, sub);
    }
}

/* Whether the parked list is worth a walk now (hub->mu held). */
static int walk_due(const pchat_hub *hub, apr_time_t now)
{
    return hub->dirty || hub->stopping || now >= hub->wake_at
           || (now >= hub->ping_at && now >= hub->next_ping_walk);
}

/* Hands every parked subscriber that has work to a worker thread. */
void pchat_suspend_schedule_due(pchat_hub *hub, apr_pool_t *p)
{
    apr_array_header_t *due;
    apr_time_t now = apr_time_now();
    pchat_sub *sub;
    int i;

    apr_thread_mutex_lock(hub->mu);
    if (!walk_due(hub, now)) {
        apr_thread_mutex_unlock(hub->mu);
        return;
    }
    hub->dirty = 0;
    hub->wake_at = APR_INT64_MAX;
    if (now >= hub->ping_at) {
        hub->next_ping_walk = now + PING_WALK_MIN;
    }
    hub->ping_at = APR_INT64_MAX;
    due = apr_array_make(p, 16, sizeof(pchat_sub *));
    for (sub = hub->parked; sub; sub = sub->next) {
        if (sub->state != SUB_PARKED) {
            continue;   /* noted again when it parks */
        }
        if (has_work(hub, sub, now)) {
            sub->state = SUB_SCHEDULED;
            APR_ARRAY_PUSH(due, pchat_sub *) = sub;
        }
        else {
            note_deadline(hub, sub);
        }
    }
    apr_thread_mutex_unlock(hub->mu);
    for (i = 0; i < due->nelts; i++) {
        sub = APR_ARRAY_IDX(due, i, pchat_sub *);
        /* A scheduled subscriber is touched by nobody but its callback. */
        if (ap_mpm_register_timed_callback(0, sub_tick, sub) != APR_SUCCESS) {
            apr_thread_mutex_lock(hub->mu);
            note_parked(hub, sub, now);   /* tried again at the next tick */
            apr_thread_mutex_unlock(hub->mu);
        }
    }
}

/* Ends a suspended request.  httpd 2.4 has no call that hands a suspended
 * connection back to the event MPM (ap_mpm_resume_suspended is trunk
 * only), so we do what the MPM would: finish the response, let the EOR
 * bucket log the request and free r->pool, flush, and release the
 * connection with its pool.  The state goes back to SUSPENDED first so the
 * MPM's pool cleanup takes the connection off its suspended count.  This
 * leans on event MPM internals; t/sse tests it on every build. */
static void finish_suspended(pchat_sub *sub)
{
    request_rec *r = sub->r;
    conn_rec *c = r->connection;
    pchat_hub *hub = sub->hub;
    apr_bucket_brigade *bb;

    apr_thread_mutex_lock(hub->mu);
    if (sub->prev) {
        sub->prev->next = sub->next;
    }
    else {
        hub->parked = sub->next;
    }
    if (sub->next) {
        sub->next->prev = sub->prev;
    }
    apr_thread_mutex_unlock(hub->mu);

    ap_finalize_request_protocol(r);
    ap_process_request_after_handler(r);    /* r and sub are gone now */
    bb = apr_brigade_create(c->pool, c->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_flush_create(c->bucket_alloc));
    ap_pass_brigade(c->output_filters, bb);
    if (c->cs) {
        c->cs->state = CONN_STATE_SUSPENDED;
    }
    apr_pool_destroy(c->pool);
}

/* A timed callback on a worker thread: serve one round, then park again
 * or end the stream. */
static void sub_tick(void *baton)
{
    pchat_sub *sub = baton;
    request_rec *r = sub->r;
    pchat_hub *hub = sub->hub;
    int end;

    /* held by the MPM until the handler's SUSPENDED has been processed */
    apr_thread_mutex_lock(r->invoke_mtx);
    apr_thread_mutex_lock(hub->mu);
    sub->state = SUB_RUNNING;
    end = sub->gone || hub->stopping;
    apr_thread_mutex_unlock(hub->mu);
    if (!end) {
        end = pchat_stream_client_gone(r) || pchat_stream_serve_once(sub) < 0;
    }
    apr_thread_mutex_unlock(r->invoke_mtx);
    if (end) {
        finish_suspended(sub);
        return;
    }
    apr_thread_mutex_lock(hub->mu);
    note_parked(hub, sub, apr_time_now());
    apr_thread_mutex_unlock(hub->mu);
}

/* Suspending needs the event MPM, a request processed asynchronously (it
 * has an invoke_mtx) and no HTTP/2 (its streams must not be suspended). */
int pchat_suspend_possible(request_rec *r)
{
    int async = 0;

    if (!pchat_conf_stream_suspend(r->server) || r->connection->master
        || !r->invoke_mtx || !r->connection->cs) {
        return 0;
    }
    return ap_mpm_query(AP_MPMQ_IS_ASYNC, &async) == APR_SUCCESS && async;
}

/* A parked stream keeps its connection's memory for as long as it is open.
 * The event MPM gives each connection an allocator of its own that caches
 * the blocks freed to it (MaxMemFree is unlimited by default), and the
 * 8 KiB block that read the request's headers waits in that cache for the
 * life of the stream.  Take the smallest cached block out and give it back
 * to malloc: with the cache limit at its least for that moment, the
 * allocator frees it instead of caching it.  (Setting MaxMemFree low for
 * the whole server sheds it too, but makes every REST request allocate
 * afresh: finds were 4x slower.) */
static void shed_cached_block(conn_rec *c)
{
    apr_allocator_t *a = apr_pool_allocator_get(c->pool);
    apr_memnode_t *block;

    if (!a || apr_allocator_owner_get(a) != c->pool) {
        return;   /* shared with other connections: leave it alone */
    }
    apr_allocator_max_free_set(a, 1);
    if ((block = apr_allocator_alloc(a, 1)) != NULL) {
        apr_allocator_free(a, block);
    }
    apr_allocator_max_free_set(a, ap_max_mem_free);
}

/* Parks the subscriber with the hub; the handler then returns SUSPENDED.
 * Slow readers are dropped (they resume with Last-Event-ID) rather than
 * allowed to block a worker for the whole server Timeout. */
void pchat_suspend_park(pchat_sub *sub)
{
    pchat_hub *hub = sub->hub;
    apr_socket_t *sock = ap_get_conn_socket(sub->r->connection);

    apr_socket_timeout_set(sock, SLOW_READER_TIMEOUT);
    apr_os_sock_get(&sub->fd, sock);
    shed_cached_block(sub->r->connection);
    /* The first callback waits until the MPM has surely finished its own
     * suspend bookkeeping on this connection. */
    sub->not_before = apr_time_now() + FIRST_TICK_DELAY;
    apr_thread_mutex_lock(hub->mu);
    sub->prev = NULL;
    sub->next = hub->parked;
    if (hub->parked) {
        hub->parked->prev = sub;
    }
    hub->parked = sub;
    note_parked(hub, sub, apr_time_now());
    apr_thread_mutex_unlock(hub->mu);
}
