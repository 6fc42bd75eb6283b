/* Presence: rows per (user, child process), a heartbeat, and the sweep of
 * the rows of dead children and nodes.  See pchat_presence.h. */
#include <unistd.h>
#include "apr_strings.h"
#include "apr_hash.h"
#include "apr_lib.h"
#include "pchat_presence.h"
#include "pchat_chat.h"
#include "pchat_config.h"
#include "pchat_signals.h"
#include "pchat_time.h"

#define MAX_ASKED 500         /* ids in ?users= */
#define MAX_LISTED 1000       /* users online, without ?users= */
#define SWEEP_BATCH 100       /* dead users ended per sweep */
#define PURGE_EVERY apr_time_from_sec(30)

typedef struct {
    apr_int64_t id;
    int streams;              /* open in this child */
} user_entry;

struct pchat_presence {
    server_rec *s;
    const char *node;         /* this child process, across nodes */
    apr_thread_mutex_t *mu;   /* guards users */
    /* One user's online/offline turn at a time, database work included:
     * a page reload closes a stream and opens one in the same child, and
     * the close's DELETE must not land after the open's row. */
    apr_thread_mutex_t *turn;
    apr_hash_t *users;        /* id -> malloc'd user_entry */
    apr_time_t next_beat;     /* the hub's thread only */
    apr_time_t next_purge;
    volatile int exiting;     /* no database work in cleanups then */
};

typedef struct {
    pchat_presence *pr;
    apr_int64_t user;
} stream_of;

static apr_status_t child_exiting(void *data)
{
    ((pchat_presence *)data)->exiting = 1;
    return APR_SUCCESS;
}

pchat_presence *pchat_presence_make(apr_pool_t *p, server_rec *s)
{
    pchat_presence *pr = apr_pcalloc(p, sizeof(*pr));
    char host[128] = "";
    unsigned char nonce[4];

    gethostname(host, sizeof(host) - 1);
    apr_generate_random_bytes(nonce, sizeof(nonce));
    pr->s = s;
    pr->node = apr_psprintf(p, "%s/%ld/%02x%02x%02x%02x", host,
                            (long)getpid(), nonce[0], nonce[1], nonce[2],
                            nonce[3]);
    apr_thread_mutex_create(&pr->mu, APR_THREAD_MUTEX_DEFAULT, p);
    apr_thread_mutex_create(&pr->turn, APR_THREAD_MUTEX_DEFAULT, p);
    pr->users = apr_hash_make(p);
    apr_pool_cleanup_register(p, pr, child_exiting, apr_pool_cleanup_null);
    return pr;
}

static apr_int64_t live_since(void)
{
    return pchat_now_ms() - PCHAT_PRESENCE_TTL_S * 1000;
}

/* Writes (or renews) the row of user in this child. */
static int upsert_row(pchat_presence *pr, pchat_conn *c, apr_pool_t *p,
                      apr_int64_t user)
{
    pchat_sql *sql = pchat_sql_make(p, "INSERT INTO presence (user_id, node,"
                                       " beat_at) VALUES (");
    int nrows;

    pchat_sql_int(sql, user);
    pchat_sql_add(sql, ", ");
    pchat_sql_str(sql, pr->node);
    pchat_sql_add(sql, ", ");
    pchat_sql_int(sql, pchat_now_ms());
    pchat_sql_add(sql, ") ON CONFLICT (user_id, node) DO UPDATE SET "
                       "beat_at = excluded.beat_at");
    return pchat_db_exec(c, p, sql, &nrows);
}

/* Live rows of user in other children than node (NULL: in any). */
static apr_int64_t live_rows(pchat_conn *c, apr_pool_t *p, apr_int64_t user,
                             const char *node, int *rv)
{
    pchat_sql *sql = pchat_sql_make(p, "SELECT COUNT(*) FROM presence "
                                       "WHERE user_id = ");

    pchat_sql_int(sql, user);
    pchat_sql_add(sql, " AND beat_at >= ");
    pchat_sql_int(sql, live_since());
    if (node) {
        pchat_sql_add(sql, " AND node <> ");
        pchat_sql_str(sql, node);
    }
    return pchat_chat_number(c, p, sql, rv);
}

static apr_int64_t last_seen(pchat_conn *c, apr_pool_t *p, apr_int64_t user,
                             int *rv)
{
    pchat_sql *sql = pchat_sql_make(p, "SELECT last_seen FROM presence_seen "
                                       "WHERE user_id = ");

    pchat_sql_int(sql, user);
    return pchat_chat_number(c, p, sql, rv);
}

