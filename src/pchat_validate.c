/* Body validation. */
#include "apr_lib.h"
#include "pchat_validate.h"
#include "pchat_time.h"

#define MSG_REQUIRED "This field is required."
#define MAX_TEXT_BYTES (64 * 1024)

void pchat_field_error(apr_pool_t *p, json_t *errors, const pchat_field *f,
                       const char *path, const char *message)
{
    if (f && !f->label) {
        /* Payload's errors on the fields of auth give no label */
        json_array_append_new(errors, json_pack(
            "{s:s,s:s}", "message", message, "path", path));
        return;
    }
    json_array_append_new(errors, json_pack(
        "{s:s,s:s,s:s}", "label", f ? f->label : path, "message", message,
        "path", path));
}

pchat_error *pchat_validation_error(apr_pool_t *p, const pchat_collection *c,
                                    json_t *errors)
{
    /* Joined once: a body may have as many unknown keys as its size
     * allows, and a join per error would copy the list each time. */
    apr_array_header_t *labels = apr_array_make(
        p, 2 * (int)json_array_size(errors), sizeof(const char *));
    json_t *e;
    size_t i;

    json_array_foreach(errors, i, e) {
        json_t *label = json_object_get(e, "label");
        if (i) {
            APR_ARRAY_PUSH(labels, const char *) = ", ";
        }
        APR_ARRAY_PUSH(labels, const char *) =
            json_string_value(label ? label : json_object_get(e, "path"));
    }
    return pchat_error_make(
        p, HTTP_BAD_REQUEST, "ValidationError",
        json_pack("{s:s,s:O}", "collection", c->slug, "errors", errors),
        apr_pstrcat(p, json_array_size(errors) == 1
                    ? "The following field is invalid: "
                    : "The following fields are invalid: ",
                    apr_array_pstrcat(p, labels, 0), NULL));
}

const pchat_assign *pchat_values_get(const pchat_values *v,
                                     const pchat_field *f)
{
    int i;

    for (i = 0; i < v->assigns->nelts; i++) {
        const pchat_assign *a = &APR_ARRAY_IDX(v->assigns, i, pchat_assign);
        if (a->field == f) {
            return a;
        }
    }
    return NULL;
}

/* A deliberately simple address check: one @, a dot in the domain, no
 * spaces; the same shape Payload's validator accepts. */
static int valid_email(const char *s)
{
    const char *at = strchr(s, '@'), *c;

    if (!at || at == s || strchr(at + 1, '@') || !at[1]) {
        return 0;
    }
    for (c = s; *c; c++) {
        if (apr_isspace(*c) || apr_iscntrl(*c)) {
            return 0;
        }
    }
    c = strrchr(at + 1, '.');
    return c && c > at + 1 && c[1];
}

static char *lower_trimmed(apr_pool_t *p, const char *s)
{
    char *out, *o;
    size_t len;

    while (apr_isspace(*s)) {
        s++;
    }
    len = strlen(s);
    while (len && apr_isspace(s[len - 1])) {
        len--;
    }
    out = apr_pstrmemdup(p, s, len);
    for (o = out; *o; o++) {
        *o = apr_tolower(*o);
    }
    return out;
}

/* A relation as Payload accepts it: 2, {"id": 2} or
 * {"relationTo": "users", "value": 2}. */
static int relation_id(const pchat_field *f, json_t *v, apr_int64_t *id)
{
    if (json_is_object(v)) {
        json_t *to = json_object_get(v, "relationTo");
        if (to && (!json_is_string(to)
                   || strcmp(json_string_value(to), f->relation_to->slug))) {
            return -1;
        }
        v = to ? json_object_get(v, "value") : json_object_get(v, "id");
    }
    if (!json_is_integer(v) || json_integer_value(v) < 1) {
        return -1;
    }
    *id = json_integer_value(v);
    return 0;
}

