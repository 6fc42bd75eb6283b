/* mod_status calls every module's status_hook while it writes its page;
 * an optional hook, so the module needs no mod_status to load. */
#include "mod_status.h"
#include "ap_mpm.h"
#include "pchat_status.h"
#include "pchat_metrics.h"
#include "pchat_shm.h"

typedef struct {
    request_rec *r;
    int short_report;
    apr_uint64_t subscribers, h2_subscribers, db_open, db_busy;
} status_walk;

static void child_row(void *baton, const pchat_shm_child *c)
{
    status_walk *w = baton;

    w->subscribers += c->subscribers;
    w->h2_subscribers += c->h2_subscribers;
    w->db_open += c->db_open;
    w->db_busy += c->db_busy;
    if (w->short_report) {
        ap_rprintf(w->r, "PayloadChatChild: pid=%u subscribers=%u "
                   "h2_subscribers=%u h2_connections=%u db_busy=%u "
                   "db_idle=%u\n", c->pid, c->subscribers, c->h2_subscribers,
                   c->h2_connections, c->db_busy, c->db_open - c->db_busy);
    }
    else {
        ap_rprintf(w->r, "<tr><td>%u</td><td>%u</td><td>%u</td><td>%u</td>"
                   "<td>%u</td><td>%u</td></tr>\n", c->pid, c->subscribers,
                   c->h2_subscribers, c->h2_connections, c->db_busy,
                   c->db_open - c->db_busy);
    }
}

/* Seconds since t, or -1 for never. */
static long ago(apr_time_t t, apr_time_t now)
{
    return t ? (long)apr_time_sec(now - t) : -1;
}

/* "running" while some hub ticked in the last 10 s; a prefork server has
 * no hub thread, its waiting streams tick it. */
static const char *hub_state(apr_time_t last, apr_time_t now)
{
    int threaded = 0;

    ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded);
    if (!last) {
        return threaded ? "not started" : "idle (no stream)";
    }
    return now - last < apr_time_from_sec(10) ? "running"
           : threaded ? "stalled" : "idle (no stream)";
}

static int pchat_status_hook(request_rec *r, int flags)
{
    status_walk w = {r, flags & AP_STATUS_SHORT, 0, 0, 0, 0};
    apr_time_t now = apr_time_now();
    apr_uint32_t writes = pchat_shm_changes();
    double up = (double)(now - pchat_metrics_started()) / APR_USEC_PER_SEC;
    double rate = up > 0 ? writes / up : 0;
    const char *hub = hub_state(pchat_metrics_last_hub_tick(), now);
    long purge = ago(pchat_metrics_last_purge(), now);

    if (!w.short_report) {
        ap_rputs("<hr />\n<h2>Payload Chat</h2>\n<table border=\"0\">"
                 "<tr><th>child pid</th><th>subscribers</th>"
                 "<th>over HTTP/2</th><th>h2 connections holding them</th>"
                 "<th>db busy</th><th>db idle</th></tr>\n", r);
    }
    pchat_shm_child_each(child_row, &w);
    if (w.short_report) {
        ap_rprintf(r, "PayloadChatSubscribers: %" APR_UINT64_T_FMT "\n"
                   "PayloadChatH2Subscribers: %" APR_UINT64_T_FMT "\n"
                   "PayloadChatFramesDelivered: %" APR_UINT64_T_FMT "\n"
                   "PayloadChatMessagesDelivered: %" APR_UINT64_T_FMT "\n"
                   "PayloadChatWrites: %u\nPayloadChatWritesPerSec: %.3f\n"
                   "PayloadChatDBBusy: %" APR_UINT64_T_FMT "\n"
                   "PayloadChatDBIdle: %" APR_UINT64_T_FMT "\n"
                   "PayloadChatHubState: %s\n"
                   "PayloadChatLastPurgeSecondsAgo: %ld\n",
                   w.subscribers, w.h2_subscribers,
                   pchat_metrics_get(PCHAT_M_FRAMES),
                   pchat_metrics_get(PCHAT_M_MESSAGES), writes, rate,
                   w.db_busy, w.db_open - w.db_busy, hub, purge);
        return OK;
    }
    ap_rprintf(r, "</table>\n<dl>"
               "<dt>Subscribers on this node: %" APR_UINT64_T_FMT " (%"
               APR_UINT64_T_FMT " over HTTP/2, each on an h2 worker)</dt>\n"
               "<dt>Frames delivered: %" APR_UINT64_T_FMT ", messages in "
               "them: %" APR_UINT64_T_FMT "</dt>\n"
               "<dt>Message writes: %u (%.3f/s since start)</dt>\n"
               "<dt>Database connections: %" APR_UINT64_T_FMT " busy, %"
               APR_UINT64_T_FMT " idle</dt>\n"
               "<dt>Stream hub: %s</dt>\n<dt>Last tombstone purge: %s</dt>\n"
               "</dl>\n",
               w.subscribers, w.h2_subscribers,
               pchat_metrics_get(PCHAT_M_FRAMES),
               pchat_metrics_get(PCHAT_M_MESSAGES), writes, rate,
               w.db_busy, w.db_open - w.db_busy, hub,
               purge < 0 ? "never" : apr_psprintf(r->pool, "%lds ago",
                                                  purge));
    return OK;
}

void pchat_status_register(apr_pool_t *p)
{
    APR_OPTIONAL_HOOK(ap, status_hook, pchat_status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
}
