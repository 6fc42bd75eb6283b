/* Timestamps: milliseconds since the epoch in storage, ISO-8601 on the wire. */
#ifndef PCHAT_TIME_H
#define PCHAT_TIME_H

#include "apr_time.h"

/* "2026-11-24T10:00:00.000Z" plus the terminating NUL. */
#define PCHAT_ISO_LEN 25

apr_int64_t pchat_now_ms(void);

/* Writes ms as ISO-8601 UTC with milliseconds into buf[PCHAT_ISO_LEN]. */
void pchat_time_format(char *buf, apr_int64_t ms);

/* Parses YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|+hh:mm|-hh:mm]; returns 0 on
 * success, -1 when the text is not such a date or falls outside the years
 * 0001-9999 once in UTC. */
int pchat_time_parse(const char *text, apr_int64_t *ms);

#endif
