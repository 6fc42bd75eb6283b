/* Directives (src/pchat_config.c): each setter accepts its values and
 * refuses others with a message naming the directive, as `apachectl -t`
 * shows it; the defaults the README documents; virtual-host merging; the
 * checks of the whole configuration; the startup notice without secrets. */
#include "unit.h"
#include "pchat_config.h"

/* The setter's error for name with arg on a fresh server, NULL if none. */
static const char *refusal(const char *name, const char *arg)
{
    return unit_directive(unit_server(), name, arg, NULL);
}

/* A server with name set to arg, which must be accepted. */
static server_rec *with(server_rec *s, const char *name, const char *arg)
{
    const char *err = unit_directive(s, name, arg, NULL);

    ck_assert_msg(!err, "%s %s refused: %s", name, arg, err);
    return s;
}

START_TEST(defaults_are_the_documented_ones)
{
    server_rec *s = unit_server();

    ck_assert_int_eq(pchat_conf_enabled(s), 0);
    ck_assert_str_eq(pchat_conf_mount(s), "/api");
    ck_assert_str_eq(pchat_conf_db_driver(s), "sqlite3");
    ck_assert_int_eq(pchat_conf_db_max(s), 16);
    ck_assert_int_eq(pchat_conf_sqlite_sync(s), PCHAT_SYNC_FULL);
    ck_assert_int_eq(pchat_conf_max_body(s), 1048576);
    ck_assert_int_eq(pchat_conf_max_limit(s), 1000);
    ck_assert_int_eq(pchat_conf_poll_ms(s), 1000);
    ck_assert_int_eq(pchat_conf_keepalive_s(s), 30);
    ck_assert_int_eq(pchat_conf_batch(s), 100);
    ck_assert_int_eq(pchat_conf_backlog(s), 20);
    ck_assert_int_eq(pchat_conf_max_subscribers(s), 10000);
    ck_assert_int_eq(pchat_conf_retry_ms(s), 2000);
    ck_assert_int_eq(pchat_conf_stream_suspend(s), 1);
    ck_assert_int_eq(pchat_conf_stream_listen(s), 1);
    ck_assert_int_eq(pchat_conf_tombstone_s(s), 604800);
    ck_assert_int_eq(pchat_conf_access(s), PCHAT_ACCESS_OPEN);
    ck_assert_int_eq(pchat_conf_token_s(s), 7200);
    ck_assert_int_eq(pchat_conf_self_register(s), 1);
    ck_assert_int_eq(pchat_conf_max_login_attempts(s), 5);
    ck_assert_int_eq(pchat_conf_lock_s(s), 600);
    ck_assert_int_eq(pchat_conf_password_min(s), 8);
    ck_assert_int_eq(pchat_conf_max_where_depth(s), 10);
    ck_assert_int_eq(pchat_conf_max_where_terms(s), 200);
    ck_assert_int_eq(pchat_conf_max_streams_per_client(s), 100);
    ck_assert_int_eq(pchat_conf_stream_max_h2(s), 0);
    ck_assert_int_eq(pchat_conf_stream_max_per_h2_conn(s), 4);
    ck_assert_int_eq(pchat_conf_stream_max_h2_conns(s), 0);
    ck_assert_int_eq(pchat_conf_max_logins_per_minute(s), 60);
    ck_assert_ptr_null(pchat_conf_reset_url(s));
    ck_assert_int_eq(pchat_conf_origin_allowed(s, "https://a.example"), 0);
}
END_TEST

/* The whole-number directives: their range, each end accepted and read
 * back through the getter, one past each end refused. */
