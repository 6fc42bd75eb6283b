/* The query string (src/pchat_query.c): qs's bracket syntax as Payload
 * parses it, the paging parameters with their fallbacks and bounds, sort,
 * select and populate. */
#include "unit.h"
#include "pchat_query.h"

/* The query string as compact JSON. */
static const char *qs_json(const char *args)
{
    pchat_error *err = NULL;
    json_t *qs = pchat_qs_parse(unit_pool, args, &err);

    ck_assert_msg(qs, "'%s' refused: %s", args, err ? err->message : "");
    ck_assert_ptr_null(err);
    return pchat_json_pstr(unit_pool, qs);
}

static const char *qs_refusal(const char *args)
{
    pchat_error *err = NULL;

    ck_assert_ptr_null(pchat_qs_parse(unit_pool, args, &err));
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(err->status, HTTP_BAD_REQUEST);
    return err->message;
}

/* "k1=v&k2=v..." of n parameters, or one key nested n levels deep */
static const char *params(int n)
{
    return unit_join(n, "&", "k%d=v");
}

static const char *nested(int n)
{
    return apr_pstrcat(unit_pool, "a", unit_join(n, "", "[b]"), "=1", NULL);
}

START_TEST(qs_plain_and_nested_keys)
{
    ck_assert_str_eq(qs_json(""), "{}");
    ck_assert_str_eq(qs_json("a=1&b=x%20y+z"), "{\"a\":\"1\",\"b\":\"x y z\"}");
    ck_assert_str_eq(qs_json("where[or][0][sender][equals]=1"),
                     "{\"where\":{\"or\":[{\"sender\":{\"equals\":\"1\"}}]}}");
    ck_assert_str_eq(qs_json("where%5Bid%5D%5Bin%5D=1"),
                     "{\"where\":{\"id\":{\"in\":\"1\"}}}");
    ck_assert_str_eq(qs_json("a[b]=1&a[c]=2&a[b]=3"),
                     "{\"a\":{\"b\":[\"1\",\"3\"],\"c\":\"2\"}}");
    /* a key alone has an empty value; "]=" ends a bracketed key */
    ck_assert_str_eq(qs_json("flag&a[b=c]=d"),
                     "{\"flag\":\"\",\"a\":{\"b=c\":\"d\"}}");
    /* qs ignores prototype keys */
    ck_assert_str_eq(qs_json("a[__proto__][x]=1"), "{\"a\":{}}");
}
END_TEST

START_TEST(qs_arrays)
{
    ck_assert_str_eq(qs_json("a=1&a=2"), "{\"a\":[\"1\",\"2\"]}");
    ck_assert_str_eq(qs_json("a[]=x&a[]=y"), "{\"a\":[\"x\",\"y\"]}");
    /* sparse indexes are compacted in their order */
    ck_assert_str_eq(qs_json("a[7]=y&a[3]=x"), "{\"a\":[\"x\",\"y\"]}");
    /* beyond qs's arrayLimit, or with a leading zero, an index is a key */
    ck_assert_str_eq(qs_json("a[1001]=x"), "{\"a\":{\"1001\":\"x\"}}");
    ck_assert_str_eq(qs_json("a[01]=x"), "{\"a\":{\"01\":\"x\"}}");
    ck_assert_str_eq(qs_json("a[0]=x&a[b]=y"),
                     "{\"a\":{\"0\":\"x\",\"b\":\"y\"}}");
}
END_TEST

START_TEST(qs_refusals)
{
    ck_assert_str_eq(qs_refusal("a=%zz"), "Malformed query string.");
    ck_assert_str_eq(qs_refusal("=1"), "Malformed query string.");
    ck_assert_str_eq(qs_refusal("a=%ff"), "Query string is not valid UTF-8.");
    ck_assert_str_eq(qs_refusal(params(1001)),
                     "The query string has more than 1000 parameters.");
    qs_json(params(1000));
    ck_assert_str_eq(qs_refusal(nested(11)),
                     "The query string is nested more than 10 levels deep.");
    qs_json(nested(10));
}
END_TEST

/* pchat_query_parse on a request of a server with these directives */
static pchat_error *parse(const char *args, const char *max_limit,
                          pchat_query *q)
{
    pchat_error *err = NULL;
    json_t *qs = pchat_qs_parse(unit_pool, args, &err);
    server_rec *s = unit_server();

    ck_assert_ptr_nonnull(qs);
    if (max_limit) {
        ck_assert_ptr_null(unit_directive(s, "PayloadChatMaxLimit", max_limit,
                                          NULL));
    }
    return pchat_query_parse(unit_request(s), &pchat_messages, qs, 0, 0, q);
}

static pchat_query parsed(const char *args)
{
    pchat_query q;
    pchat_error *err = parse(args, NULL, &q);

    ck_assert_msg(!err, "'%s' refused: %s", args, err ? err->message : "");
    return q;
}

