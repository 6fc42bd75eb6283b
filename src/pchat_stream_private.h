/* What the stream's files share (not for the rest of the module): the
 * hub and subscriber types, and the calls between the wire format
 * (pchat_sse.c), the per-child hub (pchat_hub.c), the event MPM's
 * suspend/resume (pchat_suspend.c) and delivery with the handler
 * (pchat_stream.c). */
#ifndef PCHAT_STREAM_PRIVATE_H
#define PCHAT_STREAM_PRIVATE_H

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
#include "pchat_auth.h"
#include "pchat_signals.h"
#include "pchat_presence.h"

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
    pchat_signals *signals;       /* typing, read, presence: recent ones */
    pchat_presence *presence;     /* the users of this child's streams */
    struct pchat_hub *next;
} pchat_hub;

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
    apr_int64_t user;           /* logged in at the open, or 0 */
    apr_int64_t sig_cursor;     /* the last signal looked at */
    apr_os_sock_t fd;
    struct pchat_sub *prev, *next;
} pchat_sub;

/* ---- pchat_sse.c: the wire format ---- */
void pchat_sse_put_copy(pchat_sub *sub, const char *data, apr_size_t len);
void pchat_sse_put_const(pchat_sub *sub, const char *text);
void pchat_sse_printf(pchat_sub *sub, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pchat_sse_frame(pchat_sub *sub, const char *event, apr_int64_t id,
                  json_t *data);
int pchat_sse_flush(pchat_sub *sub);
void pchat_sse_headers(request_rec *r);
/* The stream's opening comment and the client's reconnect delay. */
void pchat_sse_open(pchat_sub *sub, int retry_ms);
/* A keep-alive frame. */
void pchat_sse_ping(pchat_sub *sub);
/* An event with only an id: moves the client's cursor. */
void pchat_sse_id_only(pchat_sub *sub, apr_int64_t id);
/* `message`: docs created or edited, the last of them at change id. */
void pchat_sse_messages(pchat_sub *sub, apr_int64_t id, json_t *docs);
/* `delete`: [{"id": ...}] of the tombstones docs (p owns the array). */
void pchat_sse_deleted(pchat_sub *sub, apr_pool_t *p, apr_int64_t id,
                       json_t *docs);

/* ---- pchat_hub.c: the per-child hub ---- */
pchat_hub *pchat_hub_for(const server_rec *s);
apr_int64_t pchat_hub_known(pchat_hub *hub);
/* Whether the subscriber has a change or a signal to read (hub->mu held,
 * or the subscriber's own thread). */
int pchat_hub_behind(pchat_hub *hub, pchat_sub *sub);
void pchat_hub_wait(pchat_sub *sub, apr_time_t deadline);
void pchat_shedding_pool_create(apr_pool_t **p, apr_pool_t *parent,
                                 const char *tag);

/* ---- pchat_suspend.c: the event MPM's suspend and resume ---- */
void pchat_suspend_find_gone(pchat_hub *hub, apr_pool_t *p);
void pchat_suspend_schedule_due(pchat_hub *hub, apr_pool_t *p);
int pchat_suspend_possible(request_rec *r);
void pchat_suspend_park(pchat_sub *sub);

/* ---- pchat_stream.c: delivery and the handler ---- */
int pchat_stream_client_gone(request_rec *r);
int pchat_stream_serve_once(pchat_sub *sub);

#endif
