/* The stream's wire format, Server-Sent Events: the response headers,
 * frames (id:, event:, data:), and sending them.  (Pure move from
 * pchat_stream.c.) */
#include "pchat_stream_private.h"

/* Hands the free memory of malloc's arenas back to the system after a
 * send of at least TRIM_AFTER bytes, at most once a second per process:
 * glibc keeps what each thread's arena freed (a replay's rows, JSON and
 * frames) until the top of the arena is free, which it seldom is. */
#define TRIM_AFTER (1024 * 1024)

static void trim_after_send(apr_off_t sent)
{
#ifdef __GLIBC__
    static volatile apr_uint32_t last_trim;
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now()), was;

    if (sent < TRIM_AFTER) {
        return;
    }
    was = apr_atomic_read32(&last_trim);
    if (was != now && apr_atomic_cas32(&last_trim, now, was) == was) {
        malloc_trim(0);
    }
#else
    (void)sent;
#endif
}

/* Frames go out in malloc'd heap buckets, or immortal ones for constant
 * text, not through apr_brigade_write: its 8000-byte buffers come from the
 * connection's own allocator and stay on that allocator's free list after
 * the send, 8 KiB more for every parked stream.  Freed malloc memory is
 * shared by all connections. */
void pchat_sse_put_copy(pchat_sub *sub, const char *data, apr_size_t len)
{
    char *copy = malloc(len ? len : 1);

    if (copy) {
        memcpy(copy, data, len);
        APR_BRIGADE_INSERT_TAIL(sub->bb, apr_bucket_heap_create(
            copy, len, free, sub->bb->bucket_alloc));
    }
}

void pchat_sse_put_const(pchat_sub *sub, const char *text)
{
    APR_BRIGADE_INSERT_TAIL(sub->bb, apr_bucket_immortal_create(
        text, strlen(text), sub->bb->bucket_alloc));
}

/* For short frame lines only: id, event and retry fields. */
void pchat_sse_printf(pchat_sub *sub, const char *fmt, ...)
{
    char line[128];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n > 0) {
        pchat_sse_put_copy(sub, line, n < (int)sizeof(line) ? (apr_size_t)n
                                                   : sizeof(line) - 1);
    }
}

void pchat_sse_frame(pchat_sub *sub, const char *event, apr_int64_t id,
                  json_t *data)
{
    pchat_sse_printf(sub, "id: %" APR_INT64_T_FMT "\nevent: %s\ndata: ",
                     id, event);
    pchat_json_to_brigade(data, sub->bb);
    pchat_sse_put_const(sub, "\n\n");
    pchat_metrics_frame(event, json_array_size(data));
}

/* Sends what is in the brigade now; false when the client is gone. */
int pchat_sse_flush(pchat_sub *sub)
{
    request_rec *r = sub->r;
    apr_status_t rv;
    apr_off_t len = 0;

    apr_brigade_length(sub->bb, 1, &len);
    APR_BRIGADE_INSERT_TAIL(sub->bb, apr_bucket_flush_create(
        r->connection->bucket_alloc));
    rv = ap_pass_brigade(r->output_filters, sub->bb);
    apr_brigade_cleanup(sub->bb);
    trim_after_send(len);
    if (rv != APR_SUCCESS || r->connection->aborted) {
        r->connection->aborted = 1;
        return 0;
    }
    return 1;
}

void pchat_sse_headers(request_rec *r)
{
    ap_set_content_type(r, "text/event-stream; charset=utf-8");
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-cache");
    apr_table_setn(r->headers_out, "X-Accel-Buffering", "no");
    /* compression would hold frames back */
    apr_table_setn(r->subprocess_env, "no-gzip", "1");
    apr_table_setn(r->subprocess_env, "no-brotli", "1");
    r->status = HTTP_OK;
}

void pchat_sse_open(pchat_sub *sub, int retry_ms)
{
    pchat_sse_printf(sub, ": payloadchat stream\nretry: %d\n\n", retry_ms);
}

void pchat_sse_ping(pchat_sub *sub)
{
    pchat_sse_put_const(sub, "event: ping\ndata: keep-alive\n\n");
}

void pchat_sse_id_only(pchat_sub *sub, apr_int64_t id)
{
    pchat_sse_printf(sub, "id: %" APR_INT64_T_FMT "\n\n", id);
}

void pchat_sse_messages(pchat_sub *sub, apr_int64_t id, json_t *docs)
{
    pchat_sse_frame(sub, "message", id, docs);
}

void pchat_sse_deleted(pchat_sub *sub, apr_pool_t *p, apr_int64_t id,
                       json_t *docs)
{
    json_t *ids = pchat_json_own(p, json_array());
    json_t *doc;
    size_t i;

    json_array_foreach(docs, i, doc) {
        json_array_append_new(ids, json_pack("{s:O}", "id",
                                             json_object_get(doc, "id")));
    }
    pchat_sse_frame(sub, "delete", id, ids);
}
