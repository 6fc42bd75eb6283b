/* Directives of mod_payloadchat.  Every setter validates its value fully, so
 * a bad httpd.conf fails at startup with a message naming the directive. */
#include "apr_escape.h"
#include "ap_mpm.h"
#include "pchat_config.h"
#include "pchat_dialect.h"

#define DEFAULT_MOUNT "/api"
#define DEFAULT_DB_DRIVER "sqlite3"
#define DEFAULT_DB_FILE "payloadchat/payloadchat.sqlite"
#define DEFAULT_DB_MAX 16
#define DEFAULT_MAX_BODY (1024 * 1024)
#define DEFAULT_MAX_LIMIT 1000
#define DEFAULT_POLL_MS 1000
#define DEFAULT_KEEPALIVE_S 30
#define DEFAULT_BATCH 100
#define DEFAULT_BACKLOG 20
#define DEFAULT_MAX_SUBSCRIBERS 10000
#define DEFAULT_RETRY_MS 2000
#define DEFAULT_TOMBSTONE_S 604800
#define DEFAULT_TOKEN_S 7200
#define DEFAULT_MAX_LOGIN_ATTEMPTS 5
#define DEFAULT_LOCK_S 600
#define DEFAULT_MAX_WHERE_DEPTH 10
#define DEFAULT_MAX_WHERE_TERMS 200
#define DEFAULT_MAX_STREAMS_PER_CLIENT 100
#define DEFAULT_MAX_H2_STREAMS 0
#define DEFAULT_MAX_H2_CONNS 0
#define DEFAULT_MAX_PER_H2_CONN 4
#define DEFAULT_MAX_LOGINS_PER_MINUTE 60
#define DEFAULT_PASSWORD_MIN 8
/* (each default above is written once: the getter returns it, the
 * directive's help text quotes it) */
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define DEFAULT_IS(n) "(default " STRINGIFY(n) ")"

pchat_server_conf *pchat_conf(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &payloadchat_module);
}

void *pchat_create_server_conf(apr_pool_t *p, server_rec *s)
{
    pchat_server_conf *conf = apr_pcalloc(p, sizeof(*conf));

    conf->enabled = -1;
    conf->db_max = -1;
    conf->sqlite_sync = PCHAT_SYNC_UNSET;
    conf->max_body = -1;
    conf->max_limit = -1;
    conf->poll_ms = -1;
    conf->keepalive_s = -1;
    conf->batch = -1;
    conf->backlog = -1;
    conf->max_subscribers = -1;
    conf->retry_ms = -1;
    conf->suspend = -1;
    conf->listen = -1;
    conf->tombstone_s = -1;
    conf->access = -1;
    conf->token_s = -1;
    conf->self_register = -1;
    conf->max_login_attempts = -1;
    conf->lock_s = -1;
    conf->password_min = -1;
    conf->max_where_depth = -1;
    conf->max_where_terms = -1;
    conf->max_streams_per_client = -1;
    conf->max_h2_streams = -1;
    conf->max_per_h2_conn = -1;
    conf->max_h2_conns = -1;
    conf->max_logins_per_minute = -1;
    return conf;
}

#define MERGE(field, unset) \
    conf->field = (add->field != (unset)) ? add->field : base->field

void *pchat_merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    const pchat_server_conf *base = basev, *add = addv;
    pchat_server_conf *conf = apr_pcalloc(p, sizeof(*conf));

    /* a mount set in the virtual host itself switches it on; one inherited
     * from the main server does not */
    conf->enabled = add->enabled >= 0 ? add->enabled
                    : add->mount ? 1 : base->enabled;
    MERGE(mount, NULL);
    MERGE(db_driver, NULL);
    MERGE(db_params, NULL);
    MERGE(db_max, -1);
    MERGE(sqlite_sync, PCHAT_SYNC_UNSET);
    MERGE(max_body, -1);
    MERGE(max_limit, -1);
    MERGE(cors, NULL);
    MERGE(poll_ms, -1);
    MERGE(keepalive_s, -1);
    MERGE(batch, -1);
    MERGE(backlog, -1);
    MERGE(max_subscribers, -1);
    MERGE(retry_ms, -1);
    MERGE(suspend, -1);
    MERGE(listen, -1);
    MERGE(tombstone_s, -1);
    MERGE(secret, NULL);
    MERGE(access, -1);
    MERGE(token_s, -1);
    MERGE(self_register, -1);
    MERGE(max_login_attempts, -1);
    MERGE(lock_s, -1);
    MERGE(password_min, -1);
    MERGE(max_where_depth, -1);
    MERGE(max_where_terms, -1);
    MERGE(max_streams_per_client, -1);
    MERGE(max_h2_streams, -1);
    MERGE(max_per_h2_conn, -1);
    MERGE(max_h2_conns, -1);
    MERGE(max_logins_per_minute, -1);
    MERGE(reset_url, NULL);
    return conf;
}