static int mark_seen(pchat_conn *c, apr_pool_t *p, apr_int64_t user,
                     apr_int64_t at)
{
    pchat_sql *sql = pchat_sql_make(p, "INSERT INTO presence_seen (user_id, "
                                       "last_seen) VALUES (");
    int nrows;

    pchat_sql_int(sql, user);
    pchat_sql_add(sql, ", ");
    pchat_sql_int(sql, at);
    pchat_sql_add(sql, ") ON CONFLICT (user_id) DO UPDATE SET last_seen = "
                       "excluded.last_seen WHERE presence_seen.last_seen < "
                       "excluded.last_seen");
    return pchat_db_exec(c, p, sql, &nrows);
}

static void announce(pchat_presence *pr, pchat_conn *c, apr_pool_t *p,
                     apr_int64_t user, int online, apr_int64_t seen)
{
    static const apr_int64_t everyone = 0;
    json_t *data = pchat_json_own(p, json_pack(
        "{s:I,s:b,s:o}", "user", (json_int_t)user, "online", online,
        "lastSeen", seen ? pchat_chat_date_ms(seen) : json_null()));

    if (pchat_signal_send(c, p, PCHAT_SIGNAL_PRESENCE, user, &everyone, 1,
                          data)) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, pr->s, PCHAT_LOGNO(02101)
                     "cannot announce user %" APR_INT64_T_FMT " %s", user,
                     online ? "online" : "offline");
    }
}

/* Whether user has a stream in this child now. */
static int streams_here(pchat_presence *pr, apr_int64_t user)
{
    int here;

    apr_thread_mutex_lock(pr->mu);
    here = apr_hash_get(pr->users, &user, sizeof(user)) != NULL;
    apr_thread_mutex_unlock(pr->mu);
    return here;
}

static void went_online(pchat_presence *pr, apr_pool_t *p, apr_int64_t user)
{
    pchat_conn *c;
    int rv = 1;
    apr_int64_t seen;

    apr_thread_mutex_lock(pr->turn);
    if (!(c = pchat_conn_acquire_server(pr->s))) {
        apr_thread_mutex_unlock(pr->turn);
        return;   /* the heartbeat writes the row */
    }
    if (!upsert_row(pr, c, p, user) && !live_rows(c, p, user, pr->node, &rv)
        && !rv) {
        seen = last_seen(c, p, user, &rv);
        announce(pr, c, p, user, 1, rv ? 0 : seen);
    }
    pchat_conn_release(c);
    apr_thread_mutex_unlock(pr->turn);
}

static void went_offline(pchat_presence *pr, apr_int64_t user)
{
    apr_pool_t *p;
    pchat_conn *c;
    pchat_sql *sql;
    apr_int64_t now = pchat_now_ms();
    int nrows, rv = 1;

    apr_thread_mutex_lock(pr->turn);
    if (streams_here(pr, user)   /* back already (a reload) */
        || !(c = pchat_conn_acquire_server(pr->s))) {
        apr_thread_mutex_unlock(pr->turn);
        return;   /* (no connection: the row expires and is swept) */
    }
    apr_pool_create(&p, NULL);
    apr_pool_tag(p, "pchat_presence");
    sql = pchat_sql_make(p, "DELETE FROM presence WHERE user_id = ");
    pchat_sql_int(sql, user);
    pchat_sql_add(sql, " AND node = ");
    pchat_sql_str(sql, pr->node);
    if (!pchat_db_exec(c, p, sql, &nrows) && !mark_seen(c, p, user, now)
        && !live_rows(c, p, user, NULL, &rv) && !rv) {
        announce(pr, c, p, user, 0, now);
    }
    pchat_conn_release(c);
    apr_pool_destroy(p);
    apr_thread_mutex_unlock(pr->turn);
}

static apr_status_t stream_left(void *data)
{
    stream_of *so = data;
    pchat_presence *pr = so->pr;
    user_entry *e;
    int last = 0;

    apr_thread_mutex_lock(pr->mu);
    e = apr_hash_get(pr->users, &so->user, sizeof(so->user));
    if (e && --e->streams == 0) {
        apr_hash_set(pr->users, &e->id, sizeof(e->id), NULL);
        free(e);
        last = 1;
    }
    apr_thread_mutex_unlock(pr->mu);
    if (last && !pr->exiting) {
        went_offline(pr, so->user);
    }
    return APR_SUCCESS;
}

