/* ISO-8601 dates (src/pchat_time.c): what where values and bodies may
 * carry, the instant each means, and the text the API writes back. */
#include "unit.h"
#include "pchat_time.h"

/* The instant text means, failing the test when it is refused. */
static apr_int64_t parsed(const char *text)
{
    apr_int64_t ms = 0;

    ck_assert_msg(pchat_time_parse(text, &ms) == 0, "refused '%s'", text);
    return ms;
}

static const char *formatted(apr_int64_t ms)
{
    char *buf = apr_palloc(unit_pool, PCHAT_ISO_LEN);

    pchat_time_format(buf, ms);
    return buf;
}

START_TEST(format_writes_utc_with_milliseconds)
{
    ck_assert_str_eq(formatted(0), "1970-01-01T00:00:00.000Z");
    ck_assert_str_eq(formatted(1795514400000LL), "2026-11-24T10:00:00.000Z");
    ck_assert_str_eq(formatted(1709251199999LL), "2024-02-29T23:59:59.999Z");
    /* before the epoch the milliseconds still count up within the second */
    ck_assert_str_eq(formatted(-1), "1969-12-31T23:59:59.999Z");
    ck_assert_str_eq(formatted(-1001), "1969-12-31T23:59:58.999Z");
}
END_TEST

START_TEST(parse_reads_each_form)
{
    ck_assert_int_eq(parsed("2026-11-24T10:00:00.000Z"), 1795514400000LL);
    ck_assert_int_eq(parsed("2026-11-24t10:00:00.000z"), 1795514400000LL);
    ck_assert_int_eq(parsed("2026-11-24 10:00:00"), 1795514400000LL);
    ck_assert_int_eq(parsed("2026-11-24T10:00"), 1795514400000LL);
    ck_assert_int_eq(parsed("2026-11-24"), 1795514400000LL - 10 * 3600000);
    ck_assert_int_eq(parsed("2026-11-24T10:00:00.5Z"), 1795514400500LL);
    /* digits past the millisecond are cut, not rounded */
    ck_assert_int_eq(parsed("2026-11-24T10:00:00.1239Z"), 1795514400123LL);
}
END_TEST

START_TEST(parse_applies_the_offset)
{
    ck_assert_int_eq(parsed("2026-01-31T12:00:00+02:00"), 1769853600000LL);
    ck_assert_int_eq(parsed("2026-01-31T12:00:00+0200"), 1769853600000LL);
    ck_assert_int_eq(parsed("2026-01-31T12:00:00-05:30"), 1769880600000LL);
    ck_assert_int_eq(parsed("2026-01-31T10:00:00Z"),
                     parsed("2026-01-31T12:00:00+02:00"));
}
END_TEST

START_TEST(parse_knows_leap_years)
{
    ck_assert_int_eq(parsed("2000-02-29"), 951782400000LL);
    parsed("2024-02-29");
    ck_assert_int_eq(pchat_time_parse("2026-02-29", &(apr_int64_t){0}), -1);
    ck_assert_int_eq(pchat_time_parse("1900-02-29", &(apr_int64_t){0}), -1);
    ck_assert_int_eq(pchat_time_parse("2026-04-31", &(apr_int64_t){0}), -1);
}
END_TEST

START_TEST(parse_refuses_what_is_not_a_date)
{
    static const char *const bad[] = {
        "", "2026", "2026-1-01", "2026-01-1", "26-01-01", "2026/01/01",
        "2026-00-10", "2026-13-01", "2026-01-00", "2026-01-32",
        "2026-01-01T", "2026-01-01T10", "2026-01-01T10:0", "2026-01-01T24:00",
        "2026-01-01T10:60", "2026-01-01T10:00:60", "2026-01-01T10:00:00.",
        "2026-01-01T10:00:00Zx", "2026-01-01Z", "2026-01-01T10:00+24:00",
        "2026-01-01T10:00+01:60", "2026-01-01T10:00+1", " 2026-01-01",
        "2026-01-01 ", "２０２６-01-01", "1e3",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        apr_int64_t ms = 12345;
        ck_assert_msg(pchat_time_parse(bad[i], &ms) == -1,
                      "'%s' was read as %lld", bad[i], (long long)ms);
    }
    ck_assert_int_eq(pchat_time_parse(NULL, &(apr_int64_t){0}), -1);
}
END_TEST

/* years 0001-9999 once in UTC: what JavaScript's Date reads back */
START_TEST(parse_keeps_years_0001_to_9999)
{
    apr_int64_t ms;

    ck_assert_int_eq(parsed("0001-01-01T00:00:00.000Z"), -62135596800000LL);
    ck_assert_int_eq(parsed("9999-12-31T23:59:59.999Z"), 253402300799999LL);
    ck_assert_int_eq(parsed("0001-01-01T00:30:00+00:30"), -62135596800000LL);
    ck_assert_int_eq(pchat_time_parse("0000-12-31T23:59:59.999Z", &ms), -1);
    ck_assert_int_eq(pchat_time_parse("0001-01-01T00:00:00+00:01", &ms), -1);
    ck_assert_int_eq(pchat_time_parse("9999-12-31T23:59:59.999-00:01", &ms),
                     -1);
}
END_TEST

START_TEST(format_and_parse_round_trip)
{
    static const char *const dates[] = {
        "0001-01-01T00:00:00.000Z", "0999-03-01T01:02:03.004Z",
        "1969-12-31T23:59:59.999Z", "1970-01-01T00:00:00.000Z",
        "2000-02-29T12:34:56.789Z", "2026-11-24T10:00:00.000Z",
        "9999-12-31T23:59:59.999Z",
    };
    size_t i;

    for (i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
        ck_assert_str_eq(formatted(parsed(dates[i])), dates[i]);
    }
    /* and every millisecond of a day at the range's ends */
    for (i = 0; i < 86400000; i += 999983) {
        apr_int64_t low = -62135596800000LL + (apr_int64_t)i;
        apr_int64_t high = 253402300799999LL - (apr_int64_t)i;
        ck_assert_int_eq(parsed(formatted(low)), low);
        ck_assert_int_eq(parsed(formatted(high)), high);
    }
}
END_TEST

START_TEST(now_is_the_clock_in_milliseconds)
{
    apr_int64_t before = apr_time_as_msec(apr_time_now());
    apr_int64_t now = pchat_now_ms();

    ck_assert_int_ge(now, before);
    ck_assert_int_le(now, before + 60000);
}
END_TEST

Suite *unit_time_suite(void)
{
    Suite *s = suite_create("time");
    TCase *tc = unit_tcase("iso8601");

    tcase_add_test(tc, format_writes_utc_with_milliseconds);
    tcase_add_test(tc, parse_reads_each_form);
    tcase_add_test(tc, parse_applies_the_offset);
    tcase_add_test(tc, parse_knows_leap_years);
    tcase_add_test(tc, parse_refuses_what_is_not_a_date);
    tcase_add_test(tc, parse_keeps_years_0001_to_9999);
    tcase_add_test(tc, format_and_parse_round_trip);
    tcase_add_test(tc, now_is_the_clock_in_milliseconds);
    suite_add_tcase(s, tc);
    return s;
}
