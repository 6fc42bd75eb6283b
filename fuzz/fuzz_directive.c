/* Directive values: every PayloadChat* directive's setter, given the input
 * as its argument (the first space splits two-argument ones), must either
 * accept it or explain why naming the directive, as httpd.conf errors do. */
#include "fuzz_common.h"
#include "httpd.h"
#include "http_config.h"
#include "pchat_config.h"

static const char *call(const command_rec *d, cmd_parms *cmd, void *conf,
                        char *arg)
{
    char *space = strchr(arg, ' ');

    switch (d->args_how) {
    case TAKE1:
    case ITERATE:
        return d->AP_TAKE1(cmd, conf, arg);
    case FLAG:
        return d->AP_FLAG(cmd, conf, arg[0] & 1);
    case TAKE2:
        if (!space) {
            return d->AP_TAKE2(cmd, conf, arg, "");
        }
        *space = '\0';
        return d->AP_TAKE2(cmd, conf, arg, space + 1);
    default:
        return NULL;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *text = fuzz_text(&p, data, size);
    const command_rec *d;

    for (d = pchat_directives; d->name; d++) {
        server_rec s;
        void *configs[1];
        cmd_parms cmd;
        const char *err;

        memset(&s, 0, sizeof(s));
        memset(&cmd, 0, sizeof(cmd));
        configs[0] = pchat_create_server_conf(p, &s);
        s.module_config = (ap_conf_vector_t *)configs;
        cmd.pool = cmd.temp_pool = p;
        cmd.server = &s;
        cmd.cmd = d;
        cmd.info = d->cmd_data;
        err = call(d, &cmd, NULL, apr_pstrdup(p, text));
        if (err && !strstr(err, d->name)) {
            abort();   /* an error must name its directive */
        }
    }
    apr_pool_destroy(p);
    return 0;
}
