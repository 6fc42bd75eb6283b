/* One anonymous shared segment of 64-bit counters, inherited by the
 * children across fork; every update is one atomic add. */
#include "apr_shm.h"
#include "apr_atomic.h"
#include "pchat_metrics.h"
#include "pchat_router.h"
#include "pchat_shm.h"

/* Status classes 1xx..5xx. */
#define CLASSES 5
/* Upper bounds of the latency histogram, in microseconds; +Inf is the
 * count.  The stream's figure is the time to its first frames. */
static const struct {
    apr_uint64_t us;
    const char *le;   /* as the exposition names it */
} bounds[] = {
    {1000, "0.001"}, {5000, "0.005"}, {10000, "0.01"}, {25000, "0.025"},
    {50000, "0.05"}, {100000, "0.1"}, {250000, "0.25"}, {500000, "0.5"},
    {1000000, "1"}, {2500000, "2.5"}, {5000000, "5"}, {10000000, "10"}
};
#define BUCKETS (sizeof(bounds) / sizeof(bounds[0]))

typedef struct {
    volatile apr_uint64_t requests[PCHAT_ENDPOINTS][CLASSES];
    /* per bucket, the last one past the largest bound */
    volatile apr_uint64_t latency[PCHAT_ENDPOINTS][BUCKETS + 1];
    volatile apr_uint64_t latency_sum_us[PCHAT_ENDPOINTS];
    volatile apr_uint64_t counters[PCHAT_M_COUNT];
    volatile apr_uint64_t last_hub_tick;   /* apr_time_t */
    volatile apr_uint64_t last_purge;
    apr_time_t started;
} pchat_metrics_shared;

static pchat_metrics_shared *m;
/* Stands in before setup (and in the trial configuration read). */
static pchat_metrics_shared unshared;

apr_status_t pchat_metrics_setup(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm;
    apr_status_t rv = apr_shm_create(&shm, sizeof(*m), NULL, pconf);

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, PCHAT_LOGNO(01600)
                     "cannot create the shared memory segment of the "
                     "metrics");
        return rv;
    }
    m = apr_shm_baseaddr_get(shm);
    memset(m, 0, sizeof(*m));
    m->started = apr_time_now();
    return APR_SUCCESS;
}

static pchat_metrics_shared *seg(void)
{
    return m ? m : &unshared;
}

void pchat_metrics_count(pchat_metric c, apr_uint64_t n)
{
    apr_atomic_add64(&seg()->counters[c], n);
}

apr_uint64_t pchat_metrics_get(pchat_metric c)
{
    return apr_atomic_read64(&seg()->counters[c]);
}

void pchat_metrics_request(int endpoint, int status, apr_time_t start)
{
    pchat_metrics_shared *sm = seg();
    apr_uint64_t us = (apr_uint64_t)(apr_time_now() - start);
    int cls = status / 100 - 1;
    size_t b;

    if (endpoint < 0 || endpoint >= PCHAT_ENDPOINTS) {
        return;
    }
    apr_atomic_inc64(&sm->requests[endpoint][cls >= 0 && cls < CLASSES
                                             ? cls : CLASSES - 1]);
    for (b = 0; b < BUCKETS && us > bounds[b].us; b++) {
    }
    apr_atomic_inc64(&sm->latency[endpoint][b]);
    apr_atomic_add64(&sm->latency_sum_us[endpoint], us);
    if (status == HTTP_TOO_MANY_REQUESTS) {
        pchat_metrics_count(PCHAT_M_RATE_LIMITED, 1);
    }
}

void pchat_metrics_frame(const char *event, apr_size_t n)
{
    pchat_metrics_count(PCHAT_M_FRAMES, 1);
    if (!strcmp(event, "message")) {
        pchat_metrics_count(PCHAT_M_MESSAGES, n);
    }
}

