/* The stream's hub: one per child process and database.  It learns of
 * new changes (shared-memory counter, LISTEN/NOTIFY, a periodic MAX(seq)
 * probe), wakes blocking subscribers and hands parked ones to
 * pchat_suspend.c.  (Pure move from pchat_stream.c.) */
#include "pchat_stream_private.h"

static pchat_hub *hubs;           /* this child's, one per database */

static void hub_probe(pchat_hub *hub, apr_pool_t *p)
{
    pchat_conn *c = pchat_conn_acquire_server(hub->s);
    apr_int64_t max;
    int rv, signals;

    if (!c) {
        return;
    }
    max = pchat_changes_max_seq(c, p, &rv);
    signals = pchat_signals_probe(hub->signals, c, p);
    pchat_conn_release(c);
    ap_log_error(APLOG_MARK, APLOG_TRACE1, 0, hub->s, PCHAT_LOGNO(00502)
                 "stream hub probe: max seq %" APR_INT64_T_FMT, max);
    apr_thread_mutex_lock(hub->mu);
    if (!rv && max > hub->known_seq) {
        hub->known_seq = max;
        hub->dirty = 1;
        apr_thread_cond_broadcast(hub->changed);
    }
    if (signals) {
        hub->dirty = 1;
        apr_thread_cond_broadcast(hub->changed);
    }
    apr_thread_mutex_unlock(hub->mu);
}

int pchat_hub_behind(pchat_hub *hub, pchat_sub *sub)
{
    return hub->known_seq > sub->checked
           || pchat_signals_pending(hub->signals, &sub->sig_cursor,
                                    sub->user);
}

static int mpm_stopping(void)
{
    int state = AP_MPMQ_RUNNING;

    ap_mpm_query(AP_MPMQ_MPM_STATE, &state);
    return state == AP_MPMQ_STOPPING;
}

static void hub_clock_init(pchat_hub *hub, hub_clock *hc)
{
    apr_pool_create(&hc->p, NULL);
    apr_pool_tag(hc->p, "pchat_hub");
    hc->seen = pchat_shm_changes();
    hc->poll = apr_time_from_msec(pchat_conf_poll_ms(hub->s));
    hc->next_probe = 0;
    hc->next_gone_check = 0;
    apr_pool_create(&hc->listen_pool, NULL);
    hc->listener = pchat_listener_make(hc->listen_pool, hub->s, hub->db);
}

static void hub_clock_done(hub_clock *hc)
{
    apr_pool_destroy(hc->listen_pool);
    apr_pool_destroy(hc->p);
}

/* One tick: learn of new changes, notice a stopping MPM, hand due parked
 * subscribers to workers. */
static void hub_tick(pchat_hub *hub, hub_clock *hc)
{
    apr_uint32_t changes = pchat_shm_changes();
    apr_time_t now = apr_time_now();
    int heard = hub->subscribers > 0 && pchat_listener_heard(hc->listener,
                                                             now);

    pchat_metrics_hub_tick();
    if (hub->subscribers > 0
        && (heard || changes != hc->seen || now >= hc->next_probe)) {
        hc->seen = changes;
        hc->next_probe = now + hc->poll;
        hub_probe(hub, hc->p);
        apr_pool_clear(hc->p);
    }
    if (pchat_changes_purge(hub->s, NULL, hc->p)) {
        apr_pool_clear(hc->p);
    }
    pchat_presence_tick(hub->presence, hc->p, hub->subscribers > 0);
    apr_pool_clear(hc->p);
    if (mpm_stopping()) {
        apr_thread_mutex_lock(hub->mu);
        hub->stopping = hub->stopping ? hub->stopping : HUB_STOPPING;
        apr_thread_cond_broadcast(hub->changed);
        apr_thread_mutex_unlock(hub->mu);
    }
    if (hub->parked) {
        if (now >= hc->next_gone_check) {
            hc->next_gone_check = now + MAX_WAIT;
            pchat_suspend_find_gone(hub, hc->p);
        }
        pchat_suspend_schedule_due(hub, hc->p);
        apr_pool_clear(hc->p);
    }
}

static void *APR_THREAD_FUNC hub_main(apr_thread_t *thread, void *data)
{
    pchat_hub *hub = data;
    hub_clock hc;

    hub_clock_init(hub, &hc);
    while (hub->stopping != HUB_EXIT && !(hub->stopping && !hub->parked)) {
        hub_tick(hub, &hc);
        apr_sleep(HUB_TICK);
    }
    hub_clock_done(&hc);
    return NULL;
}

static apr_status_t hub_stop(void *data)
{
    pchat_hub *hub = data;
    apr_status_t rv;

    apr_thread_mutex_lock(hub->mu);
    hub->stopping = HUB_EXIT;
    apr_thread_cond_broadcast(hub->changed);
    apr_thread_mutex_unlock(hub->mu);
    if (hub->thread) {
        apr_thread_join(&rv, hub->thread);
    }
    if (hub->own_clock_ready) {
        hub_clock_done(&hub->own_clock);
    }
    return APR_SUCCESS;
}

