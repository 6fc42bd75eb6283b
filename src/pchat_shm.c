/* Anonymous shared memory, inherited by the children across fork. */
#include <unistd.h>
#include "apr_shm.h"
#include "apr_atomic.h"
#include "ap_mpm.h"
#include "pchat_shm.h"

#define SLOTS 1024

typedef struct {
    volatile apr_uint32_t pid;
    volatile apr_uint32_t subscribers;
} pchat_slot;

typedef struct {
    volatile apr_uint32_t changes;
    pchat_slot slots[SLOTS];
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

apr_uint32_t pchat_shm_subscribers_total(void)
{
    apr_uint32_t total = 0;
    int i;

    if (!shared) {
        return apr_atomic_read32(&spare_slot.subscribers);
    }
    for (i = 0; i < SLOTS; i++) {
        if (shared->slots[i].pid) {
            total += apr_atomic_read32(&shared->slots[i].subscribers);
        }
    }
    return total;
}
