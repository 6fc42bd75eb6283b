/* Routing of API requests to the collection endpoints. */
#include "apr_lib.h"
#include "pchat_router.h"
#include "pchat_config.h"
#include "pchat_api.h"
#include "pchat_query.h"
#include "pchat_stream.h"
#include "pchat_auth.h"
#include "pchat_metrics.h"
#include "pchat_presence.h"
#include "pchat_typing.h"
#include "pchat_receipts.h"
#include "pchat_conversations.h"

typedef int (*endpoint_fn)(pchat_req *q);

typedef struct {
    int method;          /* M_GET, ... */
    endpoint_fn fn;
} pchat_method;

/* The kinds of path below /{slug}. */
typedef enum {
    PATH_COLLECTION, PATH_COUNT, PATH_ID, PATH_STREAM, PATH_STREAM_STATS,
    PATH_LOGIN, PATH_LOGOUT, PATH_ME, PATH_REFRESH, PATH_FIRST_REGISTER,
    PATH_INIT, PATH_DUPLICATE, PATH_ACCESS, PATH_FORGOT, PATH_RESET,
    PATH_UNLOCK, PATH_PRESENCE, PATH_TYPING, PATH_RECEIPTS,
    PATH_CONVERSATIONS, PATH_NONE
} path_kind;

typedef struct {
    path_kind kind;
    const char *name;          /* as the metrics name it */
    pchat_method methods[5];   /* ends with {0, NULL} */
    const char *users_path;    /* /users/<this>, for the auth endpoints */
} pchat_route_def;

/* Indexed by kind, so &routes[PATH_ID] is the route of PATH_ID whatever
 * the order of the lines. */
static const pchat_route_def routes[] = {
    [PATH_COLLECTION] = {PATH_COLLECTION, "collection",
                         {{M_GET, pchat_api_find},
                          {M_POST, pchat_api_create},
                          {M_PATCH, pchat_api_update_many},
                          {M_DELETE, pchat_api_delete_many},
                          {0, NULL}}, NULL},
    [PATH_COUNT] = {PATH_COUNT, "count",
                    {{M_GET, pchat_api_count}, {0, NULL}}, NULL},
    [PATH_ID] = {PATH_ID, "id",
                 {{M_GET, pchat_api_find_by_id},
                  {M_PATCH, pchat_api_update_by_id},
                  {M_DELETE, pchat_api_delete_by_id},
                  {0, NULL}}, NULL},
    [PATH_STREAM] = {PATH_STREAM, "stream",
                     {{M_GET, pchat_stream_handler}, {0, NULL}}, NULL},
    [PATH_STREAM_STATS] = {PATH_STREAM_STATS, "stream_stats",
                           {{M_GET, pchat_stream_stats}, {0, NULL}}, NULL},
    [PATH_LOGIN] = {PATH_LOGIN, "login",
                    {{M_POST, pchat_auth_login}, {0, NULL}}, "login"},
    [PATH_LOGOUT] = {PATH_LOGOUT, "logout",
                     {{M_POST, pchat_auth_logout}, {0, NULL}}, "logout"},
    [PATH_ME] = {PATH_ME, "me", {{M_GET, pchat_auth_me}, {0, NULL}}, "me"},
    [PATH_REFRESH] = {PATH_REFRESH, "refresh",
                      {{M_POST, pchat_auth_refresh}, {0, NULL}},
                      "refresh-token"},
    [PATH_FIRST_REGISTER] = {PATH_FIRST_REGISTER, "first_register",
                             {{M_POST, pchat_api_first_register}, {0, NULL}},
                             "first-register"},
    [PATH_INIT] = {PATH_INIT, "init",
                   {{M_GET, pchat_api_init}, {0, NULL}}, "init"},
    [PATH_DUPLICATE] = {PATH_DUPLICATE, "duplicate",
                        {{M_POST, pchat_api_duplicate}, {0, NULL}}, NULL},
    [PATH_ACCESS] = {PATH_ACCESS, "access",
                     {{M_GET, pchat_api_access}, {0, NULL}}, NULL},
    [PATH_FORGOT] = {PATH_FORGOT, "forgot_password",
                     {{M_POST, pchat_auth_forgot}, {0, NULL}},
                     "forgot-password"},
    [PATH_RESET] = {PATH_RESET, "reset_password",
                    {{M_POST, pchat_auth_reset}, {0, NULL}},
                    "reset-password"},
    [PATH_UNLOCK] = {PATH_UNLOCK, "unlock",
                     {{M_POST, pchat_auth_unlock}, {0, NULL}}, "unlock"},
    [PATH_PRESENCE] = {PATH_PRESENCE, "presence",
                       {{M_GET, pchat_presence_handler}, {0, NULL}}, NULL},
    [PATH_TYPING] = {PATH_TYPING, "typing",
                     {{M_POST, pchat_typing_handler}, {0, NULL}}, NULL},
    [PATH_RECEIPTS] = {PATH_RECEIPTS, "receipts",
                       {{M_GET, pchat_receipts_find},
                        {M_POST, pchat_receipts_post}, {0, NULL}}, NULL},
    [PATH_CONVERSATIONS] = {PATH_CONVERSATIONS, "conversations",
                            {{M_GET, pchat_conversations_find}, {0, NULL}},
                            NULL},
};