static const struct {
    const char *name;
    int min, max;
    int (*get)(const server_rec *s);
} ranges[] = {
    {"PayloadChatDBMaxConnections", 1, 1024, pchat_conf_db_max},
    {"PayloadChatMaxLimit", 1, 1000000, pchat_conf_max_limit},
    {"PayloadChatStreamPollInterval", 50, 60000, pchat_conf_poll_ms},
    {"PayloadChatStreamKeepAlive", 1, 3600, pchat_conf_keepalive_s},
    {"PayloadChatStreamBatch", 1, 1000, pchat_conf_batch},
    {"PayloadChatStreamBacklog", 0, 1000, pchat_conf_backlog},
    {"PayloadChatTombstoneRetention", 0, 316224000, pchat_conf_tombstone_s},
    {"PayloadChatStreamMaxSubscribers", 1, 1000000,
     pchat_conf_max_subscribers},
    {"PayloadChatTokenExpiration", 60, 31536000, pchat_conf_token_s},
    {"PayloadChatMaxLoginAttempts", 0, 1000, pchat_conf_max_login_attempts},
    {"PayloadChatLockTime", 1, 31536000, pchat_conf_lock_s},
    {"PayloadChatPasswordMinLength", 1, 1024, pchat_conf_password_min},
    {"PayloadChatStreamRetry", 100, 600000, pchat_conf_retry_ms},
    {"PayloadChatMaxWhereDepth", 1, 10, pchat_conf_max_where_depth},
    {"PayloadChatMaxWhereTerms", 1, 200, pchat_conf_max_where_terms},
    {"PayloadChatStreamMaxPerClient", 1, 1000000,
     pchat_conf_max_streams_per_client},
    {"PayloadChatStreamMaxH2", 0, 1000000, pchat_conf_stream_max_h2},
    {"PayloadChatStreamMaxPerH2Connection", 1, 1000000,
     pchat_conf_stream_max_per_h2_conn},
    {"PayloadChatStreamMaxH2Connections", 0, 1000000,
     pchat_conf_stream_max_h2_conns},
    {"PayloadChatMaxLoginsPerMinute", 0, 1000000,
     pchat_conf_max_logins_per_minute},
};

START_TEST(whole_numbers_within_their_range)
{
    const char *name = ranges[_i].name;
    int min = ranges[_i].min, max = ranges[_i].max;
    const char *range = apr_psprintf(unit_pool, "%s: must be a whole number "
                                     "between %d and %d, got ", name, min,
                                     max);
    const char *below = apr_itoa(unit_pool, min - 1);
    const char *above = apr_itoa(unit_pool, max + 1);

    ck_assert_int_eq(ranges[_i].get(with(unit_server(), name,
                                         apr_itoa(unit_pool, min))), min);
    ck_assert_int_eq(ranges[_i].get(with(unit_server(), name,
                                         apr_itoa(unit_pool, max))), max);
    ck_assert_str_eq(refusal(name, below),
                     apr_pstrcat(unit_pool, range, "'", below, "'", NULL));
    ck_assert_str_eq(refusal(name, above),
                     apr_pstrcat(unit_pool, range, "'", above, "'", NULL));
    ck_assert_str_eq(refusal(name, ""),
                     apr_pstrcat(unit_pool, range, "''", NULL));
    ck_assert_str_eq(refusal(name, "12abc"),
                     apr_pstrcat(unit_pool, range, "'12abc'", NULL));
    ck_assert_str_eq(refusal(name, "99999999999999999999"),
                     apr_pstrcat(unit_pool, range, "'99999999999999999999'",
                                 NULL));
}
END_TEST

START_TEST(body_size)
{
    ck_assert_int_eq(pchat_conf_max_body(with(unit_server(),
                     "PayloadChatMaxBodySize", "65536")), 65536);
    ck_assert_int_eq(pchat_conf_max_body(with(unit_server(),
                     "PayloadChatMaxBodySize", "1073741824")), 1073741824);
    ck_assert_str_eq(refusal("PayloadChatMaxBodySize", "63"),
                     "PayloadChatMaxBodySize: must be a whole number between "
                     "64 and 1073741824, got '63'");
    ck_assert_str_eq(refusal("PayloadChatMaxBodySize", "1073741825"),
                     "PayloadChatMaxBodySize: must be a whole number between "
                     "64 and 1073741824, got '1073741825'");
}
END_TEST

