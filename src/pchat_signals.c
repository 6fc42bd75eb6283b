/* Signals: the table, and each hub's ring of the recent ones. */
#include "pchat_signals.h"
#include "pchat_chat.h"
#include "pchat_shm.h"
#include "pchat_time.h"

/* Signals are for streams open now: a minute covers any hub's lag. */
#define SIGNAL_KEEP_MS 60000
/* Signals a hub keeps in memory; a stream that is further behind (it was
 * stalled while more than this many were sent) skips the older ones. */
#define RING_SIZE 1024

typedef struct {
    apr_int64_t id;
    apr_int64_t to;          /* 0: every stream */
    char *frame;             /* malloc'd */
    apr_size_t len;
} ring_entry;

struct pchat_signals {
    apr_thread_mutex_t *mu;
    apr_int64_t known;       /* newest id read, -1 before the first stream */
    ring_entry entries[RING_SIZE];
    int first, count;        /* circular: the oldest at first */
};

int pchat_signal_send(pchat_conn *c, apr_pool_t *p, const char *kind,
                      apr_int64_t from, const apr_int64_t *to, int nto,
                      json_t *data)
{
    const char *body = pchat_json_pstr(p, data);
    apr_int64_t now = pchat_now_ms();
    int rv = pchat_db_begin(c), i, nrows;

    for (i = 0; !rv && i < nto; i++) {
        pchat_sql *sql = pchat_sql_make(p, "INSERT INTO signals (kind, "
                                        "from_user, to_user, body, "
                                        "created_at) VALUES (");
        pchat_sql_str(sql, kind);
        pchat_sql_add(sql, ", ");
        pchat_sql_int(sql, from);
        if (to[i]) {
            pchat_sql_add(sql, ", ");
            pchat_sql_int(sql, to[i]);
        }
        else {
            pchat_sql_add(sql, ", NULL");
        }
        pchat_sql_add(sql, ", ");
        pchat_sql_str(sql, body);
        pchat_sql_add(sql, ", ");
        pchat_sql_int(sql, now);
        pchat_sql_add(sql, ")");
        rv = pchat_db_exec(c, p, sql, &nrows);
    }
    if (rv) {
        pchat_db_rollback(c);
        return rv;
    }
    rv = pchat_db_commit(c);
    if (!rv) {
        pchat_shm_notify_change();
    }
    return rv;
}

apr_int64_t pchat_signals_recent(pchat_conn *c, apr_pool_t *p,
                                 const char *kind, apr_int64_t from,
                                 apr_int64_t to, apr_int64_t ms, int *rv)
{
    pchat_sql *sql = pchat_sql_make(p, "SELECT COUNT(*) FROM signals WHERE "
                                       "from_user = ");

    pchat_sql_int(sql, from);
    pchat_sql_add(sql, " AND to_user = ");
    pchat_sql_int(sql, to);
    pchat_sql_add(sql, " AND created_at > ");
    pchat_sql_int(sql, pchat_now_ms() - ms);
    pchat_sql_add(sql, " AND kind = ");
    pchat_sql_str(sql, kind);
    return pchat_chat_number(c, p, sql, rv);
}

void pchat_signals_purge(pchat_conn *c, apr_pool_t *p)
{
    pchat_sql *sql = pchat_sql_make(p, "DELETE FROM signals WHERE "
                                       "created_at < ");
    int nrows;

    pchat_sql_int(sql, pchat_now_ms() - SIGNAL_KEEP_MS);
    pchat_db_exec(c, p, sql, &nrows);   /* a failure is logged; next time */
}

apr_int64_t pchat_signals_max(pchat_conn *c, apr_pool_t *p, int *rv)
{
    return pchat_chat_number(c, p, pchat_sql_make(
        p, "SELECT MAX(id) FROM signals"), rv);
}

static apr_status_t ring_free(void *data)
{
    pchat_signals *ring = data;
    int i;

    for (i = 0; i < ring->count; i++) {
        free(ring->entries[(ring->first + i) % RING_SIZE].frame);
    }
    ring->count = 0;
    return APR_SUCCESS;
}

pchat_signals *pchat_signals_make(apr_pool_t *p)
{
    pchat_signals *ring = apr_pcalloc(p, sizeof(*ring));

    apr_thread_mutex_create(&ring->mu, APR_THREAD_MUTEX_DEFAULT, p);
    ring->known = -1;
    apr_pool_cleanup_register(p, ring, ring_free, apr_pool_cleanup_null);
    return ring;
}