/* Checks one present value; returns an error message or NULL. */
static const char *check_value(apr_pool_t *p, const pchat_field *f, json_t *v,
                               pchat_assign *a, const char **password)
{
    const char *text = json_string_value(v);

    if (json_is_null(v)) {
        return (f->flags & PCHAT_FF_REQUIRED) ? MSG_REQUIRED : NULL;
    }
    switch (f->type) {
    case PCHAT_FT_RELATION:
        a->is_int = 1;
        if (relation_id(f, v, &a->i)) {
            return apr_psprintf(p, "This relationship field has the "
                                "following invalid relationships: %s",
                                json_is_string(v) ? text : "(not an id)");
        }
        return NULL;
    case PCHAT_FT_DATE:
        a->is_int = 1;
        if (!text || pchat_time_parse(text, &a->i)) {
            return apr_psprintf(p, "\"%s\" is not a valid date.",
                                text ? text : "(not a string)");
        }
        return NULL;
    case PCHAT_FT_EMAIL:
        a->s = text ? lower_trimmed(p, text) : NULL;
        if (!a->s || !valid_email(a->s)) {
            return a->s && !*a->s ? MSG_REQUIRED
                                  : "Please enter a valid email address.";
        }
        return NULL;
    case PCHAT_FT_PASSWORD:
        if (!text || !*text) {
            return text ? MSG_REQUIRED : "This field must be text.";
        }
        *password = text;
        return NULL;
    default:
        if (json_is_number(v)) {
            text = pchat_json_pstr(p, v);   /* Payload stores 123 as "123" */
        }
        if (!text) {
            return "This field must be text.";
        }
        if (!*text && (f->flags & PCHAT_FF_REQUIRED)) {
            return MSG_REQUIRED;
        }
        if (strlen(text) > MAX_TEXT_BYTES) {
            return apr_psprintf(p, "This value must be at most %d bytes.",
                                MAX_TEXT_BYTES);
        }
        a->s = text;
        return NULL;
    }
}

static int is_known(const pchat_collection *c, const char *key)
{
    return pchat_field_find(c, key) != NULL;
}

pchat_error *pchat_validate(apr_pool_t *p, const pchat_collection *c,
                            json_t *body, int creating, pchat_values *out)
{
    json_t *errors = pchat_json_own(p, json_array()), *v;
    const char *key;
    int i;

    out->assigns = apr_array_make(p, c->nfields, sizeof(pchat_assign));
    out->password = NULL;
    json_object_foreach(body, key, v) {
        if (!is_known(c, key)) {
            pchat_field_error(p, errors, NULL, key,
                              "This field does not exist.");
        }
    }
    for (i = 0; i < c->nfields; i++) {
        const pchat_field *f = &c->fields[i];
        pchat_assign a = {f, 0, 0, NULL};
        const char *msg = NULL;

        v = json_object_get(body, f->name);
        if ((f->flags & PCHAT_FF_READONLY)
            && !(creating && v && f->type == PCHAT_FT_DATE
                 && !strcmp(f->name, "createdAt"))) {
            continue;   /* a createdAt given to a create is kept, as Payload
                         * keeps it */
        }
        if (!v || (json_is_null(v) && !(f->flags & PCHAT_FF_REQUIRED))) {
            if (!creating) {
                continue;
            }
            if (f->flags & PCHAT_FF_DEFAULT_NOW) {
                a.is_int = 1;
                a.i = pchat_now_ms();
                APR_ARRAY_PUSH(out->assigns, pchat_assign) = a;
                continue;
            }
            msg = (f->flags & PCHAT_FF_REQUIRED) ? MSG_REQUIRED : NULL;
        }
        else {
            msg = check_value(p, f, v, &a, &out->password);
        }
        if (msg) {
            pchat_field_error(p, errors, f, f->name, msg);
        }
        else if (v && f->column) {
            APR_ARRAY_PUSH(out->assigns, pchat_assign) = a;
        }
    }
    return json_array_size(errors) ? pchat_validation_error(p, c, errors)
                                   : NULL;
}
