/* sseload: opens N Server-Sent-Events subscribers on 127.0.0.1, publishes M
 * messages D ms apart, and reports delivery latency (from the publish
 * request's start to receipt at every subscriber), losses and duplicates.
 *
 *   sseload -n 1000 -m 20 -d 100 -P 8080 -s /api/messages/sse \
 *           -p /api/messages [-j]       (-j: JSON body for mod_payloadchat)
 *           [-J MS]     (adds 0..MS random ms to each delay, so that
 *                        periodic server work cannot lock onto the
 *                        publishing period)
 *           [-Q 8081]   (a second node: odd subscribers and odd messages
 *                        go to it, so half of all deliveries cross nodes)
 *           [-t 8443 [-2 [-k 4]]]  (subscribers over TLS on port 8443:
 *                        HTTP/1.1, or with -2 HTTP/2 (ALPN h2) with -k
 *                        streams per connection; messages are still
 *                        published over plain HTTP/1.1 on -P, so both
 *                        servers' latency counts the same publish; at
 *                        most 500 handshakes at a time, 60 s to connect)
 *
 * Each published text carries a marker "bench-<run>-<i>-" that is searched
 * for in whatever the subscriber receives, so no JSON or SSE parsing is
 * needed and both nchan and mod_payloadchat can be measured the same way.
 * Single-threaded epoll; bounded in time; only ever talks to 127.0.0.1.
 * TLS is OpenSSL without certificate checks (the servers are our own, on
 * loopback) and non-blocking in the same loop; h2 framing is libnghttp2's. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_MSGS 64
#define CARRY 48

typedef struct {
    int fd;
    int connected;        /* got the response head */
    int status;
    uint64_t seen;        /* bit i: message i received */
    int dups;
    long docs;            /* message documents received (-i) */
    char carry[CARRY];    /* tail of the last read: markers may straddle */
    int ncarry;
} sub_t;

static int n_subs = 100, n_msgs = 20, delay_ms = 100, port = 8080, port2;
static const char *sub_path = "/api/messages/sse", *pub_path = "/api/messages";
static int json_body;
static int jitter_ms;        /* -J: random extra delay, against phase lock */
static int idle_s;           /* -i: connect, stay idle, publish nothing */
static unsigned run_id;
static double sent_at[MAX_MSGS];
static double *lat;          /* n_subs * n_msgs */
static long n_lat;

/* -t: one TLS connection carries one subscriber (HTTP/1.1) or up to
 * per_conn of them as h2 streams (-2); epoll's data names the connection. */
typedef struct {
    int fd;
    SSL *ssl;
    nghttp2_session *h2;
    int first, count;     /* its subscribers: first .. first + count - 1 */
    int handshaken;
    int want_out;         /* h2: a write would have blocked */
    uint32_t events;      /* what epoll watches for */
} conn_t;

/* Handshakes in progress at most: the rest of the N connect when these are
 * done, so that a server's handshake timeout measures no connect storm. */
#define MAX_HANDSHAKING 500

static int tls_port, use_h2, per_conn = 4;
static SSL_CTX *tls_ctx;
static conn_t *conns;
static int n_conns, handshaking;
static sub_t *all_subs;
static double recv_t;        /* when the bytes being parsed arrived */

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The node of subscriber or message i: even ones on -P, odd on -Q. */
static int port_of(int i)
{
    return port2 && i % 2 ? port2 : port;
}

