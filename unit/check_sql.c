/* The SQL builder (src/pchat_sql.c): text with placeholders, the bound
 * values in order with their types, linear growth, and statement keys
 * (the count cache and the stream's shared filters rely on them). */
#include "unit.h"
#include "pchat_sql.h"

static apr_int64_t int_arg(const pchat_sql *sql, int i)
{
    return *APR_ARRAY_IDX(sql->args, i, const apr_int64_t *);
}

static const char *str_arg(const pchat_sql *sql, int i)
{
    return APR_ARRAY_IDX(sql->args, i, const char *);
}

static const char *types(const pchat_sql *sql)
{
    return apr_pstrmemdup(unit_pool, sql->types->elts, sql->types->nelts);
}

START_TEST(text_appends_in_order)
{
    pchat_sql *sql = pchat_sql_make(unit_pool, "SELECT id");

    pchat_sql_add(sql, " FROM users");
    pchat_sql_addv(sql, " WHERE ", "email", " IS NOT NULL", NULL);
    ck_assert_str_eq(sql->text,
                     "SELECT id FROM users WHERE email IS NOT NULL");
    ck_assert_uint_eq(sql->len, strlen(sql->text));
    ck_assert_int_eq(sql->args->nelts, 0);
}
END_TEST

START_TEST(values_are_bound_with_their_types)
{
    pchat_sql *sql = pchat_sql_make(unit_pool, "sender = ");

    pchat_sql_int(sql, -9223372036854775807LL - 1);
    pchat_sql_add(sql, " AND content = ");
    pchat_sql_str(sql, "'; DROP TABLE messages; --");
    ck_assert_str_eq(sql->text, "sender = %lld AND content = %s");
    ck_assert_str_eq(types(sql), "is");
    ck_assert_int_eq(int_arg(sql, 0), -9223372036854775807LL - 1);
    ck_assert_str_eq(str_arg(sql, 1), "'; DROP TABLE messages; --");
}
END_TEST

START_TEST(cat_appends_text_and_values)
{
    pchat_sql *a = pchat_sql_make(unit_pool, "(a = ");
    pchat_sql *b = pchat_sql_make(unit_pool, "b IN (");

    pchat_sql_int(a, 7);
    pchat_sql_add(a, ") AND ");
    pchat_sql_str(b, "x");
    pchat_sql_add(b, ", ");
    pchat_sql_int(b, 8);
    pchat_sql_add(b, ")");
    pchat_sql_cat(a, b);
    ck_assert_str_eq(a->text, "(a = %lld) AND b IN (%s, %lld)");
    ck_assert_str_eq(types(a), "isi");
    ck_assert_int_eq(int_arg(a, 0), 7);
    ck_assert_str_eq(str_arg(a, 1), "x");
    ck_assert_int_eq(int_arg(a, 2), 8);
    /* the part is left as it was */
    ck_assert_str_eq(b->text, "b IN (%s, %lld)");
    ck_assert_int_eq(b->args->nelts, 2);
}
END_TEST

/* doubling: 10,000 one-byte appends end in a 16 KB buffer (64 doubled
 * eight times), not one sized to fit after each append */
START_TEST(text_grows_by_doubling)
{
    pchat_sql *sql = pchat_sql_make(unit_pool, "");
    int i;

    ck_assert_uint_eq(sql->cap, 64);
    for (i = 0; i < 10000; i++) {
        pchat_sql_add(sql, i % 2 ? "b" : "a");
    }
    ck_assert_uint_eq(sql->len, 10000);
    ck_assert_uint_eq(sql->cap, 16384);
    ck_assert_uint_eq(strlen(sql->text), 10000);
    ck_assert(!strncmp(sql->text + 9996, "abab", 5));
}
END_TEST

START_TEST(a_long_start_is_copied_whole)
{
    char text[301];
    pchat_sql *sql;

    memset(text, 'x', 300);
    text[300] = '\0';
    sql = pchat_sql_make(unit_pool, text);
    pchat_sql_add(sql, "y");
    ck_assert_uint_eq(sql->len, 301);
    ck_assert_str_eq(sql->text + 299, "xy");
}
END_TEST

START_TEST(key_is_text_then_each_value)
{
    pchat_sql *sql = pchat_sql_make(unit_pool, "a = ");

    pchat_sql_int(sql, -42);
    pchat_sql_add(sql, " AND b = ");
    pchat_sql_str(sql, "x|s1:y");
    pchat_sql_add(sql, " AND c = ");
    pchat_sql_str(sql, "");
    ck_assert_str_eq(pchat_sql_key(unit_pool, sql),
                     "a = %lld AND b = %s AND c = %s|i-42|s6:x|s1:y|s0:");
}
END_TEST

static const char *key_of(apr_int64_t n, const char *s)
{
    pchat_sql *sql = pchat_sql_make(unit_pool, "n = ");

    pchat_sql_int(sql, n);
    pchat_sql_add(sql, " AND s = ");
    pchat_sql_str(sql, s);
    return pchat_sql_key(unit_pool, sql);
}

START_TEST(equal_statements_have_equal_keys)
{
    ck_assert_str_eq(key_of(1, "hello"), key_of(1, "hello"));
    ck_assert_str_ne(key_of(1, "hello"), key_of(2, "hello"));
    ck_assert_str_ne(key_of(1, "hello"), key_of(1, "hellO"));
    ck_assert_str_ne(key_of(12, "3"), key_of(1, "23"));
}
END_TEST

/* values that hold the key's own separators cannot make two statements'
 * keys meet: ("a|sx", "y") and ("a", "x|sy") would both be "|sa|sx|sy"
 * without the lengths */
START_TEST(keys_keep_values_apart)
{
    pchat_sql *one = pchat_sql_make(unit_pool, "");
    pchat_sql *two = pchat_sql_make(unit_pool, "");

    pchat_sql_str(one, "a|sx");
    pchat_sql_str(one, "y");
    pchat_sql_str(two, "a");
    pchat_sql_str(two, "x|sy");
    ck_assert_str_eq(pchat_sql_key(unit_pool, one), "%s%s|s4:a|sx|s1:y");
    ck_assert_str_eq(pchat_sql_key(unit_pool, two), "%s%s|s1:a|s4:x|sy");
}
END_TEST

Suite *unit_sql_suite(void)
{
    Suite *s = suite_create("sql");
    TCase *tc = unit_tcase("builder");

    tcase_add_test(tc, text_appends_in_order);
    tcase_add_test(tc, values_are_bound_with_their_types);
    tcase_add_test(tc, cat_appends_text_and_values);
    tcase_add_test(tc, text_grows_by_doubling);
    tcase_add_test(tc, a_long_start_is_copied_whole);
    tcase_add_test(tc, key_is_text_then_each_value);
    tcase_add_test(tc, equal_statements_have_equal_keys);
    tcase_add_test(tc, keys_keep_values_apart);
    suite_add_tcase(s, tc);
    return s;
}
