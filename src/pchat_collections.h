/* The collections of the chat, as data: their fields drive validation, SQL
 * and the JSON shape of documents. */
#ifndef PCHAT_COLLECTIONS_H
#define PCHAT_COLLECTIONS_H

typedef enum {
    PCHAT_FT_ID,        /* integer primary key */
    PCHAT_FT_TEXT,
    PCHAT_FT_EMAIL,
    PCHAT_FT_DATE,      /* stored as ms since the epoch */
    PCHAT_FT_RELATION,  /* integer id of a document of relation_to */
    PCHAT_FT_PASSWORD   /* write-only; stored as hash and salt */
} pchat_field_type;

enum {
    PCHAT_FF_REQUIRED = 1 << 0,
    PCHAT_FF_UNIQUE = 1 << 1,
    PCHAT_FF_HIDDEN = 1 << 2,      /* never returned or queried */
    PCHAT_FF_READONLY = 1 << 3,    /* set by the server only */
    PCHAT_FF_DEFAULT_NOW = 1 << 4
};

typedef struct pchat_collection pchat_collection;

typedef struct {
    const char *name;      /* JSON name */
    const char *column;    /* SQL column, NULL when not stored as one */
    const char *label;     /* for validation messages */
    pchat_field_type type;
    unsigned flags;
    const pchat_collection *relation_to;
} pchat_field;

struct pchat_collection {
    const char *slug;
    const char *table;
    const char *singular;  /* label in success messages */
    const char *plural;
    const pchat_field *fields;
    int nfields;
    /* Messages keep tombstones and a change sequence for the stream: the
     * SQL condition of live rows, or NULL for plain collections. */
    const char *live;
};

extern const pchat_collection pchat_users;
/* users' email as login and uniqueness errors name it: with no label */
extern const pchat_field pchat_login_email;
extern const pchat_collection pchat_messages;

const pchat_collection *pchat_collection_find(const char *slug);

/* The field called name, or NULL. */
const pchat_field *pchat_field_find(const pchat_collection *c,
                                    const char *name);

/* True for fields that have a column and may be read back. */
int pchat_field_readable(const pchat_field *f);

/* A field's bit in a set of fields of c (a collection has at most 32). */
#define PCHAT_FIELD_BIT(c, f) (1u << ((f) - (c)->fields))
/* The bit of the field called name, 0 when there is none. */
unsigned pchat_field_bit_named(const pchat_collection *c, const char *name);

#endif