static int open_socket(int to, int nonblock)
{
    struct sockaddr_in a = {0};
    int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
    int one = 1;

    if (fd < 0) {
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    a.sin_family = AF_INET;
    a.sin_port = htons(to);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0
        && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Publishes message i with a blocking request; returns the HTTP status. */
static int publish(int i)
{
    char body[256], req[1024], resp[4096];
    int fd = open_socket(port_of(i), 0), len, status = 0;
    struct timeval limit = {10, 0};   /* a server out of workers: fail */
    ssize_t n;

    if (fd < 0) {
        return 0;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
    if (json_body) {
        len = snprintf(body, sizeof(body), "{\"sender\":1,\"receiver\":2,"
                       "\"content\":\"bench-%u-%d-x\"}", run_id, i);
    }
    else {
        len = snprintf(body, sizeof(body), "bench-%u-%d-x", run_id, i);
    }
    snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Content-Type: %s\r\nContent-Length: %d\r\nConnection: close"
             "\r\n\r\n%s", pub_path, json_body ? "application/json"
             : "text/plain", len, body);
    sent_at[i] = now_ms();
    if (write(fd, req, strlen(req)) > 0
        && (n = read(fd, resp, sizeof(resp) - 1)) > 12) {
        resp[n] = '\0';
        status = atoi(resp + 9);
    }
    close(fd);
    return status;
}

/* Finds every complete marker of this run in buf and records its latency;
 * returns where an incomplete one at the very end starts (or NULL). */
static const char *scan(sub_t *s, const char *buf, size_t len, double t)
{
    char prefix[32];
    int plen = snprintf(prefix, sizeof(prefix), "bench-%u-", run_id);
    const char *p = buf, *end = buf + len;

    while ((p = memmem(p, end - p, prefix, plen))) {
        const char *start = p, *q = p + plen;
        int i = 0, digits = 0;
        while (q < end && *q >= '0' && *q <= '9') {
            i = i * 10 + (*q++ - '0');
            digits++;
        }
        if (q >= end) {
            return start;
        }
        p += plen;
        if (!digits || *q != '-' || i >= n_msgs) {
            continue;
        }
        if (s->seen & (1ULL << i)) {
            s->dups++;
            continue;
        }
        s->seen |= 1ULL << i;
        lat[n_lat++] = t - sent_at[i];
    }
    return NULL;
}

/* Message documents whose "content" key ends past the carried bytes (so a
 * key carried over from the last read is not counted twice). */
static long count_docs(const char *buf, size_t len, size_t carried)
{
    static const char key[] = "\"content\":";
    const char *p = buf, *end = buf + len;
    long n = 0;

    while ((p = memmem(p, end - p, key, sizeof(key) - 1))) {
        p += sizeof(key) - 1;
        n += (size_t)(p - buf) > carried;
    }
    return n;
}

/* Bytes of a subscriber's response body. */
static void on_body(sub_t *s, const char *data, size_t len, double t)
{
    static char buf[65536 + CARRY];
    const char *partial;
    size_t total, keep;

    memcpy(buf, s->carry, s->ncarry);
    memcpy(buf + s->ncarry, data, len);
    total = s->ncarry + len;
    s->docs += count_docs(buf, total, (size_t)s->ncarry);
    partial = scan(s, buf, total, t);
    /* carry an incomplete marker, or else a tail that may begin one */
    keep = partial ? (size_t)(buf + total - partial) : 16;
    if (keep > total) {
        keep = total;
    }
    if (keep > CARRY) {
        keep = CARRY;
    }
    memcpy(s->carry, buf + total - keep, keep);
    s->ncarry = (int)keep;
}

/* Bytes of an HTTP/1.1 response: the head, then the body. */
static void on_data(sub_t *s, char *data, size_t len, double t)
{
    if (!s->connected) {
        char *head_end = memmem(data, len, "\r\n\r\n", 4);
        if (len > 12 && !memcmp(data, "HTTP/1.", 7)) {
            s->status = atoi(data + 9);
        }
        if (!head_end) {
            return;
        }
        s->connected = 1;
        len -= head_end + 4 - data;
        data = head_end + 4;
    }
    on_body(s, data, len, t);
}

/* ---- subscribers over TLS: HTTP/1.1, or h2 streams -------------------- */

static void watch(int ep, conn_t *c, uint32_t events)
{
    struct epoll_event ev = {.events = events,
                             .data.u32 = (uint32_t)(c - conns)};

    if (events != c->events) {
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->events = events;
    }
}

/* The connection is gone: its subscribers count as closed. */
static void conn_close(int ep, conn_t *c)
{
    int i;

    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    handshaking -= !c->handshaken;
    if (c->h2) {
        nghttp2_session_del(c->h2);
        c->h2 = NULL;
    }
    SSL_free(c->ssl);
    c->ssl = NULL;
    close(c->fd);
    c->fd = -1;
    for (i = c->first; i < c->first + c->count; i++) {
        all_subs[i].fd = -1;
    }
}

static ssize_t h2_send(nghttp2_session *h2, const uint8_t *data, size_t len,
                       int flags, void *user_data)
{
    conn_t *c = user_data;
    int r = SSL_write(c->ssl, data, (int)len), e;

    (void)h2, (void)flags;
    if (r > 0) {
        return r;
    }
    e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        c->want_out = 1;
        return NGHTTP2_ERR_WOULDBLOCK;
    }
    return NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int h2_on_header(nghttp2_session *h2, const nghttp2_frame *frame,
                        const uint8_t *name, size_t namelen,
                        const uint8_t *value, size_t valuelen, uint8_t flags,
                        void *user_data)
{
    sub_t *s = nghttp2_session_get_stream_user_data(h2, frame->hd.stream_id);

    (void)flags, (void)user_data, (void)valuelen;
    if (s && frame->hd.type == NGHTTP2_HEADERS && namelen == 7
        && !memcmp(name, ":status", 7)) {
        s->status = atoi((const char *)value);
    }
    return 0;
}

static int h2_on_frame(nghttp2_session *h2, const nghttp2_frame *frame,
                       void *user_data)
{
    sub_t *s = nghttp2_session_get_stream_user_data(h2, frame->hd.stream_id);

    (void)user_data;
    if (s && frame->hd.type == NGHTTP2_HEADERS
        && frame->headers.cat == NGHTTP2_HCAT_RESPONSE) {
        s->connected = 1;
    }
    return 0;
}

static int h2_on_chunk(nghttp2_session *h2, uint8_t flags, int32_t stream_id,
                       const uint8_t *data, size_t len, void *user_data)
{
    sub_t *s = nghttp2_session_get_stream_user_data(h2, stream_id);

    (void)flags, (void)user_data;
    if (s) {
        on_body(s, (const char *)data, len, recv_t);
    }
    return 0;
}

static int h2_on_close(nghttp2_session *h2, int32_t stream_id,
                       uint32_t error_code, void *user_data)
{
    sub_t *s = nghttp2_session_get_stream_user_data(h2, stream_id);

    (void)error_code, (void)user_data;
    if (s) {
        s->fd = -1;
    }
    return 0;
}

/* A new h2 session on c: large windows (a subscriber never pushes back),
 * then one GET per subscriber, each a stream whose data is the sub_t. */
static int h2_start(conn_t *c)
{
    nghttp2_session_callbacks *cb;
    nghttp2_settings_entry set[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
    };
    char authority[32];
    int i;

    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_send_callback(cb, h2_send);
    nghttp2_session_callbacks_set_on_header_callback(cb, h2_on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, h2_on_frame);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, h2_on_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2_on_close);
    i = nghttp2_session_client_new(&c->h2, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (i) {
        return -1;
    }
    nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, set, 2);
    nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0,
                                          1 << 24);
    snprintf(authority, sizeof(authority), "127.0.0.1:%d", tls_port);
    for (i = c->first; i < c->first + c->count; i++) {
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), \
                  NGHTTP2_NV_FLAG_NONE}
        nghttp2_nv hdrs[] = {
            NV(":method", "GET"), NV(":scheme", "https"),
            NV(":authority", authority), NV(":path", sub_path),
            NV("accept", "text/event-stream"),
        };