int pchat_conf_enabled(const server_rec *s)
{
    const pchat_server_conf *conf = pchat_conf(s);

    if (conf->enabled >= 0) {
        return conf->enabled;
    }
    /* the main server's own config was never merged: its mount is its own */
    return !s->is_virtual && conf->mount != NULL;
}

const char *pchat_conf_mount(const server_rec *s)
{
    const char *mount = pchat_conf(s)->mount;
    return mount ? mount : DEFAULT_MOUNT;
}

const char *pchat_conf_db_driver(const server_rec *s)
{
    const char *driver = pchat_conf(s)->db_driver;
    return driver ? driver : DEFAULT_DB_DRIVER;
}

const char *pchat_conf_db_params(apr_pool_t *p, const server_rec *s)
{
    const char *params = pchat_conf(s)->db_params;
    return params ? params : ap_runtime_dir_relative(p, DEFAULT_DB_FILE);
}

pchat_sync_mode pchat_conf_sqlite_sync(const server_rec *s)
{
    pchat_sync_mode m = pchat_conf(s)->sqlite_sync;
    return m == PCHAT_SYNC_UNSET ? PCHAT_SYNC_FULL : m;
}

apr_off_t pchat_conf_max_body(const server_rec *s)
{
    apr_off_t n = pchat_conf(s)->max_body;
    return n >= 0 ? n : DEFAULT_MAX_BODY;
}

#define INT_GETTER(name, field, dflt) \
    int pchat_conf_##name(const server_rec *s) \
    { \
        int n = pchat_conf(s)->field; \
        return n >= 0 ? n : (dflt); \
    }

INT_GETTER(db_max, db_max, DEFAULT_DB_MAX)
INT_GETTER(max_limit, max_limit, DEFAULT_MAX_LIMIT)
INT_GETTER(poll_ms, poll_ms, DEFAULT_POLL_MS)
INT_GETTER(keepalive_s, keepalive_s, DEFAULT_KEEPALIVE_S)
INT_GETTER(batch, batch, DEFAULT_BATCH)
INT_GETTER(backlog, backlog, DEFAULT_BACKLOG)
INT_GETTER(max_subscribers, max_subscribers, DEFAULT_MAX_SUBSCRIBERS)
INT_GETTER(retry_ms, retry_ms, DEFAULT_RETRY_MS)
INT_GETTER(stream_suspend, suspend, 1)
INT_GETTER(stream_listen, listen, 1)
INT_GETTER(tombstone_s, tombstone_s, DEFAULT_TOMBSTONE_S)
INT_GETTER(access, access, PCHAT_ACCESS_OPEN)
INT_GETTER(token_s, token_s, DEFAULT_TOKEN_S)
INT_GETTER(self_register, self_register, 1)
INT_GETTER(max_login_attempts, max_login_attempts, DEFAULT_MAX_LOGIN_ATTEMPTS)
INT_GETTER(lock_s, lock_s, DEFAULT_LOCK_S)
INT_GETTER(max_where_depth, max_where_depth, DEFAULT_MAX_WHERE_DEPTH)
INT_GETTER(max_where_terms, max_where_terms, DEFAULT_MAX_WHERE_TERMS)
INT_GETTER(max_streams_per_client, max_streams_per_client,
           DEFAULT_MAX_STREAMS_PER_CLIENT)