static const char *refused(const char *args, const char *max_limit)
{
    pchat_query q;
    pchat_error *err = parse(args, max_limit, &q);

    ck_assert_msg(err != NULL, "'%s' was accepted", args);
    ck_assert_int_eq(err->status, HTTP_BAD_REQUEST);
    return err->message;
}

START_TEST(paging_defaults)
{
    pchat_query q = parsed("");

    ck_assert_ptr_eq(q.coll, &pchat_messages);
    ck_assert_int_eq(q.limit, 10);
    ck_assert_int_eq(q.page, 1);
    ck_assert_int_eq(q.paginate, 1);
    ck_assert_int_eq(q.depth, 2);
    ck_assert_str_eq(q.where->text, "deleted = 0 AND 1=1");
    ck_assert_str_eq(q.order, "created_at DESC, id DESC");
}
END_TEST

START_TEST(paging_values)
{
    pchat_query q = parsed("limit=5&page=3&depth=0&pagination=false&"
                           "where[sender][equals]=2&sort=content");

    ck_assert_int_eq(q.limit, 5);
    ck_assert_int_eq(q.page, 3);
    ck_assert_int_eq(q.depth, 0);
    ck_assert_int_eq(q.paginate, 0);
    ck_assert_str_eq(q.where->text, "deleted = 0 AND ((sender = %lld))");
    ck_assert_str_eq(q.order, "content ASC, created_at DESC, id DESC");
    q = parsed("limit=0&page=1000000000&depth=10&pagination=TRUE");
    ck_assert_int_eq(q.limit, 0);
    ck_assert_int_eq(q.page, 1000000000);
    ck_assert_int_eq(q.depth, 10);
    ck_assert_int_eq(q.paginate, 1);
}
END_TEST

/* what is not a whole number, or is below the least, reads as Payload
 * reads it */
START_TEST(paging_fallbacks)
{
    static const char *const args[] = {"limit=abc&page=0&depth=x",
                                       "limit=-1&page=-5&depth=-1",
                                       "limit=2.5&page=&depth[]=1"};
    size_t i;

    for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
        pchat_query q = parsed(args[i]);
        ck_assert_int_eq(q.limit, 10);
        ck_assert_int_eq(q.page, 1);
        ck_assert_int_eq(q.depth, 0);
    }
}
END_TEST

START_TEST(paging_bounds)
{
    ck_assert_str_eq(refused("limit=1001", NULL),
                     "limit must be a whole number from 0 to 1000.");
    ck_assert_str_eq(refused("limit=99999999999999999999", NULL),
                     "limit must be a whole number from 0 to 1000.");
    ck_assert_str_eq(refused("limit=51", "50"),
                     "limit must be a whole number from 0 to 50.");
    ck_assert_str_eq(refused("page=1000000001", NULL),
                     "page must be at most 1000000000.");
    ck_assert_str_eq(refused("depth=11", NULL),
                     "depth must be a whole number from 0 to 10.");
    ck_assert_str_eq(refused("pagination=maybe", NULL),
                     "pagination must be true or false.");
    ck_assert_str_eq(refused("where[nope][equals]=1", NULL),
                     "The following path cannot be queried: nope");
    ck_assert_str_eq(refused("sort=nope", NULL),
                     "The following path cannot be queried: nope");
}
END_TEST

static const char *order_of(const pchat_collection *c, const char *args)
{
    pchat_error *err = NULL;
    json_t *qs = pchat_qs_parse(unit_pool, args, &err);
    const char *order = NULL;

    ck_assert_ptr_nonnull(qs);
    err = pchat_sort_compile(unit_pool, c, json_object_get(qs, "sort"), 0, 0,
                             &order);
    ck_assert_msg(!err, "'%s' refused: %s", args, err ? err->message : "");
    return order;
}

static const char *sort_refusal(const char *args)
{
    pchat_error *err = NULL;
    json_t *qs = pchat_qs_parse(unit_pool, args, &err);
    const char *order = NULL;

    err = pchat_sort_compile(unit_pool, &pchat_messages,
                             json_object_get(qs, "sort"), 0, 0, &order);
    ck_assert_ptr_nonnull(err);
    return err->message;
}

