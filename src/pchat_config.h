/* Server configuration: directives, defaults and getters.  Request code reads
 * merged values through the getters only. */
#ifndef PCHAT_CONFIG_H
#define PCHAT_CONFIG_H

#include "pchat_private.h"

typedef struct pchat_db pchat_db;

typedef enum {
    PCHAT_SYNC_UNSET = -1,
    PCHAT_SYNC_OFF = 0,
    PCHAT_SYNC_NORMAL = 1,
    PCHAT_SYNC_FULL = 2
} pchat_sync_mode;

enum { PCHAT_ACCESS_OPEN = 0, PCHAT_ACCESS_MEMBERS = 1 };

typedef struct {
    int enabled;                 /* PayloadChat On|Off; -1 unset */
    const char *mount;           /* URL prefix of the API */
    const char *db_driver;       /* apr_dbd driver name */
    const char *db_params;       /* apr_dbd parameters (sqlite: file path) */
    int db_max;                  /* connections per child process */
    pchat_sync_mode sqlite_sync; /* PRAGMA synchronous */
    apr_off_t max_body;          /* request body ceiling in bytes */
    int max_limit;               /* ceiling of ?limit= */
    apr_array_header_t *cors;    /* allowed origins (const char *) */
    int poll_ms;                 /* stream: backstop poll of the database */
    int keepalive_s;             /* stream: keep-alive frame interval */
    int batch;                   /* stream: docs per frame */
    int backlog;                 /* stream: history replayed on a fresh start */
    int max_subscribers;         /* stream: per Apache node */
    int retry_ms;                /* stream: the retry: hint */
    int suspend;                 /* stream: suspend on the event MPM */
    int listen;                  /* stream: LISTEN for other nodes' commits */
    int tombstone_s;             /* stream: how long deletes stay resumable */
    const char *secret;          /* auth: token signing secret */
    int access;                  /* auth: PCHAT_ACCESS_* */
    int token_s;                 /* auth: token lifetime */
    int self_register;           /* auth: anonymous POST /users allowed */
    int max_login_attempts;      /* auth: before the account locks */
    int lock_s;                  /* auth: how long it stays locked */
    int password_min;            /* auth: shortest password */
    int max_where_depth;         /* limits: and/or nesting of a where */
    int max_where_terms;         /* limits: conditions in a where */
    int max_streams_per_client;  /* limits: streams per client address */
    int max_h2_streams;          /* limits: h2 streams per child, 0 auto */
    int max_per_h2_conn;         /* limits: streams per h2 connection */
    int max_h2_conns;            /* limits: h2 connections with streams per
                                    child, 0 auto */
    int max_logins_per_minute;   /* limits: login attempts per address */
    const char *reset_url;       /* auth: forgot-password link, "" off */
    pchat_db *db;                /* the store, created in post_config */
} pchat_server_conf;

extern const command_rec pchat_directives[];

void *pchat_create_server_conf(apr_pool_t *p, server_rec *s);
void *pchat_merge_server_conf(apr_pool_t *p, void *basev, void *addv);

pchat_server_conf *pchat_conf(const server_rec *s);
/* Whether the module serves this server or virtual host at all: `PayloadChat
 * On` here or inherited from the main server, or PayloadChatMount set in
 * this very context; `PayloadChat Off` wins.  Elsewhere it does nothing. */
int pchat_conf_enabled(const server_rec *s);
const char *pchat_conf_mount(const server_rec *s);
const char *pchat_conf_db_driver(const server_rec *s);
const char *pchat_conf_db_params(apr_pool_t *p, const server_rec *s);
int pchat_conf_db_max(const server_rec *s);
pchat_sync_mode pchat_conf_sqlite_sync(const server_rec *s);
apr_off_t pchat_conf_max_body(const server_rec *s);
int pchat_conf_max_limit(const server_rec *s);
int pchat_conf_poll_ms(const server_rec *s);
int pchat_conf_keepalive_s(const server_rec *s);
int pchat_conf_batch(const server_rec *s);
int pchat_conf_backlog(const server_rec *s);
int pchat_conf_max_subscribers(const server_rec *s);
int pchat_conf_retry_ms(const server_rec *s);
int pchat_conf_stream_suspend(const server_rec *s);
int pchat_conf_stream_listen(const server_rec *s);
/* Seconds a deleted message's tombstone is kept; 0: for ever. */
int pchat_conf_tombstone_s(const server_rec *s);
const char *pchat_conf_secret(const server_rec *s);
int pchat_conf_access(const server_rec *s);
int pchat_conf_token_s(const server_rec *s);
int pchat_conf_self_register(const server_rec *s);
int pchat_conf_max_login_attempts(const server_rec *s);
int pchat_conf_lock_s(const server_rec *s);
int pchat_conf_password_min(const server_rec *s);
int pchat_conf_max_where_depth(const server_rec *s);
int pchat_conf_max_where_terms(const server_rec *s);
int pchat_conf_max_streams_per_client(const server_rec *s);
/* PayloadChatStreamMaxH2; 0: derived from mod_http2's workers. */
int pchat_conf_stream_max_h2(const server_rec *s);
int pchat_conf_stream_max_per_h2_conn(const server_rec *s);
/* PayloadChatStreamMaxH2Connections; 0: derived from ThreadsPerChild. */
int pchat_conf_stream_max_h2_conns(const server_rec *s);
int pchat_conf_max_logins_per_minute(const server_rec *s);
/* PayloadChatResetURL: where forgot-password's logged link points, or
 * NULL when the link is not logged (Off, the default). */
const char *pchat_conf_reset_url(const server_rec *s);
/* Checks what only the whole configuration can tell (a secret when
 * members mode is on); returns an error text naming the directive, or
 * NULL.  Runs in check_config, so `apachectl -t` reports it. */
const char *pchat_conf_check(apr_pool_t *p, server_rec *s);
/* Makes the secret open mode signs with when none is configured (once per
 * (re)start); returns an error text or NULL. */
const char *pchat_conf_make_startup_secret(apr_pool_t *p);
/* One line for the error log at startup: where the server serves the chat,
 * its access mode, database (no password), stream driver and limits. */
const char *pchat_conf_describe(apr_pool_t *p, const server_rec *s);
/* True when the Origin may use the API from a browser. */
int pchat_conf_origin_allowed(const server_rec *s, const char *origin);

#endif