INT_GETTER(stream_max_h2, max_h2_streams, DEFAULT_MAX_H2_STREAMS)
INT_GETTER(stream_max_per_h2_conn, max_per_h2_conn, DEFAULT_MAX_PER_H2_CONN)
INT_GETTER(stream_max_h2_conns, max_h2_conns, DEFAULT_MAX_H2_CONNS)
INT_GETTER(max_logins_per_minute, max_logins_per_minute,
           DEFAULT_MAX_LOGINS_PER_MINUTE)
INT_GETTER(password_min, password_min, DEFAULT_PASSWORD_MIN)

const char *pchat_conf_reset_url(const server_rec *s)
{
    const char *url = pchat_conf(s)->reset_url;
    return url && *url ? url : NULL;
}

#define MIN_SECRET 32

/* Without a configured secret, open mode signs with one made at startup:
 * tokens then last until the next restart. */
static const char *startup_secret;

const char *pchat_conf_secret(const server_rec *s)
{
    const char *secret = pchat_conf(s)->secret;
    return secret ? secret : startup_secret;
}

const char *pchat_conf_check(apr_pool_t *p, server_rec *s)
{
    server_rec *vs;

    for (vs = s; vs; vs = vs->next) {
        if (pchat_conf_enabled(vs)
            && pchat_conf_access(vs) == PCHAT_ACCESS_MEMBERS
            && !pchat_conf(vs)->secret) {
            return apr_psprintf(p, "PayloadChatAccess: members needs "
                                "PayloadChatSecret (at least 32 characters)"
                                " in %s:%d", vs->defn_name ? vs->defn_name
                                : "the main server", vs->defn_line_number);
        }
    }
    return NULL;
}

const char *pchat_conf_make_startup_secret(apr_pool_t *p)
{
    unsigned char random[32];

    /* p is pconf: made again at each (re)start, like the secret */
    if (apr_generate_random_bytes(random, sizeof(random)) != APR_SUCCESS) {
        return "cannot read random bytes for the token secret";
    }
    startup_secret = apr_pescape_hex(p, random, sizeof(random), 0);
    return NULL;
}

/* A libpq conninfo word that is safe to log: only these keys (a password
 * in any spelling, `password = x` or a quoted value among them, is not). */
static int loggable_conninfo_word(const char *word)
{
    static const char *const keys[] = {"host=", "hostaddr=", "port=",
                                       "dbname=", "user=", "sslmode="};
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (!strncasecmp(word, keys[i], strlen(keys[i]))) {
            return 1;
        }
    }
    return 0;
}

/* The database parameters fit for a log line: a sqlite path as it is, a
 * pgsql conninfo with its safe keys only, a pgsql URI without its user
 * information (user:password@). */
static const char *loggable_db_params(apr_pool_t *p, const server_rec *s)
{
    const char *params = pchat_conf_db_params(p, s);
    const char *scheme_end, *at;
    apr_array_header_t *kept;
    char *copy, *word, *state;

    if (!pchat_dialect_find(pchat_conf_db_driver(s))->libpq) {
        return params;
    }
    if ((scheme_end = strstr(params, "://"))) {
        at = strchr(scheme_end, '@');
        return at ? apr_pstrcat(p, apr_pstrndup(p, params, scheme_end + 3
                                                - params), at + 1, NULL)
                  : params;
    }
    kept = apr_array_make(p, 8, sizeof(const char *));
    copy = apr_pstrdup(p, params);
    for (word = apr_strtok(copy, " \t", &state); word;
         word = apr_strtok(NULL, " \t", &state)) {
        if (loggable_conninfo_word(word)) {
            APR_ARRAY_PUSH(kept, const char *) = kept->nelts ? " " : "";
            APR_ARRAY_PUSH(kept, const char *) = word;
        }
    }
    return apr_array_pstrcat(p, kept, 0);
}

