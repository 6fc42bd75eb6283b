/* mod_payloadchat: a Payload-compatible chat API inside Apache httpd.
 * This file holds the module record and hooks only; see src/. */
#define PCHAT_MODULE_MAIN
#include "src/pchat_private.h"
#include "src/pchat_config.h"
#include "src/pchat_router.h"
#include "src/pchat_store.h"
#include "src/pchat_shm.h"
#include "src/pchat_stream.h"
#include "src/pchat_auth.h"
#include "src/pchat_metrics.h"
#include "src/pchat_status.h"
#include "ap_mpm.h"
#include "http_core.h"
#include "apr_dbd.h"

/* Claims API URLs before the filesystem mapping sees them. */
static int pchat_translate_name(request_rec *r)
{
    if (!pchat_router_claims(r)) {
        return DECLINED;
    }
    r->handler = PCHAT_HANDLER;
    r->filename = apr_pstrcat(r->pool, PCHAT_HANDLER ":", r->uri, NULL);
    return OK;
}

/* API URLs have no file behind them: skip the directory walk. */
static int pchat_map_to_storage(request_rec *r)
{
    return r->handler && !strcmp(r->handler, PCHAT_HANDLER) ? OK : DECLINED;
}

static int pchat_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, PCHAT_HANDLER)) {
        return pchat_metrics_handler(r);
    }
    return pchat_route(r);
}

static int pchat_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp)
{
    pchat_store_pre_config(pconf);
    return apr_dbd_init(pconf) == APR_SUCCESS ? OK : !OK;
}

/* Every configuration mistake is found here, where `apachectl -t` sees it,
 * rather than in post_config, where it would stop a graceful restart. */
static int pchat_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    const char *err = pchat_conf_check(ptemp, s);

    if (!err) {
        err = pchat_store_check(ptemp, s);
    }
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, PCHAT_LOGNO(00002)
                     "%s", err);
        return !OK;
    }
    return OK;
}

/* One notice per server that serves the chat, at each (re)start, so an
 * administrator sees what runs where. */
static void log_what_runs(apr_pool_t *ptemp, server_rec *s)
{
    server_rec *vs;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return;     /* the trial read of the configuration */
    }
    for (vs = s; vs; vs = vs->next) {
        if (pchat_conf_enabled(vs)) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, vs, PCHAT_LOGNO(00004)
                         "%s", pchat_conf_describe(ptemp, vs));
        }
    }
}

static int pchat_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    const char *err = pchat_conf_make_startup_secret(pconf);

    if (err) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, PCHAT_LOGNO(00003)
                     "%s", err);
        return !OK;
    }
    err = pchat_store_setup(pconf, ptemp, s);

    if (pchat_shm_setup(pconf, s) != APR_SUCCESS
        || pchat_metrics_setup(pconf, s) != APR_SUCCESS) {
        return !OK;
    }
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, PCHAT_LOGNO(00001)
                     "PayloadChatDatabase: %s", err);
        return !OK;
    }
    log_what_runs(ptemp, s);
    return OK;
}

static void pchat_child_init(apr_pool_t *pchild, server_rec *s)
{
    pchat_shm_child_init(pchild, s);
    pchat_store_child_init(pchild, s);
    pchat_stream_child_init(pchild, s);
    pchat_auth_child_init(pchild);
}

/* The parent frees the shared slot of a child that is gone. */
static void pchat_child_status(server_rec *s, pid_t pid, ap_generation_t gen,
                               int slot, mpm_child_status state)
{
    if (state == MPM_CHILD_EXITED) {
        pchat_shm_child_exited(pid);
    }
}

static void pchat_register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(pchat_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(pchat_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(pchat_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(pchat_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_status(pchat_child_status, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(pchat_translate_name, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_map_to_storage(pchat_map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_handler(pchat_handler, NULL, NULL, APR_HOOK_MIDDLE);
    pchat_status_register(p);
}

AP_DECLARE_MODULE(payloadchat) = {
    STANDARD20_MODULE_STUFF,
    NULL,                       /* per-directory config */
    NULL,                       /* merge per-directory */
    pchat_create_server_conf,
    pchat_merge_server_conf,
    pchat_directives,
    pchat_register_hooks,
    AP_MODULE_FLAG_NONE
};