#undef NV
        if (nghttp2_submit_request(c->h2, NULL, hdrs, 5, NULL,
                                   &all_subs[i]) < 0) {
            all_subs[i].status = -1;
        }
    }
    return 0;
}

/* The handshake is done: send the request(s). */
static int tls_opened(conn_t *c)
{
    const unsigned char *alpn;
    unsigned alpn_len;
    char req[512];

    c->handshaken = 1;
    handshaking--;
    if (use_h2) {
        SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
        if (alpn_len != 2 || memcmp(alpn, "h2", 2)) {
            fprintf(stderr, "sseload: the server did not choose h2\n");
            return -1;
        }
        return h2_start(c);
    }
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Accept: text/event-stream\r\n\r\n", sub_path);
    return SSL_write(c->ssl, req, (int)strlen(req)) > 0 ? 0 : -1;
}

/* Reads what is there (SSL_read until it would block) and, on h2, sends
 * what the session has to say (settings and window acks). */
static int tls_io(conn_t *c, double t)
{
    static char data[65536];
    int r, e;

    recv_t = t;
    for (;;) {
        r = SSL_read(c->ssl, data, sizeof(data));
        if (r <= 0) {
            break;
        }
        if (!c->h2) {
            on_data(&all_subs[c->first], data, (size_t)r, t);
        }
        else if (nghttp2_session_mem_recv(c->h2, (uint8_t *)data,
                                          (size_t)r) < 0) {
            return -1;
        }
    }
    e = SSL_get_error(c->ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        return -1;
    }
    c->want_out = 0;
    return c->h2 && nghttp2_session_send(c->h2) ? -1 : 0;
}

