/* Stream cursors (pchat_cursor_parse in src/pchat_query.c): what the
 * stream reads from Last-Event-ID or ?since= before it resumes; anything
 * else is a 400 there.  Only whole decimal event ids that fit count. */
#include "unit.h"
#include "pchat_query.h"

static apr_int64_t cursor_of(const char *text)
{
    apr_int64_t cursor = -1;

    ck_assert_msg(pchat_cursor_parse(text, &cursor) == 0, "refused '%s'",
                  text);
    return cursor;
}

START_TEST(event_ids_are_read_exactly)
{
    ck_assert_int_eq(cursor_of("0"), 0);
    ck_assert_int_eq(cursor_of("42"), 42);
    ck_assert_int_eq(cursor_of("000042"), 42);
    ck_assert_int_eq(cursor_of("999999999999999999"), 999999999999999999LL);
}
END_TEST

START_TEST(anything_else_is_refused)
{
    static const char *const bad[] = {
        "", " 1", "1 ", "+1", "-1", "1.5", "1e3", "0x10", "12a", "abc",
        "１", "9999999999999999999", "1000000000000000000",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        apr_int64_t cursor = 7;
        ck_assert_msg(pchat_cursor_parse(bad[i], &cursor) == -1,
                      "'%s' was read as %lld", bad[i], (long long)cursor);
        ck_assert_int_eq(cursor, 7);
    }
}
END_TEST

/* ?since= as the stream receives it: through the query string parser */
START_TEST(since_from_the_query_string)
{
    pchat_error *err = NULL;
    json_t *qs = pchat_qs_parse(unit_pool, "since=%31%32&x=1", &err);

    ck_assert_ptr_nonnull(qs);
    ck_assert_int_eq(cursor_of(json_string_value(json_object_get(qs,
                                                                 "since"))),
                     12);
}
END_TEST

Suite *unit_cursor_suite(void)
{
    Suite *s = suite_create("cursor");
    TCase *tc = unit_tcase("cursor");

    tcase_add_test(tc, event_ids_are_read_exactly);
    tcase_add_test(tc, anything_else_is_refused);
    tcase_add_test(tc, since_from_the_query_string);
    suite_add_tcase(s, tc);
    return s;
}