START_TEST(keywords)
{
    ck_assert_int_eq(pchat_conf_stream_suspend(with(unit_server(),
                     "PayloadChatStreamMode", "BLOCKING")), 0);
    ck_assert_int_eq(pchat_conf_stream_suspend(with(unit_server(),
                     "PayloadChatStreamMode", "auto")), 1);
    ck_assert_str_eq(refusal("PayloadChatStreamMode", "sometimes"),
                     "PayloadChatStreamMode: must be auto or blocking, got "
                     "'sometimes'");
    ck_assert_int_eq(pchat_conf_access(with(unit_server(),
                     "PayloadChatAccess", "Members")), PCHAT_ACCESS_MEMBERS);
    ck_assert_int_eq(pchat_conf_access(with(unit_server(),
                     "PayloadChatAccess", "open")), PCHAT_ACCESS_OPEN);
    ck_assert_str_eq(refusal("PayloadChatAccess", "admins"),
                     "PayloadChatAccess: must be open or members, got "
                     "'admins'");
    ck_assert_int_eq(pchat_conf_sqlite_sync(with(unit_server(),
                     "PayloadChatSQLiteSync", "normal")), PCHAT_SYNC_NORMAL);
    ck_assert_int_eq(pchat_conf_sqlite_sync(with(unit_server(),
                     "PayloadChatSQLiteSync", "OFF")), PCHAT_SYNC_OFF);
    ck_assert_str_eq(refusal("PayloadChatSQLiteSync", "EXTRA"),
                     "PayloadChatSQLiteSync: must be FULL, NORMAL or OFF, "
                     "got 'EXTRA'");
}
END_TEST

START_TEST(flags)
{
    server_rec *s = unit_server();

    with(s, "PayloadChat", "On");
    with(s, "PayloadChatStreamListen", "Off");
    with(s, "PayloadChatSelfRegistration", "Off");
    ck_assert_int_eq(pchat_conf_enabled(s), 1);
    ck_assert_int_eq(pchat_conf_stream_listen(s), 0);
    ck_assert_int_eq(pchat_conf_self_register(s), 0);
    with(s, "PayloadChat", "Off");
    ck_assert_int_eq(pchat_conf_enabled(s), 0);
}
END_TEST

START_TEST(secret)
{
    const char *secret = "0123456789abcdef0123456789abcdef";

    ck_assert_str_eq(pchat_conf_secret(with(unit_server(),
                                            "PayloadChatSecret", secret)),
                     secret);
    ck_assert_str_eq(refusal("PayloadChatSecret", secret + 1),
                     "PayloadChatSecret: must be at least 32 characters "
                     "(got 31)");
}
END_TEST

START_TEST(mount)
{
    static const char *const bad[] = {"api", "/", "/api/", "/a?b", "/a#b",
                                      "/a%20b", "/a*", "/a b", ""};
    server_rec *s = with(unit_server(), "PayloadChatMount", "/chat/api");
    size_t i;

    ck_assert_str_eq(pchat_conf_mount(s), "/chat/api");
    /* a mount set on the main server switches the module on there */
    ck_assert_int_eq(pchat_conf_enabled(s), 1);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_str_eq(refusal("PayloadChatMount", bad[i]),
                         apr_psprintf(unit_pool, "PayloadChatMount: must be a "
                                      "URL path such as /api (starting with "
                                      "'/', no trailing '/'), got '%s'",
                                      bad[i]));
    }
}
END_TEST

static const char *set_database(server_rec *s, const char *driver,
                            const char *params)
{
    return unit_directive(s, "PayloadChatDatabase", driver, params);
}

