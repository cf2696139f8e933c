/* op_gemm.c - the product every weighted layer ends in, run tile by tile
 * (rows x units) across threads, with the work that follows the product done
 * on each tile while it is still in cache:
 *   - conv with pad_value zero: the border correction (zero_padding.c);
 *   - a following threshold, fused: the tile becomes packed bits directly,
 *     so the int32 sums of a dense/conv + threshold pair never reach memory.
 * The kernel is the dispatched bgemm for binary layers (its panel form on
 * the weights packed at load, where the kernel set has one) and u8gemm for
 * first layers (kernels.h), handed one tile at a time. Every output is computed
 * whole by one task, so results never depend on the thread count. */
#include <string.h>

#include "common/errors.h"
#include "cpu/ops/ops.h"
#include "cpu/tiles.h"

/* TILE_N is a multiple of 64 so a fused threshold writes whole words (and of
 * BNN_U8_GROUP, so a tile starts at a group of the u8gemm weight panel). An
 * int32 tile lives on a task's stack: 16 KiB. */
#define TILE_M 64
#define TILE_N 64
typedef char bnn_assert_tile_n_whole_groups[(TILE_N % BNN_U8_GROUP == 0) ? 1 : -1];
typedef char bnn_assert_tile_n_whole_panels[(TILE_N % BNN_PANEL_ROWS == 0) ? 1 : -1];
/* A first layer's 16 bytes of K per output cost about one binary word
 * operation (AVX2: ~120 G byte-MACs/s against ~6 G words/s), for the thread
 * count (tiles.h). */
#define U8_BYTES_PER_WORD_OP 16

typedef struct tile_job {
    const bnn_gemm *g;
    const bnn_kernels *kernels;
    bnn_tiles tiles;
} tile_job;

static void gemm_tile(void *ctx, size_t task)
{
    const tile_job *job = ctx;
    const bnn_gemm *g = job->g;
    const bnn_step *s = g->step;
    const bnn_layer *l = s->layer;
    size_t units = l->units, words = l->row_words, i0, mb, u0, nb;
    bnn_tile_at(&job->tiles, task, &i0, &mb, &u0, &nb);
    int32_t tile[TILE_M * TILE_N];
    /* Sums go straight to the int output unless a threshold consumes them. */
    int32_t *t = s->threshold ? tile : g->out_int + i0 * units + u0;
    size_t ld = s->threshold ? nb : units;
    if (g->x)
        job->kernels->u8gemm(mb, nb, l->k, g->x + i0 * g->ldx, g->ldx,
                             s->u8_panel + u0 / BNN_U8_GROUP * bnn_u8_group_bytes(l->k), t, ld);
    else if (s->b_panel && s->b_panel_kernel == job->kernels->bgemm_panel)
        job->kernels->bgemm_panel(mb, nb, words, g->a + i0 * words, s->b_panel + u0 * words, t,
                                  ld, (int32_t)l->k);
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

bnn_status bnn_gemm_weights_prepare(bnn_step *s, uint32_t index)
{
    const bnn_layer *l = s->layer;
    const bnn_kernels *kernels = bnn_active_kernels();
    if (!kernels->panel_pack)
        return BNN_OK;
    /* In 64 bits first: the padded panel may not be addressable on a 32-bit board. */
    uint64_t words = ((uint64_t)l->units + BNN_PANEL_ROWS - 1) / BNN_PANEL_ROWS *
                     BNN_PANEL_ROWS * l->row_words;
    char *raw = words <= (SIZE_MAX - 64) / sizeof(bnn_word)
                    ? malloc((size_t)words * sizeof(bnn_word) + 64)
                    : NULL;
    if (!raw)
        return bnn_fail(BNN_ERR_NOMEM, "layer %u (%s): out of memory for %llu bytes of weight "
                        "panels", index, bnn_layer_type_name(l->type),
                        (unsigned long long)(words * sizeof(bnn_word)));
    bnn_word *panel = (bnn_word *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    kernels->panel_pack(l->weights, l->units, l->row_words, panel);
    s->b_panel = panel;
    s->b_panel_kernel = kernels->bgemm_panel;
    s->b_panel_alloc = raw;
    return BNN_OK;
}

bnn_status bnn_gemm_run(const bnn_gemm *g, int threads)
{
    if (g->rows == 0)
        return BNN_OK;
    const bnn_layer *l = g->step->layer;
    tile_job job = {g, bnn_active_kernels(), bnn_tiles_of(g->rows, l->units, TILE_M, TILE_N)};
    size_t per_output = g->x ? (l->k + U8_BYTES_PER_WORD_OP - 1) / U8_BYTES_PER_WORD_OP
                             : l->row_words;
    return bnn_parallel_for(job.tiles.count, bnn_tiles_threads(&job.tiles, per_output, threads),
                            gemm_tile, &job);
}
