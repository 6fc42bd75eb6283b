/* Validation of request bodies against a collection's fields, with errors
 * in Payload's ValidationError shape. */
#ifndef PCHAT_VALIDATE_H
#define PCHAT_VALIDATE_H

#include "pchat_http.h"
#include "pchat_collections.h"

/* One column to write. */
typedef struct {
    const pchat_field *field;
    int is_int;
    apr_int64_t i;
    const char *s;
} pchat_assign;

typedef struct {
    apr_array_header_t *assigns;   /* of pchat_assign, in field order */
    const char *password;          /* users: the new password, or NULL */
} pchat_values;

/* Checks body for a create (every required field) or an update (only the
 * fields present).  Read-only fields are ignored, unknown ones refused. */
pchat_error *pchat_validate(apr_pool_t *p, const pchat_collection *c,
                            json_t *body, int creating, pchat_values *out);

/* Collects field errors; pchat_validation_error turns them into the
 * ValidationError to send. */
void pchat_field_error(apr_pool_t *p, json_t *errors, const pchat_field *f,
                       const char *path, const char *message);
pchat_error *pchat_validation_error(apr_pool_t *p, const pchat_collection *c,
                                    json_t *errors);

/* The assignment of field f in values, or NULL. */
const pchat_assign *pchat_values_get(const pchat_values *v,
                                     const pchat_field *f);

#endif
