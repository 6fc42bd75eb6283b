/* Counters of the whole node (every child process adds to one shared
 * segment), read by the mod_status section and the Prometheus handler
 * (SetHandler payloadchat-metrics). */
#ifndef PCHAT_METRICS_H
#define PCHAT_METRICS_H

#include "pchat_private.h"

#define PCHAT_METRICS_HANDLER "payloadchat-metrics"

/* Node-wide counters, each only ever growing. */
typedef enum {
    PCHAT_M_FRAMES,          /* SSE frames delivered (message and delete) */
    PCHAT_M_MESSAGES,        /* messages delivered in `message` frames */
    PCHAT_M_LOGIN_OK,
    PCHAT_M_LOGIN_FAILED,    /* unknown email or wrong password */
    PCHAT_M_LOGIN_LOCKED,    /* refused: the account is locked */
    PCHAT_M_RATE_LIMITED,    /* 429 answers */
    PCHAT_M_CSRF_REFUSED,    /* cross-site writes and logins refused */
    PCHAT_M_HUB_TICKS,
    PCHAT_M_PURGES,          /* tombstone purges run */
    PCHAT_M_PURGED_ROWS,
    PCHAT_M_COUNT
} pchat_metric;

/* How a login ended, for pchat_metrics_login. */
typedef enum {
    PCHAT_LOGIN_OK, PCHAT_LOGIN_FAILED, PCHAT_LOGIN_LOCKED,
    PCHAT_LOGIN_THROTTLED
} pchat_login_outcome;

/* Creates the shared segment (parent, post_config). */
apr_status_t pchat_metrics_setup(apr_pool_t *pconf, server_rec *s);

void pchat_metrics_count(pchat_metric m, apr_uint64_t n);
apr_uint64_t pchat_metrics_get(pchat_metric m);

/* One API request of endpoint (pchat_router_endpoint_name's index) that
 * ended with status after starting at start. */
void pchat_metrics_request(int endpoint, int status, apr_time_t start);

/* One SSE frame of the event carrying n documents. */
void pchat_metrics_frame(const char *event, apr_size_t n);

/* Counts a login's outcome; a refusal is also logged at warn, in the
 * fixed format conf/fail2ban/payloadchat.conf matches. */
void pchat_metrics_login(request_rec *r, pchat_login_outcome outcome,
                         const char *email);

/* A stream hub's tick; a tombstone purge that removed rows. */
void pchat_metrics_hub_tick(void);
void pchat_metrics_purged(int rows);
/* When the last hub tick and purge happened (0: never), and when the
 * counters started. */
apr_time_t pchat_metrics_last_hub_tick(void);
apr_time_t pchat_metrics_last_purge(void);
apr_time_t pchat_metrics_started(void);

/* The Prometheus text exposition of every counter. */
int pchat_metrics_handler(request_rec *r);

#endif
