/* op_gemm.c - the product every weighted layer ends in, run tile by tile
 * (rows x units) across threads, with the work that follows the product done
 * on each tile while it is still in cache:
 *   - first layers: the 8 bit-planes' products summed with weights 2^p and
 *     turned into s (op_first_layer.c derives the formula);
 *   - conv with pad_value zero: the border correction (op_conv.c);
 *   - a following threshold, fused: the tile becomes packed bits directly,
 *     so the int32 sums of a dense/conv + threshold pair never reach memory.
 * The kernel is the dispatched bgemm (kernels.h), handed one tile at a time.
 * Every output is computed whole by one task, so results never depend on
 * the thread count. */
#include <string.h>

#include "errors.h"
#include "ops.h"
#include "parallel.h"

/* TILE_N is a multiple of 64 so a fused threshold writes whole words. Two
 * int32 tiles live on a task's stack: 2 x 16 KiB. */
#define TILE_M 64
#define TILE_N 64
/* Each thread gets at least this many word operations (some 200 us of
 * kernel time, as in bgemm.c): a layer is one parallel region whose threads
 * are started and joined per call, which costs tens of microseconds. */
#define MIN_WORK_PER_THREAD ((size_t)1 << 20)

typedef struct tile_job {
    const bnn_gemm *g;
    const bnn_kernels *kernels;
    size_t m_tiles;
} tile_job;

/* s = (255 K - acc) / 2 - 255 popcount(w), with acc = sum_p 2^p c_p. Since
 * |acc| <= 255 K, 255 K - acc lies in [0, 510 K] < 2^32: exact in uint32. */
static void finish_row(int32_t *restrict row, const int32_t *restrict pc255, uint32_t total,
                       size_t n)
{
    if (n == TILE_N) { /* a constant trip count: vectorised even at -O2 */
        for (size_t u = 0; u < TILE_N; u++)
            row[u] = (int32_t)((total - (uint32_t)row[u]) >> 1) - pc255[u];
        return;
    }
    for (size_t u = 0; u < n; u++)
        row[u] = (int32_t)((total - (uint32_t)row[u]) >> 1) - pc255[u];
}

static void first_layer_finish(const bnn_layer *l, int32_t *t, size_t ld, size_t mb, size_t nb,
                               size_t u0)
{
    for (size_t r = 0; r < mb; r++)
        finish_row(t + r * ld, l->weight_pc255 + u0, 255u * (uint32_t)l->k, nb);
}

/* dst[i] += src[i] * 2^p (as a shift of the two's complement bits, which is
 * the same product and vectorises without a 32-bit multiply). */
static void add_shifted(int32_t *restrict dst, const int32_t *restrict src, size_t n, int p)
{
    if (n == TILE_N) { /* a constant trip count: vectorised even at -O2 */
        for (size_t i = 0; i < TILE_N; i++)
            dst[i] += (int32_t)((uint32_t)src[i] << p);
        return;
    }
    for (size_t i = 0; i < n; i++)
        dst[i] += (int32_t)((uint32_t)src[i] << p);
}

static void gemm_tile(void *ctx, size_t task)
{
    const tile_job *job = ctx;
    const bnn_gemm *g = job->g;
    const bnn_layer *l = g->layer;
    size_t units = l->units, words = l->row_words;
    size_t i0 = (task % job->m_tiles) * TILE_M, u0 = (task / job->m_tiles) * TILE_N;
    size_t mb = g->rows - i0 < TILE_M ? g->rows - i0 : TILE_M;
    size_t nb = units - u0 < TILE_N ? units - u0 : TILE_N;
    const bnn_word *b = l->weights + u0 * words;
    int32_t tile[TILE_M * TILE_N], partial[TILE_M * TILE_N];
    /* Sums go straight to the int output unless a threshold consumes them. */
    int32_t *t = g->threshold ? tile : g->out_int + i0 * units + u0;
    size_t ld = g->threshold ? nb : units;
    job->kernels->bgemm(mb, nb, words, g->a + i0 * words, b, t, ld, (int32_t)l->k);
    for (int p = 1; p < g->planes; p++) {
        job->kernels->bgemm(mb, nb, words, g->a + (p * g->rows + i0) * words, b, partial, nb,
                            (int32_t)l->k);
        /* |sum_p 2^p c_p| <= 255 K <= 255 * 2^23: fits int32. */
        for (size_t r = 0; r < mb; r++)
            add_shifted(t + r * ld, partial + r * nb, nb, p);
    }
    if (g->planes == 8)
        first_layer_finish(l, t, ld, mb, nb, u0);
    if (l->tap_sums)
        bnn_conv_zero_padding_fix(l, t, ld, i0, mb, u0, nb);
    if (g->threshold) {
        size_t wc = bnn_words_for(units);
        bnn_threshold_rows(g->threshold, t, ld, mb, u0, nb,
                           g->out_bits + i0 * wc + u0 / BNN_WORD_BITS, wc);
    }
}

bnn_status bnn_gemm_run(const bnn_gemm *g, int threads)
{
    if (g->rows == 0)
        return BNN_OK;
    tile_job job = {g, bnn_active_kernels(), (g->rows + TILE_M - 1) / TILE_M};
    size_t n_tasks = job.m_tiles * ((g->layer->units + TILE_N - 1) / TILE_N);
    size_t work = (size_t)g->planes * g->rows * g->layer->units *
                  (g->layer->row_words ? g->layer->row_words : 1);
    if (threads <= 0)
        threads = bnn_default_threads();
    if (work / MIN_WORK_PER_THREAD < (size_t)threads)
        threads = (int)(work / MIN_WORK_PER_THREAD) + 1;
    return bnn_parallel_for(n_tasks, threads, gemm_tile, &job);
}