void pchat_presence_join(pchat_presence *pr, request_rec *r,
                         apr_int64_t user)
{
    stream_of *so = apr_palloc(r->pool, sizeof(*so));
    user_entry *e;
    int first = 0;

    apr_thread_mutex_lock(pr->mu);
    e = apr_hash_get(pr->users, &user, sizeof(user));
    if (!e && (e = calloc(1, sizeof(*e)))) {
        e->id = user;
        apr_hash_set(pr->users, &e->id, sizeof(e->id), e);
    }
    if (e) {
        first = e->streams++ == 0;
    }
    apr_thread_mutex_unlock(pr->mu);
    if (!e) {
        return;
    }
    so->pr = pr;
    so->user = user;
    apr_pool_cleanup_register(r->pool, so, stream_left,
                              apr_pool_cleanup_null);
    if (first) {
        went_online(pr, r->pool, user);
    }
}

/* The users with streams in this child now. */
static apr_array_header_t *local_users(pchat_presence *pr, apr_pool_t *p)
{
    apr_array_header_t *ids = apr_array_make(p, 16, sizeof(apr_int64_t));
    apr_hash_index_t *hi;

    apr_thread_mutex_lock(pr->mu);
    for (hi = apr_hash_first(p, pr->users); hi; hi = apr_hash_next(hi)) {
        user_entry *e = apr_hash_this_val(hi);
        APR_ARRAY_PUSH(ids, apr_int64_t) = e->id;
    }
    apr_thread_mutex_unlock(pr->mu);
    return ids;
}

/* Renews this child's rows; writes them again if a sweep took some (the
 * child was too slow to beat in time). */
static void heartbeat(pchat_presence *pr, pchat_conn *c, apr_pool_t *p,
                      apr_array_header_t *ids)
{
    pchat_sql *sql = pchat_sql_make(p, "UPDATE presence SET beat_at = ");
    int nrows = 0, i;

    pchat_sql_int(sql, pchat_now_ms());
    pchat_sql_add(sql, " WHERE node = ");
    pchat_sql_str(sql, pr->node);
    if (pchat_db_exec(c, p, sql, &nrows) || nrows >= ids->nelts) {
        return;
    }
    for (i = 0; i < ids->nelts; i++) {
        upsert_row(pr, c, p, APR_ARRAY_IDX(ids, i, apr_int64_t));
    }
}

/* Ends the rows that missed their heartbeats (a dead child or node): the
 * one that deletes a row announces its user offline if no live row is
 * left. */
static void sweep(pchat_presence *pr, pchat_conn *c, apr_pool_t *p)
{
    apr_int64_t since = live_since();
    pchat_sql *sql = pchat_sql_make(p, "SELECT user_id, MAX(beat_at) FROM "
                                       "presence WHERE beat_at < ");
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *dead = apr_array_make(p, 4, 2 * sizeof(apr_int64_t));
    int i, nrows, rv;

    pchat_sql_int(sql, since);
    pchat_sql_add(sql, " GROUP BY user_id LIMIT ");
    pchat_sql_int(sql, SWEEP_BATCH);
    if (pchat_db_select(c, p, sql, &res)) {
        return;
    }
    while (pchat_db_next_row(c, p, res, &row)) {
        apr_int64_t *d = apr_array_push(dead);
        d[0] = apr_atoi64(pchat_db_entry(c, row, 0));
        d[1] = apr_atoi64(pchat_db_entry(c, row, 1));
    }
    for (i = 0; i < dead->nelts; i++) {
        apr_int64_t *d = (apr_int64_t *)dead->elts + 2 * i;
        sql = pchat_sql_make(p, "DELETE FROM presence WHERE user_id = ");
        pchat_sql_int(sql, d[0]);
        pchat_sql_add(sql, " AND beat_at < ");
        pchat_sql_int(sql, since);
        if (!pchat_db_exec(c, p, sql, &nrows) && nrows > 0
            && !mark_seen(c, p, d[0], d[1])
            && !live_rows(c, p, d[0], NULL, &rv) && !rv) {
            announce(pr, c, p, d[0], 0, d[1]);
        }
    }
}

void pchat_presence_tick(pchat_presence *pr, apr_pool_t *p, int has_streams)
{
    apr_time_t now = apr_time_now();
    apr_array_header_t *ids;
    pchat_conn *c;

    if (now < pr->next_beat) {
        return;
    }
    pr->next_beat = now + apr_time_from_sec(PCHAT_PRESENCE_BEAT_S);
    ids = local_users(pr, p);
    if (!ids->nelts && !has_streams) {
        return;
    }
    if (!(c = pchat_conn_acquire_server(pr->s))) {
        return;
    }
    if (ids->nelts) {
        heartbeat(pr, c, p, ids);
    }
    if (has_streams) {
        sweep(pr, c, p);
        if (now >= pr->next_purge) {
            pr->next_purge = now + PURGE_EVERY;
            pchat_signals_purge(c, p);
        }
    }
    pchat_conn_release(c);
}