START_TEST(database)
{
    server_rec *s = unit_server();

    /* a relative sqlite path is under ServerRoot (the stubs': /srv/httpd) */
    ck_assert_ptr_null(set_database(s, "sqlite3", "chat.sqlite"));
    ck_assert_str_eq(pchat_conf_db_params(unit_pool, s),
                     "/srv/httpd/chat.sqlite");
    ck_assert_ptr_null(set_database(s, "sqlite3", "/var/lib/chat.sqlite"));
    ck_assert_str_eq(pchat_conf_db_params(unit_pool, s),
                     "/var/lib/chat.sqlite");
    ck_assert_ptr_null(set_database(s, "pgsql", "host=db dbname=chat"));
    ck_assert_str_eq(pchat_conf_db_driver(s), "pgsql");
    ck_assert_str_eq(pchat_conf_db_params(unit_pool, s),
                     "host=db dbname=chat");
    ck_assert_str_eq(set_database(s, "mysql", "x"),
                     "PayloadChatDatabase: driver must be 'sqlite3' or "
                     "'pgsql', got 'mysql'");
    ck_assert_str_eq(set_database(s, "sqlite3", ""),
                     "PayloadChatDatabase: missing connection parameters "
                     "(sqlite3: a file path)");
    /* a refused value leaves the last good one */
    ck_assert_str_eq(pchat_conf_db_driver(s), "pgsql");
}
END_TEST

START_TEST(cors_origins)
{
    server_rec *s = with(unit_server(), "PayloadChatCORSOrigins",
                         "https://a.example https://b.example:8443");

    ck_assert_int_eq(pchat_conf_origin_allowed(s, "https://a.example"), 1);
    ck_assert_int_eq(pchat_conf_origin_allowed(s, "HTTPS://A.EXAMPLE"), 1);
    ck_assert_int_eq(pchat_conf_origin_allowed(s, "https://b.example:8443"),
                     1);
    ck_assert_int_eq(pchat_conf_origin_allowed(s, "https://b.example"), 0);
    ck_assert_int_eq(pchat_conf_origin_allowed(s, NULL), 0);
    s = with(unit_server(), "PayloadChatCORSOrigins", "*");
    ck_assert_int_eq(pchat_conf_origin_allowed(s, "http://any.example"), 1);
    ck_assert_str_eq(refusal("PayloadChatCORSOrigins", "a.example"),
                     "PayloadChatCORSOrigins: each origin must be '*' or "
                     "scheme://host[:port], got 'a.example'");
    ck_assert_str_eq(refusal("PayloadChatCORSOrigins", "https://a.example/"),
                     "PayloadChatCORSOrigins: an origin has no path or "
                     "trailing '/', got 'https://a.example/'");
}
END_TEST

START_TEST(reset_url)
{
    ck_assert_str_eq(pchat_conf_reset_url(with(unit_server(),
                     "PayloadChatResetURL", "https://chat.example/reset")),
                     "https://chat.example/reset");
    ck_assert_ptr_null(pchat_conf_reset_url(with(unit_server(),
                       "PayloadChatResetURL", "off")));
}
END_TEST

/* every setter's refusal starts with its directive's name */
START_TEST(errors_name_their_directive)
{
    const command_rec *d;

    for (d = pchat_directives; d->name; d++) {
        const char *err;
        if (d->args_how == FLAG) {
            continue;
        }
        err = unit_directive(unit_server(), d->name, "x", "");
        ck_assert_msg(!err || !strncmp(err, apr_pstrcat(unit_pool, d->name,
                                                        ": ", NULL),
                                       strlen(d->name) + 2),
                      "%s: '%s'", d->name, err);
    }
}
END_TEST

/* a virtual host's configuration over the main server's */
static server_rec *vhost(server_rec *main_s, server_rec *v)
{
    void **configs = (void **)v->module_config;

    configs[0] = pchat_merge_server_conf(unit_pool,
                                         pchat_conf(main_s), pchat_conf(v));
    v->is_virtual = 1;
    return v;
}