static void pump_tls(int ep, int ms)
{
    struct epoll_event evs[512];
    int i, n = epoll_wait(ep, evs, 512, ms);
    double t = now_ms();

    for (i = 0; i < n; i++) {
        conn_t *c = &conns[evs[i].data.u32];
        int r;

        if (c->fd < 0) {
            continue;
        }
        if (!c->handshaken) {
            r = SSL_connect(c->ssl);
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                    watch(ep, c, e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
                    continue;
                }
                all_subs[c->first].status = -1;
                conn_close(ep, c);
                continue;
            }
            if (tls_opened(c) < 0) {
                all_subs[c->first].status = -1;
                conn_close(ep, c);
                continue;
            }
        }
        if (tls_io(c, t) < 0) {
            conn_close(ep, c);
            continue;
        }
        watch(ep, c, EPOLLIN | (c->want_out ? EPOLLOUT : 0));
    }
}

/* Opens every TLS connection, MAX_HANDSHAKING at a time, until the
 * deadline (handshakes proceed in pump_tls). */
static void open_tls(int ep, sub_t *subs, double deadline)
{
    static const unsigned char h2[] = "\x02h2", h1[] = "\x08http/1.1";
    int per = use_h2 ? per_conn : 1, i, j;

    tls_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE
                     | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(tls_ctx, 1);   /* a read() per burst, not per record */
    n_conns = (n_subs + per - 1) / per;
    conns = calloc(n_conns, sizeof(*conns));
    all_subs = subs;
    for (i = 0; i < n_conns; i++) {
        conn_t *c = &conns[i];
        struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = i};

        while (handshaking >= MAX_HANDSHAKING && now_ms() < deadline) {
            pump_tls(ep, 10);
        }
        c->first = i * per;
        c->count = n_subs - c->first < per ? n_subs - c->first : per;
        c->fd = open_socket(tls_port, 1);
        for (j = c->first; j < c->first + c->count; j++) {
            subs[j].fd = c->fd;
        }
        if (c->fd < 0) {
            continue;
        }
        c->ssl = SSL_new(tls_ctx);
        SSL_set_fd(c->ssl, c->fd);
        SSL_set_connect_state(c->ssl);
        SSL_set_alpn_protos(c->ssl, use_h2 ? h2 : h1,
                            use_h2 ? sizeof(h2) - 1 : sizeof(h1) - 1);
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        c->events = EPOLLOUT;
        handshaking++;
        if ((c->first + c->count) / 200 != c->first / 200) {
            pump_tls(ep, 0);   /* keep the accept queues moving */
        }
    }
}

static void pump(int ep, sub_t *subs, int ms)
{
    struct epoll_event evs[512];
    char data[65536];
    int i, n;
    double t;

    if (tls_ctx) {
        pump_tls(ep, ms);
        return;
    }
    n = epoll_wait(ep, evs, 512, ms);
    t = now_ms();

    for (i = 0; i < n; i++) {
        sub_t *s = &subs[evs[i].data.u32];
        ssize_t r;
        if (evs[i].events & EPOLLOUT) {
            char req[512];
            snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Accept: text/event-stream\r\n\r\n", sub_path);
            if (write(s->fd, req, strlen(req)) < 0) {
                s->status = -1;
            }
            struct epoll_event ev = {.events = EPOLLIN,
                                     .data.u32 = evs[i].data.u32};
            epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
            continue;
        }
        while ((r = read(s->fd, data, sizeof(data))) > 0) {
            on_data(s, data, (size_t)r, t);
        }
        if (r == 0) {
            epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
            close(s->fd);
            s->fd = -1;
        }
    }
}

/* On stderr (stdout's one line stays as it was): why subscribers did not
 * connect, by HTTP status (0: no response head; -1: connect, TLS or
 * request failed). */