const char *pchat_conf_describe(apr_pool_t *p, const server_rec *s)
{
    int async = 0;

    ap_mpm_query(AP_MPMQ_IS_ASYNC, &async);
    return apr_psprintf(
        p, "%s%s serves the chat at %s: access %s, database %s %s, "
        "streams %s, body <= %" APR_OFF_T_FMT " bytes, limit <= %d, "
        "streams <= %d per node and %d per address, logins per address: %s",
        s->server_hostname ? s->server_hostname : "*",
        s->port ? apr_psprintf(p, ":%u", (unsigned)s->port) : "",
        pchat_conf_mount(s),
        pchat_conf_access(s) == PCHAT_ACCESS_MEMBERS ? "members" : "open",
        pchat_conf_db_driver(s), loggable_db_params(p, s),
        pchat_conf_stream_suspend(s) && async
            ? "suspended (no thread per stream)"
            : "blocking (a thread per stream)",
        pchat_conf_max_body(s), pchat_conf_max_limit(s),
        pchat_conf_max_subscribers(s), pchat_conf_max_streams_per_client(s),
        pchat_conf_max_logins_per_minute(s)
            ? apr_psprintf(p, "%d/min", pchat_conf_max_logins_per_minute(s))
            : "no limit");
}

int pchat_conf_origin_allowed(const server_rec *s, const char *origin)
{
    const apr_array_header_t *list = pchat_conf(s)->cors;
    int i;

    if (!list || !origin) {
        return 0;
    }
    for (i = 0; i < list->nelts; i++) {
        const char *allowed = APR_ARRAY_IDX(list, i, const char *);
        if (!strcmp(allowed, "*") || !strcasecmp(allowed, origin)) {
            return 1;
        }
    }
    return 0;
}

/* ---- setters ---------------------------------------------------------- */

static pchat_server_conf *cmd_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config,
                                &payloadchat_module);
}

/* Parses a whole decimal number in [min, max] or explains why not. */
static const char *parse_number(cmd_parms *cmd, const char *arg,
                                apr_int64_t min, apr_int64_t max,
                                apr_int64_t *out)
{
    char *end;
    apr_int64_t n;

    errno = 0;
    n = apr_strtoi64(arg, &end, 10);
    if (!*arg || *end || errno || n < min || n > max) {
        return apr_psprintf(cmd->pool,
                            "%s: must be a whole number between %"
                            APR_INT64_T_FMT " and %" APR_INT64_T_FMT
                            ", got '%s'", cmd->cmd->name, min, max, arg);
    }
    *out = n;
    return NULL;
}

/* A whole-number directive: where it is stored and its allowed range. */
typedef struct {
    size_t offset;
    int min;
    int max;
} int_slot;

static const char *set_int(cmd_parms *cmd, void *dconf, const char *arg)
{
    const int_slot *slot = cmd->info;
    apr_int64_t n;
    const char *err = parse_number(cmd, arg, slot->min, slot->max, &n);

    if (!err) {
        *(int *)((char *)cmd_conf(cmd) + slot->offset) = (int)n;
    }
    return err;
}

#define SLOT(field, min, max) \
    (&(int_slot){APR_OFFSETOF(pchat_server_conf, field), min, max})

static const char *set_stream_mode(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    if (!strcasecmp(arg, "auto")) {
        cmd_conf(cmd)->suspend = 1;
    }
    else if (!strcasecmp(arg, "blocking")) {
        cmd_conf(cmd)->suspend = 0;
    }
    else {
        return apr_psprintf(cmd->pool, "%s: must be auto or blocking, got "
                            "'%s'", cmd->cmd->name, arg);
    }
    return NULL;
}

static const char *set_secret(cmd_parms *cmd, void *dconf, const char *arg)
{
    if (strlen(arg) < MIN_SECRET) {
        return apr_psprintf(cmd->pool, "%s: must be at least %d characters "
                            "(got %d)", cmd->cmd->name, MIN_SECRET,
                            (int)strlen(arg));
    }
    cmd_conf(cmd)->secret = arg;
    return NULL;
}

static const char *set_reset_url(cmd_parms *cmd, void *dconf,
                                 const char *arg)
{
    cmd_conf(cmd)->reset_url = strcasecmp(arg, "Off") ? arg : "";
    return NULL;
}

static const char *set_access(cmd_parms *cmd, void *dconf, const char *arg)
{
    if (!strcasecmp(arg, "open")) {
        cmd_conf(cmd)->access = PCHAT_ACCESS_OPEN;
    }
    else if (!strcasecmp(arg, "members")) {
        cmd_conf(cmd)->access = PCHAT_ACCESS_MEMBERS;
    }
    else {
        return apr_psprintf(cmd->pool, "%s: must be open or members, got "
                            "'%s'", cmd->cmd->name, arg);
    }
    return NULL;
}