START_TEST(virtual_hosts_inherit_and_override)
{
    server_rec *main_s = with(with(unit_server(), "PayloadChat", "On"),
                              "PayloadChatMaxLimit", "50");
    server_rec *v = vhost(main_s, with(unit_server(), "PayloadChatStreamBatch",
                                       "7"));

    ck_assert_int_eq(pchat_conf_enabled(v), 1);
    ck_assert_int_eq(pchat_conf_max_limit(v), 50);
    ck_assert_int_eq(pchat_conf_batch(v), 7);
    ck_assert_int_eq(pchat_conf_batch(main_s), 100);
    /* Off in the virtual host wins */
    v = vhost(main_s, with(unit_server(), "PayloadChat", "Off"));
    ck_assert_int_eq(pchat_conf_enabled(v), 0);
    /* a mount of its own switches a virtual host on; an inherited one
     * does not */
    main_s = with(unit_server(), "PayloadChatMount", "/chat");
    ck_assert_int_eq(pchat_conf_enabled(vhost(main_s, unit_server())), 0);
    ck_assert_int_eq(pchat_conf_enabled(vhost(unit_server(),
                     with(unit_server(), "PayloadChatMount", "/x"))), 1);
}
END_TEST

START_TEST(members_needs_a_secret)
{
    server_rec *s = with(with(unit_server(), "PayloadChat", "On"),
                         "PayloadChatAccess", "members");

    ck_assert_str_eq(pchat_conf_check(unit_pool, s),
                     "PayloadChatAccess: members needs PayloadChatSecret (at "
                     "least 32 characters) in unit.conf:1");
    with(s, "PayloadChatSecret", "0123456789abcdef0123456789abcdef");
    ck_assert_ptr_null(pchat_conf_check(unit_pool, s));
    /* where the module is off, nothing is needed */
    s = with(unit_server(), "PayloadChatAccess", "members");
    ck_assert_ptr_null(pchat_conf_check(unit_pool, s));
}
END_TEST

/* the startup notice names the database without its password */
START_TEST(describe_hides_passwords)
{
    server_rec *s = with(unit_server(), "PayloadChat", "On");

    ck_assert_ptr_null(set_database(s, "pgsql", "host=db password=hunter2 "
                                    "dbname=chat PASSWORD = x user=chat"));
    ck_assert_str_eq(pchat_conf_describe(unit_pool, s),
                     "* serves the chat at /api: access open, database pgsql "
                     "host=db dbname=chat user=chat, streams blocking (a "
                     "thread per stream), body <= 1048576 bytes, limit <= "
                     "1000, streams <= 10000 per node and 100 per address, "
                     "logins per address: 60/min");
    ck_assert_ptr_null(set_database(s, "pgsql",
                                    "postgresql://chat:hunter2@db:5432/chat"));
    ck_assert_ptr_nonnull(strstr(pchat_conf_describe(unit_pool, s),
                                 "database pgsql postgresql://db:5432/chat,"));
}
END_TEST

Suite *unit_config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *setters = unit_tcase("setters");
    TCase *whole = unit_tcase("whole");

    tcase_add_test(setters, defaults_are_the_documented_ones);
    tcase_add_loop_test(setters, whole_numbers_within_their_range, 0,
                        sizeof(ranges) / sizeof(ranges[0]));
    tcase_add_test(setters, body_size);
    tcase_add_test(setters, keywords);
    tcase_add_test(setters, flags);
    tcase_add_test(setters, secret);
    tcase_add_test(setters, mount);
    tcase_add_test(setters, database);
    tcase_add_test(setters, cors_origins);
    tcase_add_test(setters, reset_url);
    tcase_add_test(setters, errors_name_their_directive);
    tcase_add_test(whole, virtual_hosts_inherit_and_override);
    tcase_add_test(whole, members_needs_a_secret);
    tcase_add_test(whole, describe_hides_passwords);
    suite_add_tcase(s, setters);
    suite_add_tcase(s, whole);
    return s;
}
