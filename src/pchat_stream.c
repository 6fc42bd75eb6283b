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
#include <poll.h>
#include <stdarg.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "apr_atomic.h"
#include "apr_thread_proc.h"
#include "apr_thread_cond.h"
#include "apr_lib.h"
#include "apr_allocator.h"
#include "ap_mpm.h"
#include "mpm_common.h"
#include "http_core.h"
#include "pchat_stream.h"
#include "pchat_config.h"
#include "pchat_docs.h"
#include "pchat_changes.h"
#include "pchat_query.h"
#include "pchat_shm.h"
#include "pchat_metrics.h"
#include "pchat_access.h"
#include "pchat_listen.h"
#include "pchat_h2.h"

#define HUB_TICK apr_time_from_msec(10)
/* A blocked subscriber wakes at least this often to notice a gone client. */
#define MAX_WAIT apr_time_from_sec(1)
#define HUB_STOPPING 1   /* the MPM stops: end every stream */
#define HUB_EXIT 2       /* the child exits now */
#define FIRST_TICK_DELAY apr_time_from_msec(50)
#define SLOW_READER_TIMEOUT apr_time_from_sec(5)
/* The hub looks at its parked subscribers for keep-alives' sake at most
 * this often (a keep-alive is late by at most this); for a change, a new
 * or a returning subscriber at its next tick. */
#define PING_WALK_MIN apr_time_from_msec(100)
/* A subscriber that found no database connection tries again after this
 * (not at every hub tick while the database is away). */
#define DB_RETRY apr_time_from_sec(1)

/* The hub's clock: what it remembers between two of its ticks. */
typedef struct hub_clock {
    apr_pool_t *p;                /* cleared every tick */
    apr_pool_t *listen_pool;
    pchat_listener *listener;     /* hears other nodes' commits, or NULL */
    apr_uint32_t seen;            /* shared change counter last seen */
    apr_time_t poll;
    apr_time_t next_probe;
    apr_time_t next_gone_check;
} hub_clock;

typedef struct pchat_hub {
    server_rec *s;
    pchat_db *db;
    apr_thread_mutex_t *mu;
    apr_thread_cond_t *changed;   /* broadcast when known_seq grows */
    apr_int64_t known_seq;        /* highest seq known to this process */
    int stopping;                 /* HUB_STOPPING or HUB_EXIT */
    int subscribers;              /* in this process */
    struct pchat_sub *parked;     /* suspended subscribers */
    /* When the parked list must be walked again (guarded by mu): a walk
     * visits every subscriber, a cache miss each, so it is done when
     * something happened (dirty) or a deadline came (wake_at), not at
     * every tick. */
    int dirty;
    apr_time_t wake_at;           /* a parked one may read a change then */
    apr_time_t ping_at;           /* a parked one has a keep-alive due */
    apr_time_t next_ping_walk;
    /* Frames already read for (cursor, filter) at cache_known, so that
     * subscribers that share a filter share one database read. */
    apr_thread_mutex_t *read_mu;  /* one stream read at a time */
    apr_pool_t *cache_pool;
    apr_hash_t *cache;
    apr_int64_t cache_known;
    apr_size_t cache_bytes;
    apr_thread_t *thread;
    /* Without a hub thread (prefork), the waiting subscriber ticks this
     * clock, kept for the process's life with its listening connection. */
    hub_clock own_clock;
    int own_clock_ready;
    struct pchat_hub *next;
} pchat_hub;

static pchat_hub *hubs;           /* this child's, one per database */

typedef enum {
    SUB_BLOCKING,    /* served by its own thread */
    SUB_PARKED,      /* suspended, nothing to do */
    SUB_SCHEDULED,   /* a callback is registered */
    SUB_RUNNING      /* a worker is serving it */
} sub_state;

