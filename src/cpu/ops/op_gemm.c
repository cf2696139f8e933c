/* op_gemm.c - the product every weighted layer ends in, run tile by tile
 * (rows x units) across threads, with the work that follows the product done
 * on each tile while it is still in cache:
 *   - conv with pad_value zero: the border correction (zero_padding.c);
 *   - a following threshold, fused: the tile becomes packed bits directly,
 *     so the int32 sums of a dense/conv + threshold pair never reach memory.
 * The kernel is the dispatched bgemm for binary layers and u8gemm for first
 * layers (kernels.h), handed one tile at a time. Every output is computed
 * whole by one task, so results never depend on the thread count. */
#include <string.h>

#include "common/errors.h"
#include "cpu/ops/ops.h"
#include "common/parallel.h"

/* TILE_N is a multiple of 64 so a fused threshold writes whole words (and of
 * BNN_U8_GROUP, so a tile starts at a group of the u8gemm weight panel). An
 * int32 tile lives on a task's stack: 16 KiB. */
#define TILE_M 64
#define TILE_N 64
typedef char bnn_assert_tile_n_whole_groups[(TILE_N % BNN_U8_GROUP == 0) ? 1 : -1];
/* Each thread gets at least this many word operations (some 200 us of
 * kernel time, as in bgemm.c): a layer is one parallel region whose threads
 * are started and joined per call, which costs tens of microseconds. */
#define MIN_WORK_PER_THREAD ((size_t)1 << 20)
/* A first layer's 16 bytes of K per output cost about one binary word
 * operation (AVX2: ~120 G byte-MACs/s against ~6 G words/s), for the count above. */
#define U8_BYTES_PER_WORD_OP 16

typedef struct tile_job {
    const bnn_gemm *g;
    const bnn_kernels *kernels;
    size_t m_tiles;
} tile_job;

static void gemm_tile(void *ctx, size_t task)
{
    const tile_job *job = ctx;
    const bnn_gemm *g = job->g;
    const bnn_step *s = g->step;
    const bnn_layer *l = s->layer;
    size_t units = l->units, words = l->row_words;
    size_t i0 = (task % job->m_tiles) * TILE_M, u0 = (task / job->m_tiles) * TILE_N;
    size_t mb = g->rows - i0 < TILE_M ? g->rows - i0 : TILE_M;
    size_t nb = units - u0 < TILE_N ? units - u0 : TILE_N;
    int32_t tile[TILE_M * TILE_N];
    /* Sums go straight to the int output unless a threshold consumes them. */
    int32_t *t = s->threshold ? tile : g->out_int + i0 * units + u0;
    size_t ld = s->threshold ? nb : units;
    if (g->x)
        job->kernels->u8gemm(mb, nb, l->k, g->x + i0 * g->ldx, g->ldx,
                             s->u8_panel + u0 / BNN_U8_GROUP * bnn_u8_group_bytes(l->k), t, ld);
    else
        job->kernels->bgemm(mb, nb, words, g->a + i0 * words, l->weights + u0 * words, t, ld,
                            (int32_t)l->k);
    if (s->tap_sums)
        bnn_zero_padding_fix(s, t, ld, i0, mb, u0, nb);
    if (s->threshold) {
        size_t wc = bnn_words_for(units);
        bnn_threshold_rows(s->threshold, t, ld, mb, u0, nb,
                           g->out_bits + i0 * wc + u0 / BNN_WORD_BITS, wc);
    }
}

bnn_status bnn_gemm_run(const bnn_gemm *g, int threads)
{
    if (g->rows == 0)
        return BNN_OK;
    tile_job job = {g, bnn_active_kernels(), (g->rows + TILE_M - 1) / TILE_M};
    const bnn_layer *l = g->step->layer;
    size_t n_tasks = job.m_tiles * ((l->units + TILE_N - 1) / TILE_N);
    size_t per_output = g->x ? (l->k + U8_BYTES_PER_WORD_OP - 1) / U8_BYTES_PER_WORD_OP
                             : l->row_words;
    size_t work = g->rows * l->units * (per_output ? per_output : 1);
    if (threads <= 0)
        threads = bnn_default_threads();
    if (work / MIN_WORK_PER_THREAD < (size_t)threads)
        threads = (int)(work / MIN_WORK_PER_THREAD) + 1;
    return bnn_parallel_for(n_tasks, threads, gemm_tile, &job);
}