/* The chat's endpoints that are not collections: /api/<name>. */
static const struct {
    const char *name;
    path_kind kind;
} chat_paths[] = {
    {"presence", PATH_PRESENCE}, {"typing", PATH_TYPING},
    {"receipts", PATH_RECEIPTS}, {"conversations", PATH_CONVERSATIONS},
};

static const pchat_route_def *chat_route(const char *slug)
{
    size_t i;

    for (i = 0; i < sizeof(chat_paths) / sizeof(chat_paths[0]); i++) {
        if (!strcmp(chat_paths[i].name, slug)) {
            return &routes[chat_paths[i].kind];
        }
    }
    return NULL;
}

#define NROUTES (sizeof(routes) / sizeof(routes[0]))
_Static_assert(NROUTES == PATH_NONE && PATH_NONE + 1 == PCHAT_ENDPOINTS,
               "one route per kind of path");

/* PATH_NONE: no route matched. */
const char *pchat_router_endpoint_name(int endpoint)
{
    return endpoint == PATH_NONE ? "none" : routes[endpoint].name;
}

/* The auth endpoint at /users/<sub>, or NULL. */
static const pchat_route_def *users_route(const char *sub)
{
    size_t i;

    for (i = 0; i < NROUTES; i++) {
        if (routes[i].users_path && !strcmp(routes[i].users_path, sub)) {
            return &routes[i];
        }
    }
    return NULL;
}

int pchat_router_claims(const request_rec *r)
{
    const char *mount = pchat_conf_mount(r->server);
    size_t n = strlen(mount);

    return pchat_conf_enabled(r->server) && r->uri && !strncmp(r->uri, mount, n)
           && (r->uri[n] == '\0' || r->uri[n] == '/');
}

/* (ap_method_name_of(M_GET) answers "HEAD", which shares its number.) */
static const char *method_name(int method)
{
    switch (method) {
    case M_GET:
        return "GET, HEAD";
    case M_POST:
        return "POST";
    case M_PATCH:
        return "PATCH";
    default:
        return "DELETE";
    }
}

static const char *allow_header(apr_pool_t *p, const pchat_route_def *rd)
{
    const char *allow = "OPTIONS";
    const pchat_method *m;

    for (m = rd->methods; m->fn; m++) {
        allow = apr_pstrcat(p, allow, ", ", method_name(m->method), NULL);
    }
    return allow;
}

/* A document id: digits only, no sign (leading zeros are read past, as
 * Payload reads "03" as 3). */
