/* Anonymous shared memory, inherited by the children across fork. */
#include <unistd.h>
#include "apr_shm.h"
#include "apr_atomic.h"
#include "ap_mpm.h"
#include "pchat_shm.h"

#define SLOTS 1024
/* Client addresses hash into this many counters; addresses that share one
 * share its limit, which errs on the side of refusing. */
#define ADDR_BUCKETS 4096

typedef struct {
    volatile apr_uint32_t minute;   /* of the count below */
    volatile apr_uint32_t count;
} pchat_rate;

typedef struct {
    volatile apr_uint32_t pid;
    volatile apr_uint32_t subscribers;
    volatile apr_uint32_t h2_subscribers;   /* of them, over HTTP/2 */
    volatile apr_uint32_t h2_connections;   /* h2 connections holding them */
    volatile apr_uint32_t db_open;  /* database connections of the child */
    volatile apr_uint32_t db_busy;  /* ... of them in use */
} pchat_slot;

typedef struct {
    volatile apr_uint32_t changes;
    pchat_slot slots[SLOTS];
    volatile apr_uint32_t client_streams[ADDR_BUCKETS];
    pchat_rate client_logins[ADDR_BUCKETS];
} pchat_shared;

static pchat_shared *shared;
/* Stands in for a slot when the segment has none left. */
static pchat_slot spare_slot;
static pchat_slot *my_slot = &spare_slot;

apr_status_t pchat_shm_setup(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm;
    apr_status_t rv = apr_shm_create(&shm, sizeof(pchat_shared), NULL, pconf);

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, PCHAT_LOGNO(00401)
                     "cannot create the shared memory segment");
        return rv;
    }
    shared = apr_shm_baseaddr_get(shm);
    memset(shared, 0, sizeof(*shared));
    return APR_SUCCESS;
}

void pchat_shm_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_uint32_t pid = (apr_uint32_t)getpid();
    int i;

    my_slot = &spare_slot;
    for (i = 0; shared && i < SLOTS; i++) {
        if (apr_atomic_cas32(&shared->slots[i].pid, pid, 0) == 0) {
            my_slot = &shared->slots[i];
            apr_atomic_set32(&my_slot->subscribers, 0);
            apr_atomic_set32(&my_slot->h2_subscribers, 0);
            apr_atomic_set32(&my_slot->h2_connections, 0);
            apr_atomic_set32(&my_slot->db_open, 0);
            apr_atomic_set32(&my_slot->db_busy, 0);
            return;
        }
    }
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PCHAT_LOGNO(00402)
                 "no shared slot left: this child's subscribers are not "
                 "counted in the node total");
}

void pchat_shm_child_exited(pid_t pid)
{
    int i;

    for (i = 0; shared && i < SLOTS; i++) {
        if (shared->slots[i].pid == (apr_uint32_t)pid) {
            apr_atomic_set32(&shared->slots[i].subscribers, 0);
            apr_atomic_set32(&shared->slots[i].h2_subscribers, 0);
            apr_atomic_set32(&shared->slots[i].h2_connections, 0);
            apr_atomic_set32(&shared->slots[i].db_open, 0);
            apr_atomic_set32(&shared->slots[i].db_busy, 0);
            apr_atomic_set32(&shared->slots[i].pid, 0);
        }
    }
}

void pchat_shm_notify_change(void)
{
    if (shared) {
        apr_atomic_inc32(&shared->changes);
    }
}

apr_uint32_t pchat_shm_changes(void)
{
    return shared ? apr_atomic_read32(&shared->changes) : 0;
}

apr_uint32_t pchat_shm_subscribers_add(int delta)
{
    apr_atomic_add32(&my_slot->subscribers, (apr_uint32_t)delta);
    return pchat_shm_subscribers_total();
}