void pchat_metrics_login(request_rec *r, pchat_login_outcome outcome,
                         const char *email)
{
    /* the address first: the email is the client's text */
    const char *who = ap_escape_logitem(r->pool, email ? email : "");

    switch (outcome) {
    case PCHAT_LOGIN_OK:
        pchat_metrics_count(PCHAT_M_LOGIN_OK, 1);
        break;
    case PCHAT_LOGIN_FAILED:
        pchat_metrics_count(PCHAT_M_LOGIN_FAILED, 1);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PCHAT_LOGNO(01601)
                      "login failed from %s for %s", r->useragent_ip, who);
        break;
    case PCHAT_LOGIN_LOCKED:
        pchat_metrics_count(PCHAT_M_LOGIN_LOCKED, 1);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PCHAT_LOGNO(01602)
                      "login refused from %s for %s: account locked",
                      r->useragent_ip, who);
        break;
    case PCHAT_LOGIN_THROTTLED:
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PCHAT_LOGNO(01603)
                      "login refused from %s: too many attempts a minute",
                      r->useragent_ip);
        break;
    }
}

void pchat_metrics_hub_tick(void)
{
    pchat_metrics_count(PCHAT_M_HUB_TICKS, 1);
    apr_atomic_set64(&seg()->last_hub_tick, (apr_uint64_t)apr_time_now());
}

void pchat_metrics_purged(int rows)
{
    pchat_metrics_count(PCHAT_M_PURGES, 1);
    pchat_metrics_count(PCHAT_M_PURGED_ROWS, rows > 0 ? (apr_uint64_t)rows
                                                      : 0);
    apr_atomic_set64(&seg()->last_purge, (apr_uint64_t)apr_time_now());
}

apr_time_t pchat_metrics_last_hub_tick(void)
{
    return (apr_time_t)apr_atomic_read64(&seg()->last_hub_tick);
}

apr_time_t pchat_metrics_last_purge(void)
{
    return (apr_time_t)apr_atomic_read64(&seg()->last_purge);
}

apr_time_t pchat_metrics_started(void)
{
    return seg()->started;
}

/* ---- the exposition ---------------------------------------------------- */