/* every order ends in a unique key, newest first on ties */
START_TEST(sort_orders)
{
    const pchat_collection *m = &pchat_messages;

    ck_assert_str_eq(order_of(m, ""), "created_at DESC, id DESC");
    ck_assert_str_eq(order_of(m, "sort=-content,sender"),
                     "content DESC, sender ASC, created_at DESC, id DESC");
    ck_assert_str_eq(order_of(m, "sort[]=%2Bcontent&sort[]=-timestamp"),
                     "content ASC, ts DESC, created_at DESC, id DESC");
    ck_assert_str_eq(order_of(m, "sort=createdAt"), "created_at ASC, id DESC");
    ck_assert_str_eq(order_of(m, "sort=id"), "id ASC");
    ck_assert_str_eq(order_of(m, "sort=content,-content"),
                     "content ASC, created_at DESC, id DESC");
    ck_assert_str_eq(order_of(m, "sort=sender.email"),
                     "(SELECT pchat_rel.email FROM users pchat_rel WHERE "
                     "pchat_rel.id = messages.sender) ASC, created_at DESC, "
                     "id DESC");
    ck_assert_str_eq(order_of(m, "sort=-receiver.id"),
                     "receiver DESC, created_at DESC, id DESC");
    ck_assert_str_eq(order_of(&pchat_users, "sort=email"),
                     "email ASC, created_at DESC, id DESC");
}
END_TEST

START_TEST(sort_refusals)
{
    ck_assert_str_eq(sort_refusal("sort=content,nope,password"),
                     "The following paths cannot be queried: nope, password");
    ck_assert_str_eq(sort_refusal("sort=a,b,c,d,e,f,g,h,i,j,k"),
                     "sort names more than 10 fields.");
    ck_assert_str_eq(sort_refusal("sort[a]=1"),
                     "sort must be a comma-separated list of fields.");
}
END_TEST

static const char *select_refusal(const char *args)
{
    pchat_error *err = NULL;
    json_t *qs = pchat_qs_parse(unit_pool, args, &err);

    ck_assert_ptr_nonnull(qs);
    err = pchat_query_select(unit_pool, &pchat_messages, qs, NULL);
    ck_assert_msg(err != NULL, "'%s' accepted", args);
    ck_assert_int_eq(err->status, HTTP_BAD_REQUEST);
    return err->message;
}

START_TEST(select_and_populate_refusals)
{
    ck_assert_str_eq(select_refusal("select=content"),
                     "select must name fields, e.g. select[content]=true.");
    ck_assert_str_eq(select_refusal("select[nope]=true"),
                     "select names no field nope.");
    ck_assert_str_eq(select_refusal("select[content]=maybe"),
                     "select[content] must be true or false.");
    ck_assert_str_eq(select_refusal("populate=users"),
                     "populate must name a collection, e.g. "
                     "populate[users][email]=true.");
    ck_assert_str_eq(select_refusal("populate[posts][x]=true"),
                     "populate names no related collection posts.");
    ck_assert_str_eq(select_refusal("populate[users][nope]=true"),
                     "populate[users] names no field nope.");
}
END_TEST

/* select keeps id and the fields set true, or drops those set false */
START_TEST(select_shapes_docs)
{
    const char *doc = "[{\"id\":1,\"sender\":{\"id\":2,\"email\":\"e\","
                      "\"collection\":\"users\"},\"content\":\"c\","
                      "\"createdAt\":\"t\"}]";
    static const char *const cases[][2] = {
        {"select[content]=true",
         "[{\"id\":1,\"content\":\"c\"}]"},
        {"select[content]=false&select[createdAt]=0",
         "[{\"id\":1,\"sender\":{\"id\":2,\"email\":\"e\","
         "\"collection\":\"users\"}}]"},
        {"populate[users][email]=false",
         "[{\"id\":1,\"sender\":{\"id\":2,\"collection\":\"users\"},"
         "\"content\":\"c\",\"createdAt\":\"t\"}]"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pchat_error *err = NULL;
        json_t *qs = pchat_qs_parse(unit_pool, cases[i][0], &err);
        json_t *docs = pchat_json_parse(unit_pool, doc, strlen(doc));

        ck_assert_ptr_null(pchat_query_select(unit_pool, &pchat_messages, qs,
                                              docs));
        ck_assert_str_eq(pchat_json_pstr(unit_pool, docs), cases[i][1]);
    }
}
END_TEST

Suite *unit_query_suite(void)
{
    Suite *s = suite_create("query");
    TCase *qs = unit_tcase("qs");
    TCase *params_tc = unit_tcase("parameters");

    tcase_add_test(qs, qs_plain_and_nested_keys);
    tcase_add_test(qs, qs_arrays);
    tcase_add_test(qs, qs_refusals);
    tcase_add_test(params_tc, paging_defaults);
    tcase_add_test(params_tc, paging_values);
    tcase_add_test(params_tc, paging_fallbacks);
    tcase_add_test(params_tc, paging_bounds);
    tcase_add_test(params_tc, sort_orders);
    tcase_add_test(params_tc, sort_refusals);
    tcase_add_test(params_tc, select_and_populate_refusals);
    tcase_add_test(params_tc, select_shapes_docs);
    suite_add_tcase(s, qs);
    suite_add_tcase(s, params_tc);
    return s;
}