static int parse_id(const char *seg, apr_int64_t *id)
{
    const char *c;

    if (!*seg) {
        return -1;
    }
    while (seg[0] == '0' && seg[1]) {
        seg++;
    }
    if (strlen(seg) > 18) {
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

/* Splits "/messages/12" into the collection and the kind of path;
 * *as_id is set for /{slug}/{segment} that is not an id. */
static const pchat_route_def *match(request_rec *r, pchat_req *q, int *as_id)
{
    const char *rest = r->uri + strlen(pchat_conf_mount(r->server));
    char *slug, *sub, *extra, *state = NULL;

    rest = apr_pstrdup(r->pool, rest);
    slug = apr_strtok((char *)rest, "/", &state);
    sub = slug ? apr_strtok(NULL, "/", &state) : NULL;
    extra = sub ? apr_strtok(NULL, "/", &state) : NULL;
    if (slug && !sub && !strcmp(slug, "access")) {
        return &routes[PATH_ACCESS];
    }
    if (slug && chat_route(slug)) {
        return sub ? NULL : chat_route(slug);
    }
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
        return q->coll == &pchat_messages && !strcmp(extra, "duplicate")
               && !apr_strtok(NULL, "/", &state) && !parse_id(sub, &q->id)
               ? &routes[PATH_DUPLICATE] : NULL;
    }
    if (q->coll == &pchat_users && sub && users_route(sub)) {
        return users_route(sub);
    }
    if (!sub) {
        return &routes[PATH_COLLECTION];
    }
    if (!strcmp(sub, "count")) {
        return &routes[PATH_COUNT];
    }
    *as_id = 1;
    return parse_id(sub, &q->id) ? NULL : &routes[PATH_ID];
}

/* X-Payload-HTTP-Method-Override: GET on a POST: a query too long for a
 * URL, sent as a form body, as Payload's REST handler takes it. */
static int method_override(request_rec *r, const char **args,
                           pchat_error **err)
{
    const char *h = apr_table_get(r->headers_in,
                                  "X-Payload-HTTP-Method-Override");
    char *body = NULL;

    *args = r->args;
    *err = NULL;
    if (r->method_number != M_POST || !h || strcasecmp(h, "GET")) {
        return r->method_number;
    }
    *err = pchat_read_text_body(r, &body);
    *args = body;
    return M_GET;
}

/* where given as JSON text (where={"content":{"equals":"x"}}), which
 * Payload's REST handler also takes. */
static void where_json(apr_pool_t *p, json_t *qs)
{
    const char *text = json_string_value(json_object_get(qs, "where"));
    json_t *where;

    if (text && *text == '{'
        && (where = pchat_json_parse(p, text, strlen(text)))
        && json_is_object(where)) {
        json_object_set(qs, "where", where);
    }
}

static int dispatch(request_rec *r, pchat_req *q, const pchat_route_def *rd)
{
    const char *args;
    pchat_error *err;
    int method = method_override(r, &args, &err);
    const pchat_method *m;

    if (err) {
        return pchat_send_error(r, err);
    }
    for (m = rd->methods; m->fn; m++) {
        if (m->method != method) {
            continue;
        }
        q->qs = pchat_qs_parse(r->pool, args, &err);
        if (!q->qs) {
            return pchat_send_error(r, err);
        }
        where_json(r->pool, q->qs);
        /* A stale token must not stand in the way of logging in again;
         * and /me answers it as Payload does, with no user. */
        err = pchat_auth_resolve(q, &q->user);
        if (err && rd->kind != PATH_LOGIN && rd->kind != PATH_FIRST_REGISTER
            && rd->kind != PATH_FORGOT && rd->kind != PATH_RESET
            && !(rd->kind == PATH_ME && err->status == HTTP_UNAUTHORIZED)) {
            return pchat_send_error(r, err);
        }
        if ((err = pchat_auth_csrf(q))) {
            return pchat_send_error(r, err);
        }
        return m->fn(q);
    }
    apr_table_setn(r->headers_out, "Allow", allow_header(r->pool, rd));
    return pchat_send_message_error(r, HTTP_METHOD_NOT_ALLOWED,
                                    apr_psprintf(r->pool, "Method %s is not "
                                                 "allowed here.", r->method));
}

static int route(request_rec *r, int *endpoint)
{
    pchat_req q = {r, NULL, NULL, 0, NULL};
    int as_id = 0;
    const pchat_route_def *rd = match(r, &q, &as_id);
    int status;

    *endpoint = rd ? (int)rd->kind : PATH_NONE;
    if (rd && r->method_number == M_OPTIONS) {
        apr_table_setn(r->headers_out, "Allow", allow_header(r->pool, rd));
    }
    status = pchat_http_prepare(r);
    if (status != DECLINED) {
        return status;
    }
    if (!rd && as_id) {
        return pchat_send_message_error(r, HTTP_NOT_FOUND, "Not Found");
    }
    if (!rd) {
        /* Payload's answer for a path it has no route for */
        return pchat_send_json(r, HTTP_NOT_FOUND, json_pack(
            "{s:s}", "message", apr_psprintf(r->pool, "Route not found "
                                             "\"%s\"", r->uri)));
    }
    return dispatch(r, &q, rd);
}

int pchat_route(request_rec *r)
{
    apr_time_t start = r->request_time;
    int endpoint, rv = route(r, &endpoint);

    /* a suspended stream's request belongs to the hub now: not read */
    pchat_metrics_request(endpoint, rv == SUSPENDED ? HTTP_OK
                                    : rv == OK ? r->status : rv, start);
    return rv;
}