static void report_unconnected(const sub_t *subs)
{
    int status[8], count[8], kinds = 0, other = 0, i, k;

    for (i = 0; i < n_subs; i++) {
        if (subs[i].connected && subs[i].status == 200) {
            continue;
        }
        for (k = 0; k < kinds && status[k] != subs[i].status; k++) {
        }
        if (k == kinds && kinds < 8) {
            status[kinds] = subs[i].status;
            count[kinds++] = 0;
        }
        if (k < kinds) {
            count[k]++;
        }
        else {
            other++;
        }
    }
    fprintf(stderr, "sseload: not connected in time, by status:");
    for (k = 0; k < kinds; k++) {
        fprintf(stderr, " %d x%d", status[k], count[k]);
    }
    fprintf(stderr, other ? " other x%d\n" : "\n", other);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    struct rlimit rl;
    sub_t *subs;
    int ep, i, opt, connected = 0, pub_fail = 0, dups = 0;
    double deadline = 0;

    while ((opt = getopt(argc, argv, "n:m:d:J:P:Q:s:p:ji:t:2k:")) != -1) {
        switch (opt) {
        case 'n': n_subs = atoi(optarg); break;
        case 'm': n_msgs = atoi(optarg); break;
        case 'd': delay_ms = atoi(optarg); break;
        case 'J': jitter_ms = atoi(optarg); break;
        case 'P': port = atoi(optarg); break;
        case 'Q': port2 = atoi(optarg); break;
        case 's': sub_path = optarg; break;
        case 'p': pub_path = optarg; break;
        case 'j': json_body = 1; break;
        case 'i': idle_s = atoi(optarg); break;
        case 't': tls_port = atoi(optarg); break;
        case '2': use_h2 = 1; break;
        case 'k': per_conn = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: %s -n N -m M -d MS -P PORT -s SUBPATH "
                    "-p PUBPATH [-j] [-J MS] [-Q PORT2] [-i IDLE_S] "
                    "[-t TLSPORT [-2 [-k STREAMS_PER_CONN]]]\n", argv[0]);
            return 2;
        }
    }
    if (n_msgs < 1 || n_msgs > MAX_MSGS || n_subs < 1 || per_conn < 1
        || (use_h2 && !tls_port) || (tls_port && port2)) {
        fprintf(stderr, "sseload: 1 <= -m <= %d, -n >= 1, -k >= 1; -2 needs "
                "-t; -t and -Q do not mix\n", MAX_MSGS);
        return 2;
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    run_id = (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(run_id);
    subs = calloc(n_subs, sizeof(*subs));
    lat = calloc((size_t)n_subs * n_msgs, sizeof(*lat));
    ep = epoll_create1(0);
    if (tls_port) {
        signal(SIGPIPE, SIG_IGN);   /* a closed connection: an error, not exit */
        deadline = now_ms() + 60000;  /* handshakes included: 60 s */
        open_tls(ep, subs, deadline);
    }
    for (i = 0; i < n_subs && !tls_port; i++) {
        struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = i};
        subs[i].fd = open_socket(port_of(i), 1);
        if (subs[i].fd >= 0) {
            epoll_ctl(ep, EPOLL_CTL_ADD, subs[i].fd, &ev);
        }
        if (i % 200 == 199) {
            pump(ep, subs, 0);   /* keep the accept queues moving */
        }
    }
    if (!tls_port) {
        deadline = now_ms() + 30000;
    }
    do {
        pump(ep, subs, 50);
        for (connected = 0, i = 0; i < n_subs; i++) {
            connected += subs[i].connected && subs[i].status == 200;
        }
        if (connected == n_subs) {
            break;
        }
    } while (now_ms() < deadline);
    if (connected < n_subs) {
        report_unconnected(subs);
    }
    /* let backlog replays drain before measuring */
    for (deadline = now_ms() + 1000 + idle_s * 1000.0; now_ms() < deadline;) {
        pump(ep, subs, 50);
    }
    if (idle_s) {
        long lo = -1, hi = 0;
        int open = 0;
        for (i = 0; i < n_subs; i++) {
            open += subs[i].fd >= 0;
            lo = lo < 0 || subs[i].docs < lo ? subs[i].docs : lo;
            hi = subs[i].docs > hi ? subs[i].docs : hi;
        }
        printf("subscribers %d connected %d idle_s %d still_open %d "
               "docs_min %ld docs_max %ld\n", n_subs, connected, idle_s, open,
               lo, hi);
        return 0;
    }
    for (i = 0; i < n_msgs; i++) {
        double next = now_ms() + delay_ms + (jitter_ms ? rand() % jitter_ms : 0);
        int st = publish(i);
        pub_fail += st < 200 || st >= 300;
        while (now_ms() < next) {
            pump(ep, subs, (int)(next - now_ms()) + 1);
        }
    }
    for (deadline = now_ms() + 10000;
         now_ms() < deadline && n_lat < (long)connected * n_msgs;) {
        pump(ep, subs, 50);
    }
    for (i = 0; i < n_subs; i++) {
        dups += subs[i].dups;
    }
    qsort(lat, n_lat, sizeof(*lat), cmp_double);
    printf("subscribers %d connected %d messages %d publish_failures %d "
           "received %ld expected %ld lost %ld dups %d",
           n_subs, connected, n_msgs, pub_fail, n_lat,
           (long)connected * n_msgs, (long)connected * n_msgs - n_lat, dups);
    if (n_lat) {
        printf(" p50_ms %.1f p99_ms %.1f max_ms %.1f", lat[n_lat / 2],
               lat[(long)(n_lat * 0.99)], lat[n_lat - 1]);
    }
    printf("\n");
    return 0;
}
