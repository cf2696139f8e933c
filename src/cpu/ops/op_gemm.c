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
/* bnn_first_dense_planes_tile's buffer holds 64 columns */
typedef char bnn_assert_tile_n_planes[(TILE_N <= 64) ? 1 : -1];
/* A tile's own patches (conv layers, im2col.c): 40 KiB holds 64 patches of
 * up to 80 words (K up to 5120 bits: 3x3 x 512 channels and more). Each
 * thread keeps the last row tile it built, named by the product call and its
 * first row: tasks that walk N along one row tile (tiles.h) then build it
 * once per thread, not once per column tile. */
#define PATCH_TILE_BYTES (40 * 1024)
static __thread struct {
    uint64_t call; /* 0: none yet */
    size_t row0;
    bnn_word words[PATCH_TILE_BYTES / sizeof(bnn_word)] __attribute__((aligned(64)));
} tile_patches;
static uint64_t product_calls; /* numbers the calls, for tile_patches */

/* A first layer's 16 bytes of K per output cost about one binary word
 * operation (AVX2: ~120 G byte-MACs/s against ~6 G words/s), for the thread
 * count (tiles.h). */
#define U8_BYTES_PER_WORD_OP 16

typedef struct tile_job {
    const bnn_gemm *g;
    const bnn_kernels *kernels;
    bnn_tiles tiles;
    uint64_t call; /* unique per bnn_gemm_run call (product_calls) */
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
    const bnn_word *a = g->a ? g->a + i0 * words : NULL;
    const uint8_t *x = g->x ? g->x + i0 * g->ldx : NULL;
    if (g->image) { /* this tile's rows of A (or x), built here unless this thread has them */
        if (tile_patches.call != job->call || tile_patches.row0 != i0) {
            bnn_im2col_rows(l, g->image, g->pixel_bytes, i0, mb, tile_patches.words);
            tile_patches.call = job->call;
            tile_patches.row0 = i0;
        }
        a = l->type == BNN_LAYER_FIRST_CONV ? NULL : tile_patches.words;
        x = l->type == BNN_LAYER_FIRST_CONV ? (const uint8_t *)tile_patches.words : NULL;
    }
    if (g->planes)
        bnn_first_dense_planes_tile(s, job->kernels, g->planes, i0, mb, u0, nb, t, ld);
    else if (x)
        job->kernels->u8gemm(mb, nb, l->k, x, g->ldx,
                             s->u8_panel + u0 / BNN_U8_GROUP * bnn_u8_group_bytes(l->k), t, ld);
    else if (bnn_step_has_panels(s, job->kernels) && bnn_panel_pays(job->kernels, mb, units, words))
        job->kernels->bgemm_panel(mb, nb, words, a,
                                  bnn_panel_column(job->kernels, s->b_panel, u0, words), t, ld,
                                  (int32_t)l->k);
    else
        job->kernels->bgemm(mb, nb, words, a, l->weights + u0 * words, t, ld, (int32_t)l->k);
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
    bnn_status st = BNN_OK;
    bnn_word *panel = bnn_aligned_table(
        bnn_kernels_panel_words(kernels, l->units, l->row_words) * sizeof(bnn_word),
                                        &s->b_panel_alloc, l, index, "weight panels", &st);
    if (!panel)
        return st;
    kernels->panel_pack(l->weights, l->units, l->row_words, panel);
    s->b_panel = panel;
    s->b_panel_kernel = kernels->bgemm_panel;
    return BNN_OK;
}

bnn_status bnn_gemm_run(const bnn_gemm *g, int threads)
{
    if (g->rows == 0)
        return BNN_OK;
    const bnn_layer *l = g->step->layer;
    tile_job job = {g, bnn_active_kernels(), bnn_tiles_of(g->rows, l->units, TILE_M, TILE_N),
                    __atomic_add_fetch(&product_calls, 1, __ATOMIC_RELAXED)};
    int u8 = !g->planes && (l->type == BNN_LAYER_FIRST_DENSE || l->type == BNN_LAYER_FIRST_CONV);
    size_t per_output = g->planes ? BNN_PLANES * l->row_words
                        : u8      ? (l->k + U8_BYTES_PER_WORD_OP - 1) / U8_BYTES_PER_WORD_OP
                                  : l->row_words;
    return bnn_parallel_for(job.tiles.count, bnn_tiles_threads(&job.tiles, per_output, threads),
                            gemm_tile, &job);
}

/* A conv layer's input pixel: C bytes (first_conv, uint8) or ceil(C/64)
 * words (conv, bits); a patch is kh x kw of them. */
static size_t pixel_bytes(const bnn_layer *l)
{
    return l->type == BNN_LAYER_FIRST_CONV ? l->in.c : bnn_words_for(l->in.c) * sizeof(bnn_word);
}

/* Whether the tiles build their own patches: 64 of them fit a tile's buffer. */
static int patches_by_tile(const bnn_layer *l)
{
    return l->kh * l->kw * pixel_bytes(l) <= PATCH_TILE_BYTES / TILE_M;
}

bnn_scratch_need bnn_conv_scratch(const bnn_layer *l)
{
    bnn_scratch_need need = {0, 0};
    if (!patches_by_tile(l))
        need.per_sample =
            bnn_align64((uint64_t)l->out.h * l->out.w * l->kh * l->kw * pixel_bytes(l));
    return need;
}

bnn_status bnn_conv_run(const bnn_step *s, const void *in, void *out, size_t n, void *scratch,
                        int threads)
{
    const bnn_layer *l = s->layer;
    bnn_gemm g = {.step = s, .rows = n * l->out.h * l->out.w, .ldx = l->k, .out_int = out,
                  .out_bits = out};
    if (patches_by_tile(l)) {
        g.image = in;
        g.pixel_bytes = pixel_bytes(l);
        return bnn_gemm_run(&g, threads);
    }
    bnn_status st = bnn_im2col(l, in, pixel_bytes(l), n, scratch, threads);
    if (l->type == BNN_LAYER_FIRST_CONV)
        g.x = scratch;
    else
        g.a = scratch;
    return st == BNN_OK ? bnn_gemm_run(&g, threads) : st;
}