void pchat_signals_start(pchat_signals *ring, apr_int64_t at)
{
    apr_thread_mutex_lock(ring->mu);
    if (ring->known < 0) {
        ring->known = at;
    }
    apr_thread_mutex_unlock(ring->mu);
}

/* Adds a row's frame as the newest entry (ring->mu held). */
static void ring_push(pchat_signals *ring, apr_int64_t id, apr_int64_t to,
                      const char *kind, const char *body)
{
    ring_entry *e;
    char *frame = NULL;
    int n = asprintf(&frame, "event: %s\ndata: %s\n\n", kind, body);

    if (n < 0) {
        return;
    }
    if (ring->count == RING_SIZE) {
        free(ring->entries[ring->first].frame);
        ring->first = (ring->first + 1) % RING_SIZE;
        ring->count--;
    }
    e = &ring->entries[(ring->first + ring->count) % RING_SIZE];
    e->id = id;
    e->to = to;
    e->frame = frame;
    e->len = (apr_size_t)n;
    ring->count++;
}

int pchat_signals_probe(pchat_signals *ring, pchat_conn *c, apr_pool_t *p)
{
    apr_int64_t known, max, from;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    pchat_sql *sql;
    int rv, n = 0;

    apr_thread_mutex_lock(ring->mu);
    known = ring->known;
    apr_thread_mutex_unlock(ring->mu);
    max = pchat_signals_max(c, p, &rv);
    if (rv || known < 0 || max <= known) {
        return 0;
    }
    from = max - known > RING_SIZE ? max - RING_SIZE : known;
    sql = pchat_sql_make(p, "SELECT id, kind, to_user, body FROM signals "
                            "WHERE id > ");
    pchat_sql_int(sql, from);
    pchat_sql_add(sql, " AND id <= ");
    pchat_sql_int(sql, max);
    pchat_sql_add(sql, " ORDER BY id");
    if (pchat_db_select(c, p, sql, &res)) {
        return 0;
    }
    apr_thread_mutex_lock(ring->mu);
    while (pchat_db_next_row(c, p, res, &row)) {
        const char *to = pchat_chat_entry(c, row, 2);
        apr_int64_t id = apr_atoi64(pchat_db_entry(c, row, 0));
        if (id > ring->known) {
            ring_push(ring, id, to ? apr_atoi64(to) : 0,
                      pchat_db_entry(c, row, 1), pchat_db_entry(c, row, 3));
            n++;
        }
    }
    if (max > ring->known) {
        ring->known = max;
    }
    apr_thread_mutex_unlock(ring->mu);
    return n > 0;
}

/* The position of the oldest entry newer than cursor (ring->mu held). */
static int ring_after(const pchat_signals *ring, apr_int64_t cursor)
{
    int lo = 0, hi = ring->count;

    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (ring->entries[(ring->first + mid) % RING_SIZE].id <= cursor) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo;
}

static int is_for(const ring_entry *e, apr_int64_t user)
{
    return e->to == 0 || (user && e->to == user);
}

int pchat_signals_pending(pchat_signals *ring, apr_int64_t *cursor,
                          apr_int64_t user)
{
    int i, found = 0;

    apr_thread_mutex_lock(ring->mu);
    for (i = ring_after(ring, *cursor); i < ring->count; i++) {
        const ring_entry *e = &ring->entries[(ring->first + i) % RING_SIZE];
        if (is_for(e, user)) {
            found = 1;
            break;
        }
        *cursor = e->id;
    }
    apr_thread_mutex_unlock(ring->mu);
    return found;
}

const char *pchat_signals_take(pchat_signals *ring, apr_int64_t *cursor,
                               apr_int64_t user, apr_pool_t *p,
                               apr_size_t *len)
{
    apr_array_header_t *parts = apr_array_make(p, 4, sizeof(struct iovec));
    int i;

    apr_thread_mutex_lock(ring->mu);
    for (i = ring_after(ring, *cursor); i < ring->count; i++) {
        const ring_entry *e = &ring->entries[(ring->first + i) % RING_SIZE];
        if (is_for(e, user)) {
            struct iovec *v = apr_array_push(parts);
            v->iov_base = apr_pmemdup(p, e->frame, e->len);
            v->iov_len = e->len;
        }
        *cursor = e->id;
    }
    apr_thread_mutex_unlock(ring->mu);
    if (!parts->nelts) {
        return NULL;
    }
    return apr_pstrcatv(p, (const struct iovec *)parts->elts, parts->nelts,
                        len);
}
