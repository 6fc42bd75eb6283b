/* where, from the query string to SQL (src/pchat_query.c): the text and
 * every bound value for each operator, and/or nesting, relations, dates,
 * and the error (status, message) for each kind of bad where. */
#include "unit.h"
#include "pchat_query.h"
#include "pchat_config.h"

/* The parsed query string's where. */
static json_t *where_in(const char *args)
{
    pchat_error *err = NULL;
    json_t *qs = pchat_qs_parse(unit_pool, args, &err);

    ck_assert_msg(qs, "'%s' refused: %s", args, err ? err->message : "");
    return json_object_get(qs, "where");
}

/* The bound values as text: 12, 'abc'. */
static const char *values_of(const pchat_sql *sql)
{
    const char *out = "";
    int i;

    for (i = 0; i < sql->args->nelts; i++) {
        const void *v = APR_ARRAY_IDX(sql->args, i, const void *);
        out = APR_ARRAY_IDX(sql->types, i, char) == 'i'
              ? apr_psprintf(unit_pool, "%s%s%" APR_INT64_T_FMT, out,
                             i ? ", " : "", *(const apr_int64_t *)v)
              : apr_psprintf(unit_pool, "%s%s'%s'", out, i ? ", " : "",
                             (const char *)v);
    }
    return out;
}

static pchat_sql *compiled(const pchat_collection *c, const char *args)
{
    pchat_sql *sql = NULL;
    pchat_error *err = pchat_where_compile(unit_pool, c, where_in(args), &sql);

    ck_assert_msg(!err, "'%s' refused: %s", args, err ? err->message : "");
    return sql;
}

/* The error compiling the where of args within the limits. */
static pchat_error *refused_within(const pchat_collection *c,
                                   const char *args, int max_depth,
                                   int max_terms, unsigned hidden)
{
    pchat_sql *sql = NULL;
    pchat_error *err = pchat_where_compile_limited(
        unit_pool, c, where_in(args), max_depth, max_terms, hidden, 0, &sql);

    ck_assert_msg(err != NULL, "'%s' compiled to %s", args,
                  sql ? sql->text : "");
    ck_assert_int_eq(err->status, HTTP_BAD_REQUEST);
    return err;
}

static const char *refusal(const pchat_collection *c, const char *args)
{
    return refused_within(c, args, 10, 200, 0)->message;
}

#define ck_assert_where(c, args, sql_text, values) do { \
        pchat_sql *where_ = compiled(c, args); \
        ck_assert_str_eq(where_->text, sql_text); \
        ck_assert_str_eq(values_of(where_), values); \
    } while (0)

#define MSG (&pchat_messages)
#define USERS (&pchat_users)
#define LIKE(col) "LOWER(" col ") LIKE LOWER(%s) ESCAPE '\\'"

START_TEST(no_where_matches_all)
{
    ck_assert_where(MSG, "limit=5", "1=1", "");
}
END_TEST

START_TEST(comparisons)
{
    ck_assert_where(MSG, "where[sender][equals]=1", "((sender = %lld))", "1");
    ck_assert_where(MSG, "where[id][not_equals]=-3", "((id <> %lld))", "-3");
    ck_assert_where(MSG, "where[content][equals]=hi%20there",
                    "((content = %s))", "'hi there'");
    ck_assert_where(USERS, "where[email][greater_than]=a&"
                    "where[id][less_than_equal]=9",
                    "((email > %s) AND (id <= %lld))", "'a', 9");
    ck_assert_where(MSG, "where[id][greater_than_equal]=2&"
                    "where[id][less_than]=5",
                    "((id >= %lld AND id < %lld))", "2, 5");
}
END_TEST

/* equals with a value no id can have matches nothing, as in Payload */
START_TEST(equals_a_non_number_id_matches_nothing)
{
    ck_assert_where(MSG, "where[sender][equals]=abc", "((1=0))", "");
    ck_assert_str_eq(refusal(MSG, "where[sender][greater_than]=abc"),
                     "The value of sender must be a number, got 'abc'.");
    ck_assert_str_eq(refusal(MSG, "where[id][in]=1,99999999999999999999"),
                     "The value of id must be a number, got "
                     "'99999999999999999999'.");
}
END_TEST

