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
 *
 * Each published text carries a marker "bench-<run>-<i>-" that is searched
 * for in whatever the subscriber receives, so no JSON or SSE parsing is
 * needed and both nchan and mod_payloadchat can be measured the same way.
 * Single-threaded epoll; bounded in time; only ever talks to 127.0.0.1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
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
    ssize_t n;

    if (fd < 0) {
        return 0;
    }
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

static void on_data(sub_t *s, char *data, size_t len, double t)
{
    static char buf[65536 + CARRY];
    const char *partial;
    size_t total, keep;

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

static void pump(int ep, sub_t *subs, int ms)
{
    struct epoll_event evs[512];
    char data[65536];
    int i, n = epoll_wait(ep, evs, 512, ms);
    double t = now_ms();

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
    double deadline;

    while ((opt = getopt(argc, argv, "n:m:d:J:P:Q:s:p:ji:")) != -1) {
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
        default:
            fprintf(stderr, "usage: %s -n N -m M -d MS -P PORT -s SUBPATH "
                    "-p PUBPATH [-j] [-J MS] [-Q PORT2] [-i IDLE_S]\n", argv[0]);
            return 2;
        }
    }
    if (n_msgs < 1 || n_msgs > MAX_MSGS || n_subs < 1) {
        fprintf(stderr, "sseload: 1 <= -m <= %d, -n >= 1\n", MAX_MSGS);
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
    for (i = 0; i < n_subs; i++) {
        struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = i};
        subs[i].fd = open_socket(port_of(i), 1);
        if (subs[i].fd >= 0) {
            epoll_ctl(ep, EPOLL_CTL_ADD, subs[i].fd, &ev);
        }
        if (i % 200 == 199) {
            pump(ep, subs, 0);   /* keep the accept queues moving */
        }
    }
    deadline = now_ms() + 30000;
    while (now_ms() < deadline) {
        pump(ep, subs, 50);
        for (connected = 0, i = 0; i < n_subs; i++) {
            connected += subs[i].connected && subs[i].status == 200;
        }
        if (connected == n_subs) {
            break;
        }
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