/* On/Off into the int field cmd->info's slot names. */
static const char *set_flag(cmd_parms *cmd, void *dconf, int on)
{
    const int_slot *slot = cmd->info;

    *(int *)((char *)cmd_conf(cmd) + slot->offset) = on;
    return NULL;
}

static const char *set_mount(cmd_parms *cmd, void *dconf, const char *arg)
{
    size_t len = strlen(arg);

    if (arg[0] != '/' || len < 2 || arg[len - 1] == '/'
        || strpbrk(arg, "?#%* \t")) {
        return apr_psprintf(cmd->pool,
                            "%s: must be a URL path such as /api (starting "
                            "with '/', no trailing '/'), got '%s'",
                            cmd->cmd->name, arg);
    }
    cmd_conf(cmd)->mount = arg;
    return NULL;
}

static const char *set_database(cmd_parms *cmd, void *dconf,
                                const char *driver, const char *params)
{
    pchat_server_conf *conf = cmd_conf(cmd);
    const pchat_dialect *d = pchat_dialect_find(driver);

    if (!d) {
        return apr_psprintf(cmd->pool,
                            "%s: driver must be 'sqlite3' or 'pgsql', got '%s'",
                            cmd->cmd->name, driver);
    }
    if (!params || !*params) {
        return apr_psprintf(cmd->pool, "%s: missing connection parameters "
                            "(sqlite3: a file path)", cmd->cmd->name);
    }
    if (d->local_file) {
        params = ap_server_root_relative(cmd->pool, params);
        if (!params) {
            return apr_psprintf(cmd->pool, "%s: invalid file path",
                                cmd->cmd->name);
        }
    }
    conf->db_driver = driver;
    conf->db_params = params;
    return NULL;
}

static const char *set_sqlite_sync(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    pchat_server_conf *conf = cmd_conf(cmd);

    if (!strcasecmp(arg, "FULL")) {
        conf->sqlite_sync = PCHAT_SYNC_FULL;
    }
    else if (!strcasecmp(arg, "NORMAL")) {
        conf->sqlite_sync = PCHAT_SYNC_NORMAL;
    }
    else if (!strcasecmp(arg, "OFF")) {
        conf->sqlite_sync = PCHAT_SYNC_OFF;
    }
    else {
        return apr_psprintf(cmd->pool, "%s: must be FULL, NORMAL or OFF, "
                            "got '%s'", cmd->cmd->name, arg);
    }
    return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *dconf, const char *arg)
{
    apr_int64_t n;
    const char *err = parse_number(cmd, arg, 64, APR_INT64_C(1) << 30, &n);

    if (!err) {
        cmd_conf(cmd)->max_body = (apr_off_t)n;
    }
    return err;
}

static const char *add_cors_origin(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    pchat_server_conf *conf = cmd_conf(cmd);

    if (strcmp(arg, "*") && !ap_strcasestr(arg, "://")) {
        return apr_psprintf(cmd->pool, "%s: each origin must be '*' or "
                            "scheme://host[:port], got '%s'",
                            cmd->cmd->name, arg);
    }
    if (arg[strlen(arg) - 1] == '/') {
        return apr_psprintf(cmd->pool, "%s: an origin has no path or "
                            "trailing '/', got '%s'", cmd->cmd->name, arg);
    }
    if (!conf->cors) {
        conf->cors = apr_array_make(cmd->pool, 4, sizeof(const char *));
    }
    APR_ARRAY_PUSH(conf->cors, const char *) = arg;
    return NULL;
}