START_TEST(and_or_nesting)
{
    ck_assert_where(MSG, "where[or][0][sender][equals]=1&"
                    "where[or][1][receiver][equals]=1",
                    "((((sender = %lld)) OR ((receiver = %lld))))", "1, 1");
    ck_assert_where(MSG, "where[or][0][sender][equals]=1&"
                    "where[or][1][and][0][receiver][equals]=2&"
                    "where[or][1][and][1][content][like]=hi",
                    "((((sender = %lld)) OR ((((receiver = %lld)) AND "
                    "(((" LIKE("content") ")))))))",
                    "1, 2, '%hi%'");
    /* qs merges where[and][][a]... and where[and][][b]... into one
     * element */
    ck_assert_where(MSG, "where[and][][id][equals]=1&"
                    "where[and][][sender][equals]=2",
                    "((((id = %lld) AND (sender = %lld))))", "1, 2");
}
END_TEST

START_TEST(in_and_not_in)
{
    ck_assert_where(MSG, "where[id][in]=1,2,3",
                    "(((id IN (%lld, %lld, %lld))))",
                    "1, 2, 3");
    ck_assert_where(MSG, "where[id][in][]=4&where[id][in][]=5",
                    "(((id IN (%lld, %lld))))", "4, 5");
    ck_assert_where(MSG, "where[content][in]=a&where[content][in]=b",
                    "(((content IN (%s, %s))))", "'a', 'b'");
    ck_assert_where(MSG, "where[sender][not_in]=4",
                    "(((sender NOT IN (%lld))))", "4");
    ck_assert_where(MSG, "where[content][all]=a,b",
                    "(((content = %s AND content = %s)))", "'a', 'b'");
    /* nothing is in an empty list */
    ck_assert_where(MSG, "where[id][in]=", "((1=0))", "");
    ck_assert_str_eq(refusal(MSG, "where[id][not_in]="),
                     "The not_in list of id is empty.");
    ck_assert_str_eq(refusal(MSG, "where[content][all]="),
                     "The all list of content is empty.");
    ck_assert_str_eq(refusal(MSG, "where[id][in][a]=1"),
                     "The in value of id must be a list (comma-separated or "
                     "repeated).");
}
END_TEST

START_TEST(like_and_contains)
{
    /* every word must appear; LIKE's wildcards are escaped */
    ck_assert_where(MSG, "where[content][like]=Hello%20100%25_off",
                    "(((" LIKE("content") " AND " LIKE("content") ")))",
                    "'%Hello%', '%100\\%\\_off%'");
    /* contains: the whole text */
    ck_assert_where(MSG, "where[content][contains]=a%20b",
                    "((" LIKE("content") "))", "'%a b%'");
    /* ids as their decimal text */
    ck_assert_where(MSG, "where[sender][like]=12",
                    "(((" LIKE("CAST(sender AS TEXT)") ")))", "'%12%'");
    ck_assert_str_eq(refusal(MSG, "where[content][like]=%20%20"),
                     "The like value of content has no words.");
    ck_assert_str_eq(refusal(MSG, "where[content][like][]=a"),
                     "The value of content must be a single value.");
}
END_TEST

START_TEST(exists)
{
    ck_assert_where(MSG, "where[receiver][exists]=true",
                    "((receiver IS NOT NULL))", "");
    ck_assert_where(MSG, "where[receiver][exists]=false",
                    "((receiver IS NULL))", "");
    ck_assert_where(MSG, "where[receiver][exists]=0", "((receiver IS NULL))",
                    "");
    /* Payload matches nothing then */
    ck_assert_where(MSG, "where[receiver][exists]=maybe", "((1=0))", "");
}
END_TEST

/* dates are bound as milliseconds, whatever ISO form they came in */
START_TEST(dates)
{
    ck_assert_where(MSG, "where[createdAt][greater_than]=2026-01-01",
                    "((created_at > %lld))", "1767225600000");
    ck_assert_where(MSG, "where[timestamp][less_than]="
                    "2026-01-31T14:00:00%2B02:00",
                    "((ts < %lld))", "1769860800000");
    ck_assert_where(USERS, "where[updatedAt][in]=2026-01-01,"
                    "2026-01-31T12:00:00.000Z",
                    "(((updated_at IN (%lld, %lld))))",
                    "1767225600000, 1769860800000");
    /* like on a date: the whole date as the API writes it */
    ck_assert_where(MSG, "where[createdAt][like]=2026-01-31T12:00:00.000Z",
                    "((created_at = %lld))", "1769860800000");
    ck_assert_str_eq(refusal(MSG, "where[createdAt][like]=2026-01"),
                     "A like or contains on createdAt takes a whole date as "
                     "the API writes it (2026-01-31T12:00:00.000Z), got "
                     "'2026-01'.");
    ck_assert_str_eq(refusal(MSG, "where[createdAt][equals]=yesterday"),
                     "The value of createdAt must be an ISO-8601 date, got "
                     "'yesterday'.");
    ck_assert_str_eq(refusal(MSG, "where[createdAt][equals]=10000-01-01"),
                     "The value of createdAt must be an ISO-8601 date, got "
                     "'10000-01-01'.");
}
END_TEST

