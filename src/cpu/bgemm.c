/* bgemm.c - the public bgemm: checks arguments, splits C into blocks and
 * runs the active kernel on them across threads. Every output is computed
 * whole by one kernel call, so results never depend on the thread count. */
#include "common/errors.h"
#include "cpu/kernels/kernels.h"
#include "common/parallel.h"

/* Block of C handed to one task. Sized so the B block stays in L2 for
 * K up to a few thousand bits and there are enough tasks to balance. */
#define BLOCK_M 64
#define BLOCK_N 256
/* Below this many word operations (64 bit-MACs each) a second thread costs
 * more than it saves: threads start per call, 30 us each at best (more on a
 * loaded machine), and 2^20 words take about 0.2 ms with AVX2. */
#define MIN_WORK_PER_THREAD (1u << 20)

typedef struct bgemm_job {
    const bnn_kernels *kernels;
    const bnn_word *a, *b;
    int32_t *c;
    size_t m, n, words, m_blocks;
    int32_t k;
} bgemm_job;

static void bgemm_task(void *ctx, size_t task)
{
    const bgemm_job *j = ctx;
    size_t i0 = (task % j->m_blocks) * BLOCK_M, j0 = (task / j->m_blocks) * BLOCK_N;
    size_t mb = j->m - i0 < BLOCK_M ? j->m - i0 : BLOCK_M;
    size_t nb = j->n - j0 < BLOCK_N ? j->n - j0 : BLOCK_N;
    j->kernels->bgemm(mb, nb, j->words, j->a + i0 * j->words, j->b + j0 * j->words,
                      j->c + i0 * j->n + j0, j->n, j->k);
}

bnn_status bnn_bgemm(const uint64_t *a, const uint64_t *b, int32_t *c, size_t m, size_t n,
                     size_t k, int threads)
{
    if (!a || !b || !c)
        return bnn_fail(BNN_ERR_ARGUMENT, "bgemm: a, b and c must not be NULL");
    /* k - 2 * popcount lies in [-k, k]: int32 holds it for k up to 2^30
     * (the .bnn limit for binary layers, docs/FORMAT.md). */
    if (k > ((size_t)1 << 30))
        return bnn_fail(BNN_ERR_ARGUMENT, "bgemm: k must be at most 2^30, got %zu", k);
    if (m == 0 || n == 0)
        return BNN_OK;
    if (n > SIZE_MAX / m)
        return bnn_fail(BNN_ERR_ARGUMENT, "bgemm: m*n overflows (m=%zu, n=%zu)", m, n);
    bgemm_job j = {bnn_active_kernels(), a, b, c, m, n, bnn_words_for(k), 0, (int32_t)k};
    j.m_blocks = (m + BLOCK_M - 1) / BLOCK_M;
    size_t n_tasks = j.m_blocks * ((n + BLOCK_N - 1) / BLOCK_N);
    if (threads <= 0)
        threads = bnn_default_threads();
    size_t work = m * n * (j.words ? j.words : 1);
    if (work / MIN_WORK_PER_THREAD < (size_t)threads)
        threads = (int)(work / MIN_WORK_PER_THREAD) + 1;
    return bnn_parallel_for(n_tasks, threads, bgemm_task, &j);
}
