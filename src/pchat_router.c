/* Routing of API requests to the collection endpoints. */
#include "apr_lib.h"
#include "pchat_router.h"
#include "pchat_config.h"
#include "pchat_api.h"
#include "pchat_query.h"
#include "pchat_stream.h"

typedef int (*endpoint_fn)(pchat_req *q);

typedef struct {
    int method;          /* M_GET, ... */
    endpoint_fn fn;
} pchat_method;

/* The kinds of path below /{slug}. */
typedef enum {
    PATH_COLLECTION, PATH_COUNT, PATH_ID, PATH_STREAM, PATH_STREAM_STATS
} path_kind;

typedef struct {
    path_kind kind;
    pchat_method methods[5];   /* ends with {0, NULL} */
} pchat_route_def;

static const pchat_route_def routes[] = {
    {PATH_COLLECTION, {{M_GET, pchat_api_find},
                       {M_POST, pchat_api_create},
                       {M_PATCH, pchat_api_update_many},
                       {M_DELETE, pchat_api_delete_many},
                       {0, NULL}}},
    {PATH_COUNT, {{M_GET, pchat_api_count}, {0, NULL}}},
    {PATH_ID, {{M_GET, pchat_api_find_by_id},
               {M_PATCH, pchat_api_update_by_id},
               {M_DELETE, pchat_api_delete_by_id},
               {0, NULL}}},
    {PATH_STREAM, {{M_GET, pchat_stream_handler}, {0, NULL}}},
    {PATH_STREAM_STATS, {{M_GET, pchat_stream_stats}, {0, NULL}}},
};

int pchat_router_claims(const request_rec *r)
{
    const char *mount = pchat_conf_mount(r->server);
    size_t n = strlen(mount);

    return r->uri && !strncmp(r->uri, mount, n)
           && (r->uri[n] == '\0' || r->uri[n] == '/');
}

static const char *allow_header(apr_pool_t *p, const pchat_route_def *rd)
{
    const char *allow = "OPTIONS";
    const pchat_method *m;

    for (m = rd->methods; m->fn; m++) {
        allow = apr_pstrcat(p, allow, ", ", ap_method_name_of(p, m->method),
                            m->method == M_GET ? ", HEAD" : "", NULL);
    }
    return allow;
}

/* A document id: digits only, no sign, no leading zero. */
static int parse_id(const char *seg, apr_int64_t *id)
{
    const char *c;

    if (!*seg || *seg == '0' || strlen(seg) > 18) {
        return -1;
    }
    for (c = seg; *c; c++) {
        if (!apr_isdigit(*c)) {
            return -1;
        }
    }
    *id = apr_atoi64(seg);
    return 0;
}

/* Splits "/messages/12" into the collection and the kind of path. */
static const pchat_route_def *match(request_rec *r, pchat_req *q)
{
    const char *rest = r->uri + strlen(pchat_conf_mount(r->server));
    char *slug, *sub, *extra, *state = NULL;

    rest = apr_pstrdup(r->pool, rest);
    slug = apr_strtok((char *)rest, "/", &state);
    sub = slug ? apr_strtok(NULL, "/", &state) : NULL;
    extra = sub ? apr_strtok(NULL, "/", &state) : NULL;
    if (!slug || !(q->coll = pchat_collection_find(slug))) {
        return NULL;
    }
    if (q->coll == &pchat_messages && sub && !strcmp(sub, "sse")) {
        if (!extra) {
            return &routes[PATH_STREAM];
        }
        return strcmp(extra, "stats") || apr_strtok(NULL, "/", &state)
               ? NULL : &routes[PATH_STREAM_STATS];
    }
    if (extra) {
        return NULL;
    }
    if (!sub) {
        return &routes[PATH_COLLECTION];
    }
    if (!strcmp(sub, "count")) {
        return &routes[PATH_COUNT];
    }
    return parse_id(sub, &q->id) ? NULL : &routes[PATH_ID];
}

static int dispatch(request_rec *r, pchat_req *q, const pchat_route_def *rd)
{
    int method = r->method_number == M_GET && r->header_only ? M_GET
                                                              : r->method_number;
    const pchat_method *m;
    pchat_error *err;

    for (m = rd->methods; m->fn; m++) {
        if (m->method == method) {
            q->qs = pchat_qs_parse(r->pool, r->args, &err);
            return q->qs ? m->fn(q) : pchat_send_error(r, err);
        }
    }
    apr_table_setn(r->headers_out, "Allow", allow_header(r->pool, rd));
    return pchat_send_message_error(r, HTTP_METHOD_NOT_ALLOWED,
                                    apr_psprintf(r->pool, "Method %s is not "
                                                 "allowed here.", r->method));
}

int pchat_route(request_rec *r)
{
    pchat_req q = {r, NULL, NULL, 0};
    const pchat_route_def *rd = match(r, &q);
    int status;

    if (rd && r->method_number == M_OPTIONS) {
        apr_table_setn(r->headers_out, "Allow", allow_header(r->pool, rd));
    }
    status = pchat_http_prepare(r);
    if (status != DECLINED) {
        return status;
    }
    if (!rd) {
        return pchat_send_message_error(r, HTTP_NOT_FOUND, "Not Found");
    }
    return dispatch(r, &q, rd);
}
