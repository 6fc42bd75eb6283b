/* The few libpq calls apr_dbd has no word for, found in the process. */
#ifndef PCHAT_LIBPQ_H
#define PCHAT_LIBPQ_H

typedef struct {
    int (*socket_fd)(const void *conn);       /* PQsocket */
    int (*consume)(void *conn);               /* PQconsumeInput */
    void *(*notifies)(void *conn);            /* PQnotifies */
    void (*freemem)(void *ptr);               /* PQfreemem */
} pchat_libpq;

/* Fills pq from the libpq the pgsql driver loaded: NULL, or why not. */
const char *pchat_libpq_find(pchat_libpq *pq);

/* Whether fd has bytes, an end of file or an error to read now; never
 * blocks. */
int pchat_fd_readable(int fd);

#endif