/* relation.field: the ids of the related documents that match */
START_TEST(dotted_relation_paths)
{
    ck_assert_where(MSG, "where[sender.email][equals]=a@example.com",
                    "((sender IN (SELECT id FROM users WHERE "
                    "(email = %s))))", "'a@example.com'");
    ck_assert_where(MSG, "where[receiver.id][in]=1,2",
                    "(((receiver IN (%lld, %lld))))", "1, 2");
    ck_assert_str_eq(refusal(MSG, "where[sender.password][equals]=x"),
                     "The following path cannot be queried: sender.password");
}
END_TEST

START_TEST(unknown_paths_are_a_query_error)
{
    pchat_error *err = refused_within(USERS, "where[nope][equals]=1&"
                                      "where[password][equals]=x&"
                                      "where[email][near]=y", 10, 200, 0);

    ck_assert_str_eq(err->name, "QueryError");
    ck_assert_str_eq(err->message, "The following paths cannot be queried: "
                     "nope, password, email.near");
    ck_assert_str_eq(pchat_json_pstr(unit_pool, err->data),
                     "[{\"path\":\"nope\"},{\"path\":\"password\"},"
                     "{\"path\":\"email.near\"}]");
    /* a field the caller may not read is as unknown */
    err = refused_within(USERS, "where[email][equals]=a", 10, 200,
                         pchat_field_bit_named(USERS, "email"));
    ck_assert_str_eq(err->message,
                     "The following path cannot be queried: email");
}
END_TEST

START_TEST(malformed_wheres)
{
    ck_assert_str_eq(refusal(MSG, "where[content]=x"),
                     "The condition on content must name an operator, e.g. "
                     "where[content][equals]=...");
    ck_assert_str_eq(refusal(MSG, "where[or]=x"),
                     "The or of a where query must be a list of conditions, "
                     "e.g. where[or][0][field][equals]=...");
    ck_assert_str_eq(refusal(MSG, "where[and][x][id][equals]=1"),
                     "The and of a where query must be a list of conditions, "
                     "e.g. where[and][0][field][equals]=...");
    /* a repeated key is a list of values, where one is needed */
    ck_assert_str_eq(refusal(MSG, "where[id][equals]=1&where[id][equals]=2"),
                     "The value of id must be a single value.");
    ck_assert_str_eq(refusal(MSG, "where=1"),
                     "A where clause must be an object of fields or and/or "
                     "lists.");
    ck_assert_str_eq(refusal(MSG, "where[or][0]=1"),
                     "A where clause must be an object of fields or and/or "
                     "lists.");
}
END_TEST

START_TEST(depth_and_term_limits)
{
    ck_assert_str_eq(refused_within(MSG, "where[or][0][or][0][id][equals]=1",
                                    1, 200, 0)->message,
                     "The where query is nested more than 1 levels deep "
                     "(PayloadChatMaxWhereDepth).");
    ck_assert_str_eq(refused_within(MSG, "where[id][in]=1&"
                                    "where[sender][equals]=2&"
                                    "where[receiver][equals]=3", 10, 2,
                                    0)->message,
                     "The where query has more than 2 conditions "
                     "(PayloadChatMaxWhereTerms).");
    /* each word of a like is a condition */
    ck_assert_str_eq(refused_within(MSG, "where[content][like]=a+b+c", 10, 2,
                                    0)->message,
                     "The where query has more than 2 conditions "
                     "(PayloadChatMaxWhereTerms).");
}
END_TEST

