/* libpq through the pgsql driver's native handle.
 *
 * libpq is already in the process when the pgsql driver is (it links it);
 * we look its functions up there rather than link the module against it,
 * so a sqlite-only site needs no libpq at all. */
#include <dlfcn.h>
#include <poll.h>
#include <string.h>
#include "pchat_libpq.h"

/* Casting dlsym's object pointer to a function pointer through memcpy keeps
 * strict ISO C quiet; POSIX guarantees the two have one representation. */
static int lookup(void *lib, const char *name, void *fn_slot)
{
    void *sym = dlsym(lib, name);

    if (sym) {
        memcpy(fn_slot, &sym, sizeof(sym));
    }
    return sym != NULL;
}

const char *pchat_libpq_find(pchat_libpq *pq)
{
    void *lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_NOLOAD);

    if (lib && lookup(lib, "PQsocket", &pq->socket_fd)
        && lookup(lib, "PQconsumeInput", &pq->consume)
        && lookup(lib, "PQnotifies", &pq->notifies)
        && lookup(lib, "PQfreemem", &pq->freemem)) {
        return NULL;
    }
    return dlerror();
}

int pchat_fd_readable(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    return poll(&pfd, 1, 0) > 0;
}
