/* Shared by the fuzz targets: one APR pool per input, cleared after it, so
 * that a target's allocations cannot pile up across runs.  stubs.c stands
 * in for the httpd functions the module's files refer to. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"

static apr_pool_t *fuzz_root;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    apr_pool_create(&fuzz_root, NULL);
    return 0;
}

/* The input as a NUL-terminated string in a fresh pool. */
static char *fuzz_text(apr_pool_t **p, const uint8_t *data, size_t size)
{
    apr_pool_create(p, fuzz_root);
    return apr_pstrmemdup(*p, (const char *)data, size);
}

#endif
