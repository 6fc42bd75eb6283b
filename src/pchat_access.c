/* Access rules. */
#include "pchat_access.h"
#include "pchat_config.h"

static int members_mode(pchat_req *q)
{
    return pchat_conf_access(q->r->server) == PCHAT_ACCESS_MEMBERS;
}

int pchat_access_restricted(pchat_req *q)
{
    if (q->coll == &pchat_users) {
        return q->r->method_number != M_GET;
    }
    return members_mode(q);
}

/* "column = <me>" */
static pchat_sql *mine(pchat_req *q, const char *column)
{
    pchat_sql *sql = pchat_sql_make(q->r->pool, column);

    pchat_sql_add(sql, " = ");
    pchat_sql_int(sql, q->user->id);
    return sql;
}

pchat_error *pchat_access_filter(pchat_req *q, pchat_op op, pchat_sql **cond)
{
    *cond = pchat_sql_make(q->r->pool, "1=1");
    if (q->coll == &pchat_users && op == PCHAT_OP_CREATE) {
        /* without self-registration, users are made by users */
        return pchat_conf_self_register(q->r->server) || q->user
               ? NULL : pchat_forbidden(q->r->pool);
    }
    if (q->coll == &pchat_users && op != PCHAT_OP_READ) {
        /* in every mode: a user's email and password are theirs alone */
        if (!q->user) {
            return pchat_forbidden(q->r->pool);
        }
        *cond = mine(q, "id");
        return NULL;
    }
    if (!members_mode(q)) {
        return NULL;
    }
    if (!q->user) {
        return pchat_forbidden(q->r->pool);
    }
    if (q->coll == &pchat_users) {
        return NULL;
    }
    if (op == PCHAT_OP_READ) {
        *cond = pchat_sql_make(q->r->pool, "(");
        pchat_sql_cat(*cond, mine(q, "sender"));
        pchat_sql_add(*cond, " OR ");
        pchat_sql_cat(*cond, mine(q, "receiver"));
        pchat_sql_add(*cond, ")");
    }
    else if (op != PCHAT_OP_CREATE) {
        *cond = mine(q, "sender");
    }
    return NULL;
}

unsigned pchat_access_hidden(pchat_req *q, const pchat_collection *c)
{
    /* members see other users as id and email only (reduced_user) */
    if (members_mode(q) && c == &pchat_users) {
        return ~(pchat_field_bit_named(c, "id")
                 | pchat_field_bit_named(c, "email"));
    }
    return 0;
}

pchat_error *pchat_access_check_values(pchat_req *q, const pchat_values *v)
{
    const pchat_field *sender = pchat_field_find(q->coll, "sender");
    const pchat_assign *a = sender ? pchat_values_get(v, sender) : NULL;

    if (members_mode(q) && a && (!q->user || a->i != q->user->id)) {
        return pchat_forbidden(q->r->pool);
    }
    return NULL;
}

static json_t *reduced_user(json_t *u)
{
    return json_pack("{s:O,s:O,s:O*}", "id", json_object_get(u, "id"),
                     "email", json_object_get(u, "email"),
                     "collection", json_object_get(u, "collection"));
}

static int is_other_user(pchat_req *q, json_t *u)
{
    return json_is_object(u)
           && json_integer_value(json_object_get(u, "id")) != q->user->id;
}

void pchat_access_shape(pchat_req *q, const pchat_collection *c, json_t *docs)
{
    json_t *doc;
    size_t i;
    int f;

    if (!members_mode(q) || !q->user) {
        return;
    }
    json_array_foreach(docs, i, doc) {
        if (c == &pchat_users && is_other_user(q, doc)) {
            json_array_set_new(docs, i, reduced_user(doc));
            continue;
        }
        for (f = 0; f < c->nfields; f++) {
            json_t *rel = json_object_get(doc, c->fields[f].name);
            if (c->fields[f].relation_to == &pchat_users
                && is_other_user(q, rel)) {
                json_object_set_new(doc, c->fields[f].name,
                                    reduced_user(rel));
            }
        }
    }
}
