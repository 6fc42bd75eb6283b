/* The pagination envelope of a find (pchat_api_envelope in
 * src/pchat_api.c): Payload's keys in Payload's order, for the first,
 * middle, last and a past-the-end page, no matches, limit 0 and
 * pagination=false. */
#include "unit.h"
#include "pchat_api.h"

static pchat_query page_query(int limit, int page, int paginate)
{
    pchat_query q = {0};

    q.limit = limit;
    q.page = page;
    q.paginate = paginate;
    return q;
}

/* The envelope of n docs (ids 1..n) for the page, as compact JSON with
 * the docs left out ("docs":N stands for the array of N). */
static const char *envelope(int limit, int page, int paginate, int ndocs,
                            apr_int64_t total)
{
    pchat_query q = page_query(limit, page, paginate);
    json_t *docs = pchat_json_own(unit_pool, json_array()), *env;
    int i;

    for (i = 1; i <= ndocs; i++) {
        json_array_append_new(docs, json_pack("{s:i}", "id", i));
    }
    env = pchat_json_own(unit_pool, pchat_api_envelope(docs, &q, total));
    ck_assert_ptr_eq(json_object_get(env, "docs"), docs);
    json_object_set_new(env, "docs", json_integer(ndocs));
    return pchat_json_pstr(unit_pool, env);
}

START_TEST(first_page)
{
    ck_assert_str_eq(envelope(10, 1, 1, 10, 25),
                     "{\"docs\":10,\"hasNextPage\":true,\"hasPrevPage\":false,"
                     "\"limit\":10,\"nextPage\":2,\"page\":1,"
                     "\"pagingCounter\":1,\"prevPage\":null,"
                     "\"totalDocs\":25,\"totalPages\":3}");
}
END_TEST

START_TEST(middle_page)
{
    ck_assert_str_eq(envelope(10, 2, 1, 10, 25),
                     "{\"docs\":10,\"hasNextPage\":true,\"hasPrevPage\":true,"
                     "\"limit\":10,\"nextPage\":3,\"page\":2,"
                     "\"pagingCounter\":11,\"prevPage\":1,"
                     "\"totalDocs\":25,\"totalPages\":3}");
}
END_TEST

START_TEST(last_page)
{
    ck_assert_str_eq(envelope(10, 3, 1, 5, 25),
                     "{\"docs\":5,\"hasNextPage\":false,\"hasPrevPage\":true,"
                     "\"limit\":10,\"nextPage\":null,\"page\":3,"
                     "\"pagingCounter\":21,\"prevPage\":2,"
                     "\"totalDocs\":25,\"totalPages\":3}");
    /* a total that fills its last page exactly */
    ck_assert_str_eq(envelope(10, 2, 1, 10, 20),
                     "{\"docs\":10,\"hasNextPage\":false,\"hasPrevPage\":true,"
                     "\"limit\":10,\"nextPage\":null,\"page\":2,"
                     "\"pagingCounter\":11,\"prevPage\":1,"
                     "\"totalDocs\":20,\"totalPages\":2}");
}
END_TEST

START_TEST(page_past_the_end)
{
    ck_assert_str_eq(envelope(10, 5, 1, 0, 25),
                     "{\"docs\":0,\"hasNextPage\":false,\"hasPrevPage\":true,"
                     "\"limit\":10,\"nextPage\":null,\"page\":5,"
                     "\"pagingCounter\":41,\"prevPage\":4,"
                     "\"totalDocs\":25,\"totalPages\":3}");
}
END_TEST

/* no match is still one page */
START_TEST(no_documents)
{
    ck_assert_str_eq(envelope(10, 1, 1, 0, 0),
                     "{\"docs\":0,\"hasNextPage\":false,\"hasPrevPage\":false,"
                     "\"limit\":10,\"nextPage\":null,\"page\":1,"
                     "\"pagingCounter\":1,\"prevPage\":null,"
                     "\"totalDocs\":0,\"totalPages\":1}");
}
END_TEST

/* limit=0: every match on one page */
START_TEST(limit_zero)
{
    ck_assert_str_eq(envelope(0, 1, 1, 25, 25),
                     "{\"docs\":25,\"hasNextPage\":false,\"hasPrevPage\":false,"
                     "\"limit\":0,\"nextPage\":null,\"page\":1,"
                     "\"pagingCounter\":1,\"prevPage\":null,"
                     "\"totalDocs\":25,\"totalPages\":1}");
}
END_TEST

START_TEST(limit_one)
{
    ck_assert_str_eq(envelope(1, 1000000000, 1, 0, 3000000000LL),
                     "{\"docs\":0,\"hasNextPage\":true,\"hasPrevPage\":true,"
                     "\"limit\":1,\"nextPage\":1000000001,\"page\":1000000000,"
                     "\"pagingCounter\":1000000000,\"prevPage\":999999999,"
                     "\"totalDocs\":3000000000,\"totalPages\":3000000000}");
}
END_TEST

/* pagination=false: the docs returned are the total, on one page, with
 * the limit and page that were given */
START_TEST(pagination_off)
{
    ck_assert_str_eq(envelope(0, 1, 0, 25, 25),
                     "{\"docs\":25,\"hasNextPage\":false,\"hasPrevPage\":false,"
                     "\"limit\":0,\"nextPage\":null,\"page\":1,"
                     "\"pagingCounter\":1,\"prevPage\":null,"
                     "\"totalDocs\":25,\"totalPages\":1}");
    ck_assert_str_eq(envelope(5, 2, 0, 5, 25),
                     "{\"docs\":5,\"hasNextPage\":false,\"hasPrevPage\":false,"
                     "\"limit\":5,\"nextPage\":null,\"page\":2,"
                     "\"pagingCounter\":1,\"prevPage\":null,"
                     "\"totalDocs\":5,\"totalPages\":1}");
}
END_TEST

/* the envelope holds a reference of its own to the docs */
START_TEST(docs_are_shared_not_taken)
{
    pchat_query q = page_query(10, 1, 1);
    json_t *docs = json_array(), *env;

    env = pchat_api_envelope(docs, &q, 0);
    ck_assert_int_eq(docs->refcount, 2);
    json_decref(env);
    ck_assert_int_eq(docs->refcount, 1);
    json_decref(docs);
}
END_TEST

Suite *unit_envelope_suite(void)
{
    Suite *s = suite_create("envelope");
    TCase *tc = unit_tcase("pages");

    tcase_add_test(tc, first_page);
    tcase_add_test(tc, middle_page);
    tcase_add_test(tc, last_page);
    tcase_add_test(tc, page_past_the_end);
    tcase_add_test(tc, no_documents);
    tcase_add_test(tc, limit_zero);
    tcase_add_test(tc, limit_one);
    tcase_add_test(tc, pagination_off);
    tcase_add_test(tc, docs_are_shared_not_taken);
    suite_add_tcase(s, tc);
    return s;
}