/* the server's PayloadChatMaxWhereDepth/Terms, read by the request path */
START_TEST(limits_come_from_the_directives)
{
    server_rec *s = unit_server();
    pchat_sql *sql = NULL;
    pchat_error *err;

    ck_assert_ptr_null(unit_directive(s, "PayloadChatMaxWhereDepth", "1",
                                      NULL));
    err = pchat_where_compile_for(unit_request(s), MSG,
                                  where_in("where[or][0][or][0][id][equals]=1"),
                                  0, 0, &sql);
    ck_assert_ptr_nonnull(err);
    ck_assert_str_eq(err->message, "The where query is nested more than 1 "
                     "levels deep (PayloadChatMaxWhereDepth).");
    err = pchat_where_compile_for(unit_request(s), MSG,
                                  where_in("where[or][0][id][equals]=1"),
                                  0, 0, &sql);
    ck_assert_ptr_null(err);
    ck_assert_str_eq(sql->text, "((((id = %lld))))");
}
END_TEST

/* "1,2,...,n" and "w1+w2+...+wn" */
static const char *list_of(int n)
{
    return unit_join(n, ",", "%d");
}

static const char *words_of(int n)
{
    return unit_join(n, "+", "w%d");
}

START_TEST(size_limits)
{
    ck_assert_str_eq(refusal(MSG, apr_pstrcat(unit_pool, "where[id][in]=",
                                              list_of(501), NULL)),
                     "The in list of id has more than 500 values.");
    ck_assert_str_eq(refusal(MSG, apr_pstrcat(unit_pool, "where[id][in]=",
                     list_of(500), "&where[sender][in]=", list_of(500),
                     "&where[receiver][in]=1", NULL)),
                     "The where query has more than 1000 values.");
    ck_assert_str_eq(refusal(MSG, apr_pstrcat(unit_pool,
                     "where[content][like]=", words_of(101), NULL)),
                     "The like value of content has more than 100 words.");
    compiled(MSG, apr_pstrcat(unit_pool, "where[content][like]=",
                              words_of(100), NULL));
}
END_TEST

/* messages: only live rows, never tombstones; users have none */
START_TEST(live_rows_only)
{
    pchat_sql *where = compiled(MSG, "where[id][equals]=4");

    ck_assert_str_eq(pchat_where_live(unit_pool, MSG, where)->text,
                     "deleted = 0 AND ((id = %lld))");
    ck_assert_str_eq(values_of(pchat_where_live(unit_pool, MSG, where)), "4");
    ck_assert_ptr_eq(pchat_where_live(unit_pool, USERS, where), where);
}
END_TEST

/* statement keys of compiled wheres: equal for the same query, however it
 * was spelled, and different for another */
START_TEST(statement_keys)
{
#define KEY(args) pchat_sql_key(unit_pool, compiled(MSG, args))
    ck_assert_str_eq(KEY("where[sender][equals]=1"),
                     KEY("where%5Bsender%5D%5Bequals%5D=1"));
    ck_assert_str_eq(KEY("where[id][in]=1,2"),
                     KEY("where[id][in][]=1&where[id][in][]=2"));
    ck_assert_str_ne(KEY("where[sender][equals]=1"),
                     KEY("where[sender][equals]=2"));
    ck_assert_str_ne(KEY("where[sender][equals]=1"),
                     KEY("where[receiver][equals]=1"));
    ck_assert_str_ne(KEY("where[content][equals]=1"),
                     KEY("where[content][equals]=01"));
    ck_assert_str_eq(KEY("where[sender][equals]=1"),
                     "((sender = %lld))|i1");
#undef KEY
}
END_TEST

Suite *unit_where_suite(void)
{
    Suite *s = suite_create("where");
    TCase *tc = unit_tcase("sql");
    TCase *errors = unit_tcase("errors");

    tcase_add_test(tc, no_where_matches_all);
    tcase_add_test(tc, comparisons);
    tcase_add_test(tc, and_or_nesting);
    tcase_add_test(tc, in_and_not_in);
    tcase_add_test(tc, like_and_contains);
    tcase_add_test(tc, exists);
    tcase_add_test(tc, dates);
    tcase_add_test(tc, dotted_relation_paths);
    tcase_add_test(tc, live_rows_only);
    tcase_add_test(tc, statement_keys);
    tcase_add_test(errors, equals_a_non_number_id_matches_nothing);
    tcase_add_test(errors, unknown_paths_are_a_query_error);
    tcase_add_test(errors, malformed_wheres);
    tcase_add_test(errors, depth_and_term_limits);
    tcase_add_test(errors, limits_come_from_the_directives);
    tcase_add_test(errors, size_limits);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, errors);
    return s;
}
