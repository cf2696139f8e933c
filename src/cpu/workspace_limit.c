/* workspace_limit.c - how much working memory one bnn_model_run may take.
 *
 * A small model can need far more memory than its file or its input: an
 * activation with few channels takes a 64-bit word per pixel, so a 1 kB
 * model given one large image can need gigabytes. A run that would need
 * more than the limit fails before allocating, naming the need and the
 * limit, instead of dying of an allocation (or of the OOM killer).
 *
 * The default limit is half of physical memory; PYBNN_WORKSPACE_LIMIT
 * (bytes, or with a K, M or G suffix: powers of 1024) replaces it,
 * read once; bnn_model_set_workspace_limit() sets one model's. */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#include "common/errors.h"
#include "cpu/plan.h"

#define ENV_NAME "PYBNN_WORKSPACE_LIMIT"

static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static uint64_t default_limit;
static int env_invalid; /* PYBNN_WORKSPACE_LIMIT is set but not a size */
static char env_copy[64];

static uint64_t half_physical_memory(void)
{
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0)
        return (uint64_t)pages / 2 * (uint64_t)page;
#endif
    return UINT64_MAX; /* unknown: no limit but the allocator's */
}

/* "123", "64M", "2g" -> bytes; 0 when the text is not a positive size. */
static uint64_t parse_size(const char *text)
{
    char *end;
    if (!isdigit((unsigned char)text[0]))
        return 0;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || v == 0)
        return 0;
    int shift = 0;
    switch (toupper((unsigned char)*end)) {
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    }
    if (*end || v > (UINT64_MAX >> shift))
        return 0;
    return (uint64_t)v << shift;
}

static void init_default(void)
{
    const char *env = getenv(ENV_NAME);
    default_limit = half_physical_memory();
    if (env && *env) {
        uint64_t v = parse_size(env);
        if (v)
            default_limit = v;
        else {
            env_invalid = 1;
            size_t i = 0;
            for (; env[i] && i < sizeof env_copy - 1; i++)
                env_copy[i] = env[i];
            env_copy[i] = 0;
        }
    }
}

bnn_status bnn_model_workspace_limit(const bnn_model *m, uint64_t *out)
{
    if (!m || !out)
        return bnn_fail(BNN_ERR_ARGUMENT, "model_workspace_limit: model and out must not be NULL");
    if (m->workspace_limit) {
        *out = m->workspace_limit;
        return BNN_OK;
    }
    pthread_once(&default_once, init_default);
    *out = default_limit;
    if (env_invalid)
        return bnn_fail(BNN_ERR_ARGUMENT, ENV_NAME " must be a positive number of bytes, "
                        "optionally with a K, M or G suffix; got '%s'", env_copy);
    return BNN_OK;
}

void bnn_model_set_workspace_limit(bnn_model *m, uint64_t bytes)
{
    if (m)
        m->workspace_limit = bytes;
}
