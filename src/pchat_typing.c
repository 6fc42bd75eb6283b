/* POST /api/typing */
#include "pchat_typing.h"
#include "pchat_chat.h"
#include "pchat_signals.h"

#define TYPING_EVERY_MS 1000

/* A bad or unknown `to`, or oneself: a ValidationError; else NULL. */
static pchat_error *check_peer(pchat_req *q, pchat_conn *c, apr_int64_t to,
                               int *rv)
{
    if (to == q->user->id) {
        return pchat_chat_invalid(q->r->pool, "typing", "to", "You cannot "
                                  "type to yourself.");
    }
    if (!pchat_chat_user_exists(c, q->r->pool, to, rv) && !*rv) {
        return pchat_chat_invalid(q->r->pool, "typing", "to", "This user "
                                  "does not exist.");
    }
    return NULL;
}

static int too_often(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Retry-After", "1");
    return pchat_send_message_error(r, HTTP_TOO_MANY_REQUESTS, "Typing is "
                                    "announced at most once a second.");
}

int pchat_typing_handler(pchat_req *q)
{
    static const char *const keys[] = {"to", NULL};
    apr_pool_t *p = q->r->pool;
    apr_int64_t to;
    pchat_error *err;
    pchat_conn *c;
    int rv = 0, busy;

    if (pchat_chat_need_login(q) == OK) {
        return OK;
    }
    if ((err = pchat_chat_read_ids(q, "typing", keys, &to))) {
        return pchat_send_error(q->r, err);
    }
    if (!(c = pchat_conn_acquire(q->r))) {
        return pchat_chat_unavailable(q->r);
    }
    err = check_peer(q, c, to, &rv);
    busy = !err && !rv && pchat_signals_recent(c, p, PCHAT_SIGNAL_TYPING,
                                               q->user->id, to,
                                               TYPING_EVERY_MS, &rv) > 0;
    if (!err && !rv && !busy) {
        rv = pchat_signal_send(c, p, PCHAT_SIGNAL_TYPING, q->user->id, &to, 1,
                               pchat_json_own(p, json_pack(
                                   "{s:I,s:I,s:i}", "from",
                                   (json_int_t)q->user->id, "to",
                                   (json_int_t)to, "expiresIn",
                                   PCHAT_TYPING_EXPIRES_MS)));
    }
    pchat_conn_release(c);
    if (err) {
        return pchat_send_error(q->r, err);
    }
    if (rv) {
        return pchat_chat_server_error(q->r);
    }
    if (busy) {
        return too_often(q->r);
    }
    return pchat_send_json(q->r, HTTP_OK, json_pack("{s:s}", "message", "ok"));
}