static void head(request_rec *r, const char *name, const char *type,
                 const char *help)
{
    ap_rprintf(r, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void simple(request_rec *r, const char *name, const char *type,
                   const char *help, apr_uint64_t value)
{
    head(r, name, type, help);
    ap_rprintf(r, "%s %" APR_UINT64_T_FMT "\n", name, value);
}

static void requests(request_rec *r, pchat_metrics_shared *sm)
{
    int e, c;

    head(r, "payloadchat_requests_total", "counter",
         "API requests by endpoint and status class.");
    for (e = 0; e < PCHAT_ENDPOINTS; e++) {
        for (c = 0; c < CLASSES; c++) {
            ap_rprintf(r, "payloadchat_requests_total{endpoint=\"%s\","
                       "code=\"%dxx\"} %" APR_UINT64_T_FMT "\n",
                       pchat_router_endpoint_name(e), c + 1,
                       apr_atomic_read64(&sm->requests[e][c]));
        }
    }
}

static void latency(request_rec *r, pchat_metrics_shared *sm)
{
    const char *name = "payloadchat_request_duration_seconds";
    int e;
    size_t b;

    head(r, name, "histogram", "Time from the request line to the "
         "handler's end (for the stream: to its first frames).");
    for (e = 0; e < PCHAT_ENDPOINTS; e++) {
        const char *ep = pchat_router_endpoint_name(e);
        apr_uint64_t total = 0;

        for (b = 0; b <= BUCKETS; b++) {
            total += apr_atomic_read64(&sm->latency[e][b]);
            if (b < BUCKETS) {
                ap_rprintf(r, "%s_bucket{endpoint=\"%s\",le=\"%s\"} %"
                           APR_UINT64_T_FMT "\n", name, ep, bounds[b].le,
                           total);
            }
        }
        ap_rprintf(r, "%s_bucket{endpoint=\"%s\",le=\"+Inf\"} %"
                   APR_UINT64_T_FMT "\n%s_sum{endpoint=\"%s\"} %.6f\n"
                   "%s_count{endpoint=\"%s\"} %" APR_UINT64_T_FMT "\n",
                   name, ep, total, name, ep,
                   (double)apr_atomic_read64(&sm->latency_sum_us[e]) / 1e6,
                   name, ep, total);
    }
}

/* The plain counters of the exposition. */
static const struct {
    const char *name, *help;
    pchat_metric metric;
} counters[] = {
    {"payloadchat_frames_delivered_total",
     "Stream frames (message and delete) sent.", PCHAT_M_FRAMES},
    {"payloadchat_messages_delivered_total",
     "Messages sent in stream frames.", PCHAT_M_MESSAGES},
    {"payloadchat_rate_limited_total", "Requests refused with 429.",
     PCHAT_M_RATE_LIMITED},
    {"payloadchat_csrf_refused_total",
     "Cross-site writes and logins refused.", PCHAT_M_CSRF_REFUSED},
    {"payloadchat_hub_ticks_total", "Ticks of the stream hubs.",
     PCHAT_M_HUB_TICKS},
    {"payloadchat_tombstones_purged_total", "Expired tombstones removed.",
     PCHAT_M_PURGED_ROWS},
};

static void add_child(void *baton, const pchat_shm_child *c)
{
    apr_uint64_t *sums = baton;

    sums[0] += c->subscribers;
    sums[1] += c->db_open;
    sums[2] += c->db_busy;
    sums[3] += c->h2_subscribers;
}

int pchat_metrics_handler(request_rec *r)
{
    pchat_metrics_shared *sm = seg();
    apr_uint64_t sums[4] = {0, 0, 0, 0};
    apr_time_t t;
    size_t i;

    if (!r->handler || strcmp(r->handler, PCHAT_METRICS_HANDLER)) {
        return DECLINED;
    }
    r->allowed = AP_METHOD_BIT << M_GET;
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (r->header_only) {
        return OK;
    }
    pchat_shm_child_each(add_child, sums);
    requests(r, sm);
    latency(r, sm);
    simple(r, "payloadchat_subscribers", "gauge",
           "Open streams on this node.", sums[0]);
    simple(r, "payloadchat_h2_subscribers", "gauge",
           "Open streams over HTTP/2 on this node (each holds an h2 worker).",
           sums[3]);
    simple(r, "payloadchat_db_connections_open", "gauge",
           "Database connections the children hold.", sums[1]);
    simple(r, "payloadchat_db_connections_busy", "gauge",
           "Database connections in use.", sums[2]);
    simple(r, "payloadchat_message_writes_total", "counter",
           "Committed changes to messages.", pchat_shm_changes());
    for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
        simple(r, counters[i].name, "counter", counters[i].help,
               pchat_metrics_get(counters[i].metric));
    }
    head(r, "payloadchat_logins_total", "counter", "Logins by outcome.");
    ap_rprintf(r, "payloadchat_logins_total{result=\"ok\"} %"
               APR_UINT64_T_FMT "\npayloadchat_logins_total{result="
               "\"failed\"} %" APR_UINT64_T_FMT "\npayloadchat_logins_total"
               "{result=\"locked\"} %" APR_UINT64_T_FMT "\n",
               pchat_metrics_get(PCHAT_M_LOGIN_OK),
               pchat_metrics_get(PCHAT_M_LOGIN_FAILED),
               pchat_metrics_get(PCHAT_M_LOGIN_LOCKED));
    t = pchat_metrics_last_purge();
    simple(r, "payloadchat_last_purge_timestamp_seconds", "gauge",
           "When tombstones were last purged (0: never).",
           (apr_uint64_t)apr_time_sec(t));
    simple(r, "payloadchat_start_timestamp_seconds", "gauge",
           "When the counters started.",
           (apr_uint64_t)apr_time_sec(sm->started));
    return OK;
}