/* ---- GET /api/presence ------------------------------------------------- */

/* "u.id IN (1, 2, 3)" from ?users=1,2,3, or the users online now. */
static pchat_error *asked_users(pchat_req *q, pchat_sql **cond)
{
    apr_pool_t *p = q->r->pool;
    json_t *v = json_object_get(q->qs, "users");
    const char *text = json_string_value(v);
    char *list, *tok, *state = NULL;
    int n = 0;

    if (!v) {
        *cond = pchat_sql_make(p, "u.id IN (SELECT user_id FROM presence "
                                  "WHERE beat_at >= ");
        pchat_sql_int(*cond, live_since());
        pchat_sql_add(*cond, ")");
        return NULL;
    }
    if (!text) {
        return pchat_chat_invalid(p, "presence", "users", "users must be a "
                                  "comma-separated list of user ids.");
    }
    *cond = pchat_sql_make(p, "u.id IN (");
    list = apr_pstrdup(p, text);
    for (tok = apr_strtok(list, ",", &state); tok;
         tok = apr_strtok(NULL, ",", &state)) {
        char *end;
        apr_int64_t id = apr_strtoi64(tok, &end, 10);
        if (!*tok || *end || id <= 0 || !apr_isdigit(*tok)
            || ++n > MAX_ASKED) {
            return pchat_chat_invalid(p, "presence", "users", apr_psprintf(
                p, "users must be a comma-separated list of at most %d "
                "user ids.", MAX_ASKED));
        }
        pchat_sql_add(*cond, n > 1 ? ", " : "");
        pchat_sql_int(*cond, id);
    }
    if (!n) {
        return pchat_chat_invalid(p, "presence", "users", "users must name "
                                  "at least one user id.");
    }
    pchat_sql_add(*cond, ")");
    return NULL;
}

static json_t *presence_doc(pchat_conn *c, apr_dbd_row_t *row)
{
    const char *seen = pchat_chat_entry(c, row, 2);
    const char *dead = pchat_chat_entry(c, row, 3);
    const char *last = seen;

    if (dead && (!seen || apr_atoi64(dead) > apr_atoi64(seen))) {
        last = dead;   /* a dead node's last heartbeat */
    }
    return json_pack("{s:I,s:b,s:o}", "user",
                     (json_int_t)apr_atoi64(pchat_db_entry(c, row, 0)),
                     "online", apr_atoi64(pchat_db_entry(c, row, 1)) > 0,
                     "lastSeen", pchat_chat_date(last));
}

int pchat_presence_handler(pchat_req *q)
{
    apr_pool_t *p = q->r->pool;
    apr_int64_t since = live_since();
    pchat_sql *cond = NULL, *sql;
    pchat_error *err;
    pchat_conn *c;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    json_t *docs = pchat_json_own(p, json_array());
    int rv;

    if (pchat_conf_access(q->r->server) == PCHAT_ACCESS_MEMBERS
        && pchat_chat_need_login(q) == OK) {
        return OK;
    }
    if ((err = asked_users(q, &cond))) {
        return pchat_send_error(q->r, err);
    }
    sql = pchat_sql_make(p, "SELECT u.id, (SELECT COUNT(*) FROM presence l "
                            "WHERE l.user_id = u.id AND l.beat_at >= ");
    pchat_sql_int(sql, since);
    pchat_sql_add(sql, "), (SELECT last_seen FROM presence_seen s WHERE "
                       "s.user_id = u.id), (SELECT MAX(beat_at) FROM presence"
                       " d WHERE d.user_id = u.id AND d.beat_at < ");
    pchat_sql_int(sql, since);
    pchat_sql_add(sql, ") FROM users u WHERE ");
    pchat_sql_cat(sql, cond);
    pchat_sql_add(sql, " ORDER BY u.id LIMIT ");
    pchat_sql_int(sql, MAX_LISTED);
    if (!(c = pchat_conn_acquire(q->r))) {
        return pchat_chat_unavailable(q->r);
    }
    rv = pchat_db_select(c, p, sql, &res);
    while (!rv && pchat_db_next_row(c, p, res, &row)) {
        json_array_append_new(docs, presence_doc(c, row));
    }
    pchat_conn_release(c);
    if (rv) {
        return pchat_chat_server_error(q->r);
    }
    return pchat_send_json(q->r, HTTP_OK, json_pack(
        "{s:O,s:I}", "docs", docs, "totalDocs",
        (json_int_t)json_array_size(docs)));
}
