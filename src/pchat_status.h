/* The Payload Chat section of mod_status's page (/server-status) and its
 * `?auto` lines. */
#ifndef PCHAT_STATUS_H
#define PCHAT_STATUS_H

#include "pchat_private.h"

/* Hooks into mod_status when it is loaded (register_hooks). */
void pchat_status_register(apr_pool_t *p);

#endif