const command_rec pchat_directives[] = {
    AP_INIT_FLAG("PayloadChat", set_flag, SLOT(enabled, 0, 1), RSRC_CONF,
                 "On: serve the chat API on this server or virtual host "
                 "(inherited by virtual hosts); Off: not here"),
    AP_INIT_TAKE1("PayloadChatMount", set_mount, NULL, RSRC_CONF,
                  "URL path where the API is mounted (default /api)"),
    AP_INIT_TAKE2("PayloadChatDatabase", set_database, NULL, RSRC_CONF,
                  "DBD driver (sqlite3 or pgsql) and its parameters"),
    AP_INIT_TAKE1("PayloadChatDBMaxConnections", set_int,
                  SLOT(db_max, 1, 1024), RSRC_CONF,
                  "Database connections per child process "
                  DEFAULT_IS(DEFAULT_DB_MAX)),
    AP_INIT_TAKE1("PayloadChatSQLiteSync", set_sqlite_sync, NULL, RSRC_CONF,
                  "sqlite durability: FULL (default), NORMAL or OFF"),
    AP_INIT_TAKE1("PayloadChatMaxBodySize", set_max_body, NULL, RSRC_CONF,
                  "Largest accepted request body in bytes (default 1 MiB)"),
    AP_INIT_TAKE1("PayloadChatMaxLimit", set_int, SLOT(max_limit, 1, 1000000),
                  RSRC_CONF,
                  "Largest page size a client may ask for "
                  DEFAULT_IS(DEFAULT_MAX_LIMIT)),
    AP_INIT_TAKE1("PayloadChatStreamPollInterval", set_int,
                  SLOT(poll_ms, 50, 60000), RSRC_CONF,
                  "Milliseconds between database polls for changes made by "
                  "other nodes " DEFAULT_IS(DEFAULT_POLL_MS)),
    AP_INIT_TAKE1("PayloadChatStreamKeepAlive", set_int,
                  SLOT(keepalive_s, 1, 3600), RSRC_CONF,
                  "Seconds between keep-alive frames "
                  DEFAULT_IS(DEFAULT_KEEPALIVE_S)),
    AP_INIT_TAKE1("PayloadChatStreamBatch", set_int, SLOT(batch, 1, 1000),
                  RSRC_CONF, "Most messages in one frame "
                  DEFAULT_IS(DEFAULT_BATCH)),
    AP_INIT_TAKE1("PayloadChatStreamBacklog", set_int, SLOT(backlog, 0, 1000),
                  RSRC_CONF, "Messages replayed to a subscriber that starts "
                  "without a cursor " DEFAULT_IS(DEFAULT_BACKLOG)),
    AP_INIT_TAKE1("PayloadChatTombstoneRetention", set_int,
                  SLOT(tombstone_s, 0, 10 * 366 * 24 * 3600), RSRC_CONF,
                  "Seconds a deleted message is kept so that resuming "
                  "streams learn of the delete; 0 keeps it for ever "
                  "(default " STRINGIFY(DEFAULT_TOMBSTONE_S) ", a week)"),
    AP_INIT_TAKE1("PayloadChatStreamMaxSubscribers", set_int,
                  SLOT(max_subscribers, 1, 1000000), RSRC_CONF,
                  "Most concurrent stream subscribers on this node "
                  DEFAULT_IS(DEFAULT_MAX_SUBSCRIBERS)),
    AP_INIT_TAKE1("PayloadChatStreamMode", set_stream_mode, NULL, RSRC_CONF,
                  "auto (suspend streams on the event MPM, no thread held) "
                  "or blocking (a thread per stream)"),
    AP_INIT_FLAG("PayloadChatStreamListen", set_flag, SLOT(listen, 0, 1),
                 RSRC_CONF, "Whether streams hear other nodes' writes at "
                 "once through PostgreSQL's LISTEN/NOTIFY (default On)"),
    AP_INIT_TAKE1("PayloadChatSecret", set_secret, NULL, RSRC_CONF,
                  "Secret that signs login tokens (32+ characters; Payload's "
                  "PAYLOAD_SECRET to share tokens with a Payload app)"),
    AP_INIT_TAKE1("PayloadChatAccess", set_access, NULL, RSRC_CONF,
                  "open (anyone may do anything, as the original app) or "
                  "members (logged-in users see their own conversations)"),
    AP_INIT_TAKE1("PayloadChatTokenExpiration", set_int,
                  SLOT(token_s, 60, 31536000), RSRC_CONF,
                  "Seconds a login token is valid "
                  DEFAULT_IS(DEFAULT_TOKEN_S)),
    AP_INIT_FLAG("PayloadChatSelfRegistration", set_flag,
                 SLOT(self_register, 0, 1),
                 RSRC_CONF, "Whether anyone may sign up with POST /users "
                 "(default On)"),
    AP_INIT_TAKE1("PayloadChatMaxLoginAttempts", set_int,
                  SLOT(max_login_attempts, 0, 1000), RSRC_CONF,
                  "Failed logins before the account locks; 0 never locks "
                  DEFAULT_IS(DEFAULT_MAX_LOGIN_ATTEMPTS)),
    AP_INIT_TAKE1("PayloadChatLockTime", set_int, SLOT(lock_s, 1, 31536000),
                  RSRC_CONF, "Seconds a locked account stays locked "
                  DEFAULT_IS(DEFAULT_LOCK_S)),
    AP_INIT_TAKE1("PayloadChatPasswordMinLength", set_int,
                  SLOT(password_min, 1, 1024), RSRC_CONF,
                  "Shortest accepted password "
                  DEFAULT_IS(DEFAULT_PASSWORD_MIN)),
    AP_INIT_TAKE1("PayloadChatStreamRetry", set_int,
                  SLOT(retry_ms, 100, 600000), RSRC_CONF,
                  "Reconnect delay hint sent to clients, ms "
                  DEFAULT_IS(DEFAULT_RETRY_MS)),
    AP_INIT_TAKE1("PayloadChatMaxWhereDepth", set_int,
                  SLOT(max_where_depth, 1, 10), RSRC_CONF,
                  "Deepest and/or nesting of a where query "
                  DEFAULT_IS(DEFAULT_MAX_WHERE_DEPTH)),
    AP_INIT_TAKE1("PayloadChatMaxWhereTerms", set_int,
                  SLOT(max_where_terms, 1, 200), RSRC_CONF,
                  "Most conditions in a where query "
                  DEFAULT_IS(DEFAULT_MAX_WHERE_TERMS)),
    AP_INIT_TAKE1("PayloadChatStreamMaxPerClient", set_int,
                  SLOT(max_streams_per_client, 1, 1000000), RSRC_CONF,
                  "Most concurrent streams from one client address on this "
                  "node " DEFAULT_IS(DEFAULT_MAX_STREAMS_PER_CLIENT)),
    AP_INIT_TAKE1("PayloadChatStreamMaxH2", set_int,
                  SLOT(max_h2_streams, 0, 1000000), RSRC_CONF,
                  "Most HTTP/2 streams one child process serves, each "
                  "holding an h2 worker; 0 for half of mod_http2's workers "
                  DEFAULT_IS(DEFAULT_MAX_H2_STREAMS)),
    AP_INIT_TAKE1("PayloadChatStreamMaxPerH2Connection", set_int,
                  SLOT(max_per_h2_conn, 1, 1000000), RSRC_CONF,
                  "Most streams on one HTTP/2 connection, which mod_http2 "
                  "serves only a few requests of at a time "
                  DEFAULT_IS(DEFAULT_MAX_PER_H2_CONN)),
    AP_INIT_TAKE1("PayloadChatStreamMaxH2Connections", set_int,
                  SLOT(max_h2_conns, 0, 1000000), RSRC_CONF,
                  "Most HTTP/2 connections with streams open in one child "
                  "process, each holding an MPM worker thread; 0 for half "
                  "of ThreadsPerChild "
                  DEFAULT_IS(DEFAULT_MAX_H2_CONNS)),
    AP_INIT_TAKE1("PayloadChatMaxLoginsPerMinute", set_int,
                  SLOT(max_logins_per_minute, 0, 1000000), RSRC_CONF,
                  "Login attempts one client address may make per minute on "
                  "this node; 0 for no limit "
                  DEFAULT_IS(DEFAULT_MAX_LOGINS_PER_MINUTE)),
    AP_INIT_TAKE1("PayloadChatResetURL", set_reset_url, NULL, RSRC_CONF,
                  "Page of the password reset link that forgot-password "
                  "writes to the error log (notice) as URL?token=...; Off "
                  "(the default) writes none"),
    AP_INIT_ITERATE("PayloadChatCORSOrigins", add_cors_origin, NULL,
                    RSRC_CONF, "Origins allowed to call the API from a "
                    "browser, or *"),
    {NULL}
};