typedef struct pchat_sub {
    request_rec *r;
    pchat_hub *hub;
    pchat_sql *filter;          /* the subscriber's where, as in find */
    const char *filter_key;     /* its text and values */
    apr_bucket_brigade *bb;
    apr_int64_t cursor;         /* seq of the last change delivered */
    apr_int64_t checked;        /* hub->known_seq at the last full read */
    apr_time_t next_ping;
    apr_time_t keepalive;
    int batch;
    sub_state state;            /* guarded by hub->mu */
    apr_time_t not_before;      /* no callback (no try) before this */
    int gone;                   /* the client hung up */
    apr_os_sock_t fd;
    struct pchat_sub *prev, *next;
} pchat_sub;


/* ---- the hub -------------------------------------------------------- */

static void hub_probe(pchat_hub *hub, apr_pool_t *p)
{
    pchat_conn *c = pchat_conn_acquire_server(hub->s);
    apr_int64_t max;
    int rv;

    if (!c) {
        return;
    }
    max = pchat_changes_max_seq(c, p, &rv);
    pchat_conn_release(c);
    ap_log_error(APLOG_MARK, APLOG_TRACE1, 0, hub->s, PCHAT_LOGNO(00502)
                 "stream hub probe: max seq %" APR_INT64_T_FMT, max);
    apr_thread_mutex_lock(hub->mu);
    if (!rv && max > hub->known_seq) {
        hub->known_seq = max;
        hub->dirty = 1;
        apr_thread_cond_broadcast(hub->changed);
    }
    apr_thread_mutex_unlock(hub->mu);
}

static int mpm_stopping(void)
{
    int state = AP_MPMQ_RUNNING;

    ap_mpm_query(AP_MPMQ_MPM_STATE, &state);
    return state == AP_MPMQ_STOPPING;
}

static void sub_tick(void *baton);

