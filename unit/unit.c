/* The unit test runner: every suite, or those named on the command line,
 * each with its count; exits non-zero when a test fails.  The tests run in
 * this process: a fork per test under ASan took 25 times as long (44 s
 * against 1.8 s on a loaded machine), and a crash fails the run anyway.
 * CK_FORK=yes isolates each test in a child. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "pchat_config.h"

apr_pool_t *unit_pool;

static void pool_setup(void)
{
    apr_pool_create(&unit_pool, NULL);
}

static void pool_teardown(void)
{
    apr_pool_destroy(unit_pool);
    unit_pool = NULL;
}

TCase *unit_tcase(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    /* bounds for a loaded machine; each test takes milliseconds */
    tcase_set_timeout(tc, 60);
    return tc;
}

server_rec *unit_server(void)
{
    server_rec *s = apr_pcalloc(unit_pool, sizeof(*s));
    void **configs = apr_pcalloc(unit_pool, sizeof(void *));

    /* the stubs' payloadchat_module has index 0 */
    configs[0] = pchat_create_server_conf(unit_pool, s);
    s->module_config = (ap_conf_vector_t *)configs;
    s->defn_name = "unit.conf";
    s->defn_line_number = 1;
    return s;
}

request_rec *unit_request(server_rec *s)
{
    request_rec *r = apr_pcalloc(unit_pool, sizeof(*r));

    r->pool = unit_pool;
    r->server = s;
    r->headers_in = apr_table_make(unit_pool, 4);
    return r;
}

const char *unit_join(int n, const char *sep, const char *fmt)
{
    apr_array_header_t *items = apr_array_make(unit_pool, n * 2,
                                               sizeof(char *));
    int i;

    for (i = 1; i <= n; i++) {
        APR_ARRAY_PUSH(items, const char *) = i > 1 ? sep : "";
        APR_ARRAY_PUSH(items, const char *) = apr_psprintf(unit_pool, fmt, i);
    }
    return apr_array_pstrcat(unit_pool, items, 0);
}

static const command_rec *directive_named(const char *name)
{
    const command_rec *d;

    for (d = pchat_directives; d->name; d++) {
        if (!strcmp(d->name, name)) {
            return d;
        }
    }
    ck_abort_msg("no directive %s", name);
    return NULL;
}

/* As httpd's ap_set_config: ITERATE calls the setter once a word, a FLAG
 * takes On or Off. */
const char *unit_directive(server_rec *s, const char *name, const char *arg,
                           const char *arg2)
{
    const command_rec *d = directive_named(name);
    cmd_parms *cmd = apr_pcalloc(unit_pool, sizeof(*cmd));
    char *words, *word, *state;
    const char *err = NULL;

    cmd->pool = cmd->temp_pool = unit_pool;
    cmd->server = s;
    cmd->cmd = d;
    cmd->info = d->cmd_data;
    switch (d->args_how) {
    case FLAG:
        ck_assert(!strcasecmp(arg, "On") || !strcasecmp(arg, "Off"));
        return d->AP_FLAG(cmd, NULL, !strcasecmp(arg, "On"));
    case TAKE2:
        return d->AP_TAKE2(cmd, NULL, arg, arg2);
    case ITERATE:
        words = apr_pstrdup(unit_pool, arg);
        for (word = apr_strtok(words, " ", &state); word && !err;
             word = apr_strtok(NULL, " ", &state)) {
            err = d->AP_TAKE1(cmd, NULL, word);
        }
        return err;
    default:
        return d->AP_TAKE1(cmd, NULL, arg);
    }
}

static const struct {
    const char *name;
    Suite *(*make)(void);
} suites[] = {
    {"config", unit_config_suite},     {"cursor", unit_cursor_suite},
    {"envelope", unit_envelope_suite}, {"jwt", unit_jwt_suite},
    {"query", unit_query_suite},       {"sql", unit_sql_suite},
    {"time", unit_time_suite},         {"where", unit_where_suite},
};

static int wanted(const char *name, int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], name)) {
            return 1;
        }
    }
    return argc < 2;
}

int main(int argc, char **argv)
{
    int tests = 0, failed = 0;
    size_t i;

    apr_initialize();
    for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        SRunner *sr;

        if (!wanted(suites[i].name, argc, argv)) {
            continue;
        }
        sr = srunner_create(suites[i].make());
        if (!getenv("CK_FORK")) {
            srunner_set_fork_status(sr, CK_NOFORK);
        }
        /* CK_VERBOSITY=verbose lists each test */
        srunner_run_all(sr, CK_ENV);
        tests += srunner_ntests_run(sr);
        failed += srunner_ntests_failed(sr);
        srunner_free(sr);
    }
    printf("unit: %d tests, %d failed\n", tests, failed);
    apr_terminate();
    return failed || !tests ? 1 : 0;
}