/* prefork serves one request per process: there the waiting subscriber
 * runs the hub's ticks itself, and no thread of ours runs beside it. */
static int mpm_threaded(void)
{
    int threaded = AP_MPMQ_NOT_SUPPORTED;

    ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded);
    return threaded != AP_MPMQ_NOT_SUPPORTED;
}

pchat_hub *pchat_hub_for(const server_rec *s)
{
    pchat_db *db = pchat_store_db(s);
    pchat_hub *hub;

    for (hub = hubs; hub; hub = hub->next) {
        if (hub->db == db) {
            return hub;
        }
    }
    return NULL;
}

/* Scratch memory that a replay of big messages can swell to many
 * megabytes: a pool on an allocator of its own that keeps at most
 * SCRATCH_MAX_FREE of what a clear frees, so the rest goes back to malloc
 * (on the shared allocator, or a parent's, it would stay cached for the
 * life of the process: 60 replaying streams kept 900 MB). */
#define SCRATCH_MAX_FREE (256 * 1024)

void pchat_shedding_pool_create(apr_pool_t **p, apr_pool_t *parent,
                                 const char *tag)
{
    apr_allocator_t *a = NULL;

    if (apr_allocator_create(&a) != APR_SUCCESS) {
        a = NULL;
    }
    apr_pool_create_ex(p, parent, NULL, a);
    if (a) {
        apr_allocator_max_free_set(a, SCRATCH_MAX_FREE);
        apr_allocator_owner_set(a, *p);
    }
    apr_pool_tag(*p, tag);
}

void pchat_stream_child_init(apr_pool_t *pchild, server_rec *s)
{
    server_rec *vs;
    apr_pool_t *pool = pchat_shared_pool(pchild);

    pchat_h2_child_init(pchild, s);
#ifdef __GLIBC__
    /* A fixed threshold: glibc otherwise raises it to the largest block
     * freed so far (a replay's multi-megabyte frame) and its trim threshold
     * to twice that, so every worker thread's arena kept that much for
     * good, beyond even malloc_trim's reach.  Blocks this large are rare
     * in Apache (pools allocate in 8 KiB blocks). */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif

    for (vs = s; vs; vs = vs->next) {
        pchat_hub *hub;

        if (!pchat_store_db(vs) || pchat_hub_for(vs)) {
            continue;
        }
        hub = apr_pcalloc(pool, sizeof(*hub));
        hub->s = vs;
        hub->db = pchat_store_db(vs);
        apr_thread_mutex_create(&hub->mu, APR_THREAD_MUTEX_DEFAULT, pool);
        apr_thread_mutex_create(&hub->read_mu, APR_THREAD_MUTEX_DEFAULT,
                                pool);
        pchat_shedding_pool_create(&hub->cache_pool, pool, "pchat_frame_cache");
        hub->cache = apr_hash_make(hub->cache_pool);
        hub->signals = pchat_signals_make(pool);
        hub->presence = pchat_presence_make(pool, vs);
        apr_thread_cond_create(&hub->changed, pool);
        if (mpm_threaded() && apr_thread_create(&hub->thread, NULL, hub_main,
                                                hub, pool) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, vs, PCHAT_LOGNO(00501)
                         "cannot start the stream hub thread");
            continue;
        }
        apr_pool_cleanup_register(pool, hub, hub_stop,
                                  apr_pool_cleanup_null);
        hub->next = hubs;
        hubs = hub;
    }
}

apr_int64_t pchat_hub_known(pchat_hub *hub)
{
    apr_int64_t known;

    apr_thread_mutex_lock(hub->mu);
    known = hub->known_seq;
    apr_thread_mutex_unlock(hub->mu);
    return known;
}

/* Waits until something is known beyond what the subscriber has checked,
 * the hub stops, or the deadline passes. */
void pchat_hub_wait(pchat_sub *sub, apr_time_t deadline)
{
    pchat_hub *hub = sub->hub;

    if (!hub->thread) {
        if (!hub->own_clock_ready) {
            hub_clock_init(hub, &hub->own_clock);
            hub->own_clock_ready = 1;
        }
        while (!pchat_hub_behind(hub, sub) && !hub->stopping
               && apr_time_now() < deadline) {
            hub_tick(hub, &hub->own_clock);
            if (!pchat_hub_behind(hub, sub)) {
                apr_sleep(HUB_TICK);
            }
        }
        return;
    }
    apr_thread_mutex_lock(hub->mu);
    while (!pchat_hub_behind(hub, sub) && !hub->stopping) {
        apr_time_t now = apr_time_now();
        if (now >= deadline) {
            break;
        }
        apr_thread_cond_timedwait(hub->changed, hub->mu, deadline - now);
    }
    apr_thread_mutex_unlock(hub->mu);
}
