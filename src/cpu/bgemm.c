/* bgemm.c - the public bgemm: checks arguments, splits C into blocks and
 * runs the active kernel on them across threads. Every output is computed
 * whole by one kernel call, so results never depend on the thread count. */
#include "common/errors.h"
#include "cpu/kernels/kernels.h"
#include "cpu/tiles.h"

/* Block of C handed to one task. Sized so the B block stays in L2 for
 * K up to a few thousand bits and there are enough tasks to balance; the
 * AVX-512 kernel copies B into panels once per block, which 128 rows of A
 * amortize. */
#define BLOCK_M 128
#define BLOCK_N 256
#define MIN_BLOCK_N 64          /* 4 AVX-512 panels of 16 rows */
#define MIN_TASKS_PER_THREAD 8

typedef struct bgemm_job {
    const bnn_kernels *kernels;
    const bnn_word *a, *b;
    int32_t *c;
    size_t words;
    int32_t k;
    bnn_tiles tiles;
} bgemm_job;

static void bgemm_task(void *ctx, size_t task)
{
    const bgemm_job *j = ctx;
    size_t i0, mb, j0, nb;
    bnn_tile_at(&j->tiles, task, &i0, &mb, &j0, &nb);
    j->kernels->bgemm(mb, nb, j->words, j->a + i0 * j->words, j->b + j0 * j->words,
                      j->c + i0 * j->tiles.n + j0, j->tiles.n, j->k);
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
    size_t words = bnn_words_for(k);
    bgemm_job j = {bnn_active_kernels(), a, b, c, words, (int32_t)k,
                   bnn_tiles_of(m, n, BLOCK_M, BLOCK_N)};
    int use = bnn_tiles_threads(&j.tiles, words, threads);
    /* Narrower column blocks until every thread has a few tasks: a short
     * product (M = 64 has one row block) split into as many tasks as
     * threads waits for the slowest, and a helper that joins late leaves
     * the caller a whole block more. Each block still packs its own B rows
     * once, so this adds no packing. */
    for (size_t bn = BLOCK_N / 2; use > 1 && j.tiles.count < MIN_TASKS_PER_THREAD * (size_t)use &&
                                  bn >= MIN_BLOCK_N;
         bn /= 2)
        j.tiles = bnn_tiles_of(m, n, BLOCK_M, bn);
    return bnn_parallel_for(j.tiles.count, use, bgemm_task, &j);
}
