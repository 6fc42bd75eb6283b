/* Helpers of the chat endpoints (presence, typing, receipts,
 * conversations). */
#include "pchat_chat.h"
#include "pchat_access.h"
#include "pchat_time.h"
#include "pchat_validate.h"

int pchat_chat_need_login(pchat_req *q)
{
    return q->user ? DECLINED
                   : pchat_send_error(q->r, pchat_forbidden(q->r->pool));
}

int pchat_chat_unavailable(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Retry-After", "1");
    return pchat_send_message_error(r, HTTP_SERVICE_UNAVAILABLE,
                                    "The database is not available.");
}

int pchat_chat_server_error(request_rec *r)
{
    return pchat_send_message_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                    "Something went wrong.");
}

static void add_error(json_t *errors, const char *path, const char *message)
{
    json_array_append_new(errors, json_pack("{s:s,s:s,s:s}", "label", path,
                                            "message", message,
                                            "path", path));
}

static pchat_error *invalid_of(apr_pool_t *p, const char *slug,
                               json_t *errors)
{
    pchat_collection c = {0};

    c.slug = slug;
    return pchat_validation_error(p, &c, errors);
}

pchat_error *pchat_chat_invalid(apr_pool_t *p, const char *slug,
                                const char *path, const char *message)
{
    json_t *errors = pchat_json_own(p, json_array());

    add_error(errors, path, message);
    return invalid_of(p, slug, errors);
}

static int is_listed(const char *const *keys, const char *key)
{
    for (; *keys; keys++) {
        if (!strcmp(*keys, key)) {
            return 1;
        }
    }
    return 0;
}

pchat_error *pchat_chat_read_ids(pchat_req *q, const char *slug,
                                 const char *const *keys, apr_int64_t *ids)
{
    apr_pool_t *p = q->r->pool;
    json_t *body, *errors = pchat_json_own(p, json_array()), *v;
    pchat_error *err = pchat_read_json_body(q->r, &body);
    const char *key;
    int i;

    if (err) {
        return err;
    }
    json_object_foreach(body, key, v) {
        if (!is_listed(keys, key)) {
            add_error(errors, key, "This field does not exist.");
        }
    }
    for (i = 0; keys[i]; i++) {
        v = json_object_get(body, keys[i]);
        ids[i] = json_is_integer(v) ? json_integer_value(v) : 0;
        if (!v || json_is_null(v)) {
            add_error(errors, keys[i], "This field is required.");
        }
        else if (ids[i] <= 0) {
            add_error(errors, keys[i], "This field must be an id (a "
                      "positive whole number).");
        }
    }
    return json_array_size(errors) ? invalid_of(p, slug, errors) : NULL;
}

apr_int64_t pchat_chat_number(pchat_conn *c, apr_pool_t *p,
                              const pchat_sql *sql, int *rv)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    apr_int64_t n = 0;
    int first = 1;

    *rv = pchat_db_select(c, p, sql, &res);
    while (!*rv && pchat_db_next_row(c, p, res, &row)) {
        const char *v = pchat_db_entry(c, row, 0);
        if (first && v) {
            n = apr_atoi64(v);
        }
        first = 0;   /* read to the end all the same */
    }
    return n;
}

int pchat_chat_user_exists(pchat_conn *c, apr_pool_t *p, apr_int64_t id,
                           int *rv)
{
    pchat_sql *sql = pchat_sql_make(p, "SELECT COUNT(*) FROM users "
                                       "WHERE id = ");

    pchat_sql_int(sql, id);
    return pchat_chat_number(c, p, sql, rv) > 0;
}

const char *pchat_chat_entry(pchat_conn *c, apr_dbd_row_t *row, int col)
{
    const char *v = pchat_db_entry(c, row, col);

    return v && *v ? v : NULL;
}

json_t *pchat_chat_date_ms(apr_int64_t ms)
{
    char iso[PCHAT_ISO_LEN];

    pchat_time_format(iso, ms);
    return json_string(iso);
}

json_t *pchat_chat_date(const char *ms_text)
{
    return ms_text ? pchat_chat_date_ms(apr_atoi64(ms_text)) : json_null();
}

json_t *pchat_chat_id_or_null(const char *text)
{
    return text ? json_integer(apr_atoi64(text)) : json_null();
}