/* Marks parked subscribers whose client hung up: one poll() for all. */
static void find_gone(pchat_hub *hub, apr_pool_t *p)
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
static void note_deadline(pchat_hub *hub, const pchat_sub *sub)
{
    if (hub->known_seq > sub->checked || sub->gone) {
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

static int has_work(const pchat_hub *hub, const pchat_sub *sub,
                    apr_time_t now)
{
    return now >= sub->not_before
           && (hub->known_seq > sub->checked || now >= sub->next_ping
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
static void schedule_due(pchat_hub *hub, apr_pool_t *p)
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
    if (mpm_stopping()) {
        apr_thread_mutex_lock(hub->mu);
        hub->stopping = hub->stopping ? hub->stopping : HUB_STOPPING;
        apr_thread_cond_broadcast(hub->changed);
        apr_thread_mutex_unlock(hub->mu);
    }
    if (hub->parked) {
        if (now >= hc->next_gone_check) {
            hc->next_gone_check = now + MAX_WAIT;
            find_gone(hub, hc->p);
        }
        schedule_due(hub, hc->p);
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

static pchat_hub *hub_for(const server_rec *s)
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

static void shedding_pool_create(apr_pool_t **p, apr_pool_t *parent,
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

        if (!pchat_store_db(vs) || hub_for(vs)) {
            continue;
        }
        hub = apr_pcalloc(pool, sizeof(*hub));
        hub->s = vs;
        hub->db = pchat_store_db(vs);
        apr_thread_mutex_create(&hub->mu, APR_THREAD_MUTEX_DEFAULT, pool);
        apr_thread_mutex_create(&hub->read_mu, APR_THREAD_MUTEX_DEFAULT,
                                pool);
        shedding_pool_create(&hub->cache_pool, pool, "pchat_frame_cache");
        hub->cache = apr_hash_make(hub->cache_pool);
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

/* ---- frames ---------------------------------------------------------- */

/* Scratch memory for one delivery, cleared when it ends: one pool per
 * delivering thread (a worker, or a blocking stream's own thread) rather
 * than one per subscriber, which would keep 8 KiB more for every parked
 * stream.  Worker threads live as long as their process, as do these. */
static apr_pool_t *tick_pool(void)
{
    static _Thread_local apr_pool_t *scratch;

    if (!scratch) {
        shedding_pool_create(&scratch, NULL, "pchat_tick");
    }
    return scratch;
}

/* Hands the free memory of malloc's arenas back to the system after a
 * send of at least TRIM_AFTER bytes, at most once a second per process:
 * glibc keeps what each thread's arena freed (a replay's rows, JSON and
 * frames) until the top of the arena is free, which it seldom is. */
#define TRIM_AFTER (1024 * 1024)

static void trim_after_send(apr_off_t sent)
{
#ifdef __GLIBC__
    static volatile apr_uint32_t last_trim;
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now()), was;

    if (sent < TRIM_AFTER) {
        return;
    }
    was = apr_atomic_read32(&last_trim);
    if (was != now && apr_atomic_cas32(&last_trim, now, was) == was) {
        malloc_trim(0);
    }
#else
    (void)sent;
#endif
}


/* Frames go out in malloc'd heap buckets, or immortal ones for constant
 * text, not through apr_brigade_write: its 8000-byte buffers come from the
 * connection's own allocator and stay on that allocator's free list after
 * the send, 8 KiB more for every parked stream.  Freed malloc memory is
 * shared by all connections. */
static void put_copy(pchat_sub *sub, const char *data, apr_size_t len)
{
    char *copy = malloc(len ? len : 1);

    if (copy) {
        memcpy(copy, data, len);
        APR_BRIGADE_INSERT_TAIL(sub->bb, apr_bucket_heap_create(
            copy, len, free, sub->bb->bucket_alloc));
    }
}

static void put_const(pchat_sub *sub, const char *text)
{
    APR_BRIGADE_INSERT_TAIL(sub->bb, apr_bucket_immortal_create(
        text, strlen(text), sub->bb->bucket_alloc));
}

/* For short frame lines only: id, event and retry fields. */
static void put_printf(pchat_sub *sub, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void put_printf(pchat_sub *sub, const char *fmt, ...)
{
    char line[128];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n > 0) {
        put_copy(sub, line, n < (int)sizeof(line) ? (apr_size_t)n
                                                   : sizeof(line) - 1);
    }
}

static void frame(pchat_sub *sub, const char *event, apr_int64_t id,
                  json_t *data)
{
    put_printf(sub, "id: %" APR_INT64_T_FMT "\nevent: %s\ndata: ", id, event);
    pchat_json_to_brigade(data, sub->bb);
    put_const(sub, "\n\n");
    pchat_metrics_frame(event, json_array_size(data));
}

/* Sends what is in the brigade now; false when the client is gone. */
static int flush(pchat_sub *sub)
{
    request_rec *r = sub->r;
    apr_status_t rv;
    apr_off_t len = 0;

    apr_brigade_length(sub->bb, 1, &len);
    APR_BRIGADE_INSERT_TAIL(sub->bb, apr_bucket_flush_create(
        r->connection->bucket_alloc));
    rv = ap_pass_brigade(r->output_filters, sub->bb);
    apr_brigade_cleanup(sub->bb);
    trim_after_send(len);
    if (rv != APR_SUCCESS || r->connection->aborted) {
        r->connection->aborted = 1;
        return 0;
    }
    return 1;
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
    json_t *doc;
    size_t i;

    if (!json_array_size(docs)) {
        return 0;
    }
    if (deleted) {
        json_t *ids = pchat_json_own(tick_pool(), json_array());
        json_array_foreach(docs, i, doc) {
            json_array_append_new(ids, json_pack("{s:O}", "id",
                                                 json_object_get(doc, "id")));
        }
        frame(sub, "delete", last_seq, ids);
        return 0;
    }
    if (pchat_docs_populate(c, tick_pool(), &pchat_messages, docs, 1)) {
        return -1;
    }
    reduce_users(docs);
    frame(sub, "message", last_seq, docs);
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

static apr_int64_t hub_known(pchat_hub *hub)
{
    apr_int64_t known;

    apr_thread_mutex_lock(hub->mu);
    known = hub->known_seq;
    apr_thread_mutex_unlock(hub->mu);
    return known;
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
        put_copy(sub, e->frames, e->len);
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
        if (n > 0 && !flush(sub)) {
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
    apr_int64_t known = hub_known(hub);
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
    if (!APR_BRIGADE_EMPTY(sub->bb) && !flush(sub)) {
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
            put_printf(sub, "id: %" APR_INT64_T_FMT "\n\n", snapshot);
        }
        sub->cursor = snapshot;
    }
    apr_pool_clear(p);
    return rv ? -1 : 0;
}

/* ---- the request ------------------------------------------------------- */

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
static int client_gone(request_rec *r)
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

static void set_stream_headers(request_rec *r)
{
    ap_set_content_type(r, "text/event-stream; charset=utf-8");
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-cache");
    apr_table_setn(r->headers_out, "X-Accel-Buffering", "no");
    /* compression would hold frames back */
    apr_table_setn(r->subprocess_env, "no-gzip", "1");
    apr_table_setn(r->subprocess_env, "no-brotli", "1");
    r->status = HTTP_OK;
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

/* Waits until something is known beyond what the subscriber has checked,
 * the hub stops, or the deadline passes. */
static void wait_for_change(pchat_sub *sub, apr_time_t deadline)
{
    pchat_hub *hub = sub->hub;

    if (!hub->thread) {
        if (!hub->own_clock_ready) {
            hub_clock_init(hub, &hub->own_clock);
            hub->own_clock_ready = 1;
        }
        while (hub->known_seq <= sub->checked && !hub->stopping
               && apr_time_now() < deadline) {
            hub_tick(hub, &hub->own_clock);
            if (hub->known_seq <= sub->checked) {
                apr_sleep(HUB_TICK);
            }
        }
        return;
    }
    apr_thread_mutex_lock(hub->mu);
    while (hub->known_seq <= sub->checked && !hub->stopping) {
        apr_time_t now = apr_time_now();
        if (now >= deadline) {
            break;
        }
        apr_thread_cond_timedwait(hub->changed, hub->mu, deadline - now);
    }
    apr_thread_mutex_unlock(hub->mu);
}

/* One round of work: pending changes, then a keep-alive when due.
 * Returns -1 when the stream should end. */
static int serve_once(pchat_sub *sub)
{
    if (deliver(sub) < 0) {
        return -1;
    }
    if (apr_time_now() >= sub->next_ping) {
        put_const(sub, "event: ping\ndata: keep-alive\n\n");
        if (!flush(sub)) {
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
    while (!client_gone(sub->r) && !sub->hub->stopping) {
        apr_time_t now = apr_time_now();
        apr_time_t deadline = sub->next_ping < now + MAX_WAIT
                              ? sub->next_ping : now + MAX_WAIT;

        if (sub->not_before > now) {
            apr_sleep(sub->not_before - now);
        }
        wait_for_change(sub, deadline);
        if (serve_once(sub) < 0) {
            break;
        }
    }
}

/* ---- the suspended driver ------------------------------------------- */

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
        end = client_gone(r) || serve_once(sub) < 0;
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
static int can_suspend(request_rec *r)
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
static void park(pchat_sub *sub)
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
        set_stream_headers(r);
        return OK;
    }
    sub->r = r;
    sub->hub = hub_for(r->server);
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
    set_stream_headers(r);
    put_printf(sub, ": payloadchat stream\nretry: %d\n\n",
               pchat_conf_retry_ms(r->server));
    if (!resume && replay_backlog(sub, pchat_conf_backlog(r->server)) < 0) {
        return OK;
    }
    if (!flush(sub)) {
        return OK;
    }
    if (can_suspend(r)) {
        park(sub);
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
        "{s:I}", "subscribers", (json_int_t)pchat_shm_subscribers_total()));
}
