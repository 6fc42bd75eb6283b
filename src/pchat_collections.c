/* Field tables of users and messages.  Order is the key order of documents
 * on the wire. */
#include <string.h>
#include "pchat_collections.h"

static const pchat_field user_fields[] = {
    {"id", "id", "ID", PCHAT_FT_ID, PCHAT_FF_READONLY, NULL},
    {"updatedAt", "updated_at", "Updated At", PCHAT_FT_DATE,
     PCHAT_FF_READONLY, NULL},
    {"createdAt", "created_at", "Created At", PCHAT_FT_DATE,
     PCHAT_FF_READONLY, NULL},
    {"email", "email", "Email", PCHAT_FT_EMAIL,
     PCHAT_FF_REQUIRED | PCHAT_FF_UNIQUE, NULL},
    /* no label: Payload's errors on password give none */
    {"password", NULL, NULL, PCHAT_FT_PASSWORD,
     PCHAT_FF_REQUIRED | PCHAT_FF_HIDDEN, NULL},
};

const pchat_field pchat_login_email = {"email", "email", NULL, PCHAT_FT_EMAIL,
                                       PCHAT_FF_REQUIRED, NULL};

const pchat_collection pchat_users = {
    "users", "users", "User", "Users",
    user_fields, sizeof(user_fields) / sizeof(user_fields[0]), NULL
};

static const pchat_field message_fields[] = {
    {"id", "id", "ID", PCHAT_FT_ID, PCHAT_FF_READONLY, NULL},
    {"sender", "sender", "Sender", PCHAT_FT_RELATION, PCHAT_FF_REQUIRED,
     &pchat_users},
    {"receiver", "receiver", "Receiver", PCHAT_FT_RELATION, PCHAT_FF_REQUIRED,
     &pchat_users},
    {"content", "content", "Content", PCHAT_FT_TEXT, PCHAT_FF_REQUIRED, NULL},
    {"timestamp", "ts", "Timestamp", PCHAT_FT_DATE,
     PCHAT_FF_REQUIRED | PCHAT_FF_DEFAULT_NOW, NULL},
    {"updatedAt", "updated_at", "Updated At", PCHAT_FT_DATE,
     PCHAT_FF_READONLY, NULL},
    {"createdAt", "created_at", "Created At", PCHAT_FT_DATE,
     PCHAT_FF_READONLY, NULL},
};

const pchat_collection pchat_messages = {
    "messages", "messages", "Message", "Messages",
    message_fields, sizeof(message_fields) / sizeof(message_fields[0]),
    "deleted = 0"
};

const pchat_collection *pchat_collection_find(const char *slug)
{
    if (!strcmp(slug, pchat_messages.slug)) {
        return &pchat_messages;
    }
    if (!strcmp(slug, pchat_users.slug)) {
        return &pchat_users;
    }
    return NULL;
}

const pchat_field *pchat_field_find(const pchat_collection *c,
                                    const char *name)
{
    int i;

    for (i = 0; i < c->nfields; i++) {
        if (!strcmp(c->fields[i].name, name)) {
            return &c->fields[i];
        }
    }
    return NULL;
}

int pchat_field_readable(const pchat_field *f)
{
    return f->column && !(f->flags & PCHAT_FF_HIDDEN);
}

unsigned pchat_field_bit_named(const pchat_collection *c, const char *name)
{
    const pchat_field *f = pchat_field_find(c, name);

    return f ? PCHAT_FIELD_BIT(c, f) : 0;
}