/* The sum over live children of the slot counter at offset. */
static apr_uint32_t slots_sum(size_t offset)
{
    apr_uint32_t total = 0;
    int i;

#define COUNTER(slot) ((volatile apr_uint32_t *)((char *)(slot) + offset))
    if (!shared) {
        return apr_atomic_read32(COUNTER(&spare_slot));
    }
    for (i = 0; i < SLOTS; i++) {
        if (shared->slots[i].pid) {
            total += apr_atomic_read32(COUNTER(&shared->slots[i]));
        }
    }
    return total;
#undef COUNTER
}

apr_uint32_t pchat_shm_subscribers_total(void)
{
    return slots_sum(APR_OFFSETOF(pchat_slot, subscribers));
}

void pchat_shm_h2_subscribers_add(int delta)
{
    apr_atomic_add32(&my_slot->h2_subscribers, (apr_uint32_t)delta);
}

void pchat_shm_h2_connections_add(int delta)
{
    apr_atomic_add32(&my_slot->h2_connections, (apr_uint32_t)delta);
}

apr_uint32_t pchat_shm_h2_subscribers_total(void)
{
    return slots_sum(APR_OFFSETOF(pchat_slot, h2_subscribers));
}

void pchat_shm_db_add(int open, int busy)
{
    apr_atomic_add32(&my_slot->db_open, (apr_uint32_t)open);
    apr_atomic_add32(&my_slot->db_busy, (apr_uint32_t)busy);
}

int pchat_shm_child_each(pchat_shm_child_fn fn, void *baton)
{
    pchat_shm_child child;
    pchat_slot *slot;
    int i, n = 0;

    for (i = 0; i < (shared ? SLOTS : 1); i++) {
        slot = shared ? &shared->slots[i] : &spare_slot;
        child.pid = apr_atomic_read32(&slot->pid);
        if (shared && !child.pid) {
            continue;
        }
        child.subscribers = apr_atomic_read32(&slot->subscribers);
        child.h2_subscribers = apr_atomic_read32(&slot->h2_subscribers);
        child.h2_connections = apr_atomic_read32(&slot->h2_connections);
        child.db_open = apr_atomic_read32(&slot->db_open);
        child.db_busy = apr_atomic_read32(&slot->db_busy);
        fn(baton, &child);
        n++;
    }
    return n;
}

/* FNV-1a of the address text. */
static unsigned addr_bucket(const char *addr)
{
    apr_uint32_t h = 2166136261u;

    for (; addr && *addr; addr++) {
        h = (h ^ (unsigned char)*addr) * 16777619u;
    }
    return h % ADDR_BUCKETS;
}

int pchat_shm_client_stream_take(const char *addr, int max)
{
    volatile apr_uint32_t *n;
    apr_uint32_t cur;

    if (!shared) {
        return 1;
    }
    n = &shared->client_streams[addr_bucket(addr)];
    do {
        cur = apr_atomic_read32(n);
        if (cur >= (apr_uint32_t)max) {
            return 0;
        }
    } while (apr_atomic_cas32(n, cur + 1, cur) != cur);
    return 1;
}

void pchat_shm_client_stream_release(const char *addr)
{
    volatile apr_uint32_t *n;
    apr_uint32_t cur;

    if (!shared) {
        return;
    }
    n = &shared->client_streams[addr_bucket(addr)];
    do {
        cur = apr_atomic_read32(n);
        if (cur == 0) {
            return;   /* never below zero, whatever happened before */
        }
    } while (apr_atomic_cas32(n, cur - 1, cur) != cur);
}

int pchat_shm_client_login_allowed(const char *addr, int max)
{
    apr_uint32_t minute = (apr_uint32_t)(apr_time_sec(apr_time_now()) / 60);
    pchat_rate *b;

    if (!shared || max <= 0) {
        return 1;
    }
    b = &shared->client_logins[addr_bucket(addr)];
    if (apr_atomic_read32(&b->minute) != minute) {
        /* a new minute: racing resets lose at most a few counts */
        apr_atomic_set32(&b->count, 0);
        apr_atomic_set32(&b->minute, minute);
    }
    return apr_atomic_inc32(&b->count) < (apr_uint32_t)max;
}
