/* ops.h - internal: the CPU ops, one per layer type, one file each, behind
 * one table (ops.c). Every op processes `n` samples laid out one after
 * another (cpu/plan.h gives the per-domain layouts) and writes its whole
 * output. An op either runs the batch itself (`run`, threading inside, as
 * the products do) or runs a stretch of samples (`run_samples`), and ops.c
 * splits the batch across threads for it. Ops that need scratch memory say
 * how much (fixed + per sample) and carve it from the `scratch` they get,
 * 64-byte aligned. */
#ifndef PYBNN_CPU_OPS_H
#define PYBNN_CPU_OPS_H

#include <stdlib.h>

#include "common/cache_line.h"
#include "common/errors.h"
#include "cpu/kernels/kernels.h"
#include "cpu/plan.h"

typedef struct bnn_scratch_need {
    uint64_t fixed, per_sample; /* bytes: fixed + n * per_sample */
} bnn_scratch_need;

typedef struct bnn_op {
    /* The step's tables, at load (NULL: none); `index` is for messages. */
    bnn_status (*prepare)(bnn_step *s, uint32_t index);
    /* Scratch for a run (NULL: none). */
    bnn_scratch_need (*scratch)(const bnn_layer *l);
    /* Exactly one of these two. `in` may be overwritten when it is an
     * int32 workspace buffer that nothing reads afterwards. */
    bnn_status (*run)(const bnn_step *s, const void *in, void *out, size_t n, void *scratch,
                      int threads);
    void (*run_samples)(const bnn_step *s, const void *in, void *out, size_t n);
} bnn_op;

/* ops.c: the op of a layer type (NULL for none), and running a step. */
const bnn_op *bnn_op_for(uint32_t type);
bnn_scratch_need bnn_op_scratch(const bnn_step *s);
bnn_status bnn_op_run(const bnn_step *s, const void *in, void *out, size_t n, void *scratch,
                      int threads);

extern const bnn_op bnn_op_first_dense, bnn_op_first_conv, bnn_op_conv, bnn_op_dense,
    bnn_op_maxpool, bnn_op_threshold, bnn_op_flatten, bnn_op_affine;

/* ---- shared between op files --------------------------------------------- */

/* Round a byte count up to a multiple of 64 (scratch sub-buffers are aligned). */
static inline uint64_t bnn_align64(uint64_t bytes) { return (bytes + 63) & ~(uint64_t)63; }

/* Taps [*t0, *t1) of a window of k taps starting at `start` (may be
 * negative: padding) that fall inside [0, n). Empty when *t0 >= *t1. */
static inline void bnn_window_clip(ptrdiff_t start, size_t k, size_t n, size_t *t0, size_t *t1)
{
    *t0 = start < 0 ? (size_t)-start : 0;
    ptrdiff_t end = (ptrdiff_t)n - start; /* first tap past the input */
    *t1 = end <= 0 ? 0 : ((size_t)end < k ? (size_t)end : k);
}

/* The product a weighted step ends in (op_gemm.c), for `rows` rows:
 *   - binary layers: rows of `a` (layer->row_words words each) against the
 *     layer's packed weights (bgemm), then the conv zero-padding correction
 *     (zero_padding.c) where the step has tap sums;
 *   - first layers (x set, a NULL): uint8 rows of x (layer->k bytes, ldx
 *     apart) against the step's weight panel (u8gemm);
 *   - first_dense by bit-planes (planes set): 8 packed rows per input row,
 *     bit p of its bytes, against the binary weight panels (bgemm_panel),
 *     summed back as op_first_dense.c derives;
 * then either int32 sums to out_int (rows x units) or, when the step fuses
 * a threshold, packed bits to out_bits (rows x words_for(units)). */
typedef struct bnn_gemm {
    const bnn_step *step;
    const bnn_word *a;
    size_t rows;
    int32_t *out_int;
    bnn_word *out_bits;
    const uint8_t *x;
    size_t ldx;
    const bnn_word *planes; /* first_dense at small batch: the rows' 8 bit-planes
                               (op_first_dense.c), x and a NULL */
    const void *image;      /* conv layers whose tile of patches fits the tile's
                               buffer (bnn_conv_run): the layer's input, each
                               tile builds its a (or x) rows from it */
    size_t pixel_bytes;     /* with image: bytes per input pixel */
} bnn_gemm;

/* A conv layer (first_conv or conv) end to end (op_gemm.c): its patches,
 * built by the product's tiles themselves where 64 of them fit a tile's
 * buffer, else for the whole batch first into the scratch it asks for. */
bnn_scratch_need bnn_conv_scratch(const bnn_layer *l);
bnn_status bnn_conv_run(const bnn_step *s, const void *in, void *out, size_t n, void *scratch,
                        int threads);

/* Whether step s's weights were packed as panels for kernel set k (only the
 * set active at load packs them; another may be selected since). */
static inline int bnn_step_has_panels(const bnn_step *s, const bnn_kernels *k)
{
    return s->b_panel && s->b_panel_kernel == k->bgemm_panel;
}
bnn_status bnn_gemm_run(const bnn_gemm *g, int threads);

/* Binary layers' prepare: their weights as panels for the active kernel set,
 * where it has a panel form (kernels.h); the product then reads those. */
bnn_status bnn_gemm_weights_prepare(bnn_step *s, uint32_t index);

/* The patches of conv layer l for n samples into cols, pixels of
 * pixel_bytes each (im2col.c); or patch rows [row0, row0 + rows) of them. */
bnn_status bnn_im2col(const bnn_layer *l, const void *in, size_t pixel_bytes, size_t n,
                      void *cols, int threads);
void bnn_im2col_rows(const bnn_layer *l, const void *in, size_t pixel_bytes, size_t row0,
                     size_t rows, void *out);

/* first_dense by bit-planes (first_dense_planes.c): the 8 planes of a row of
 * k bytes (plane p at planes + p * words); sums t (ld apart) of rows
 * i0..i0+mb-1 (mb <= BNN_PLANE_MAX_ROWS) and units u0..u0+nb-1 (nb <= 64). */
#define BNN_PLANES 8
#define BNN_PLANE_MAX_ROWS 2
void bnn_bit_planes(const uint8_t *x, size_t k, size_t words, bnn_word *planes);
void bnn_first_dense_planes_tile(const bnn_step *s, const bnn_kernels *kernels,
                                 const bnn_word *planes, size_t i0, size_t mb, size_t u0,
                                 size_t nb, int32_t *t, size_t ld);

/* First layers' prepare: their weights as the u8gemm panel (op_first_layer.c). */
bnn_status bnn_first_layer_prepare(bnn_step *s, uint32_t index);

/* pad_value zero (zero_padding.c): the tap sums at load, and subtracting
 * the padded taps' contributions from sums t of rows row0.. (rows of
 * n * H' * W' output pixels) and units u0..u0+nb-1. */
bnn_status bnn_zero_padding_prepare(bnn_step *s, uint32_t index);
void bnn_zero_padding_fix(const bnn_step *s, int32_t *t, size_t ld, size_t row0, size_t rows,
                          size_t u0, size_t nb);

/* Threshold step `t` on channels c0..c0+count-1 (c0 a multiple of 64) of
 * `rows` rows of sums s (rows ld_s apart) into packed words at out (rows
 * ld_out words apart) (op_threshold.c). */
void bnn_threshold_rows(const bnn_step *t, const int32_t *s, size_t ld_s, size_t rows, size_t c0,
                        size_t count, bnn_word *out, size_t ld_out);

/* A maxpool that runs on the bits of the threshold layer `thr` (plan.c):
 * its table of flipping channels (op_maxpool.c). */
bnn_status bnn_maxpool_on_bits_prepare(bnn_step *s, const bnn_layer *thr, uint32_t index);

/* Allocate count x item zeroed bytes of a step's table, or fail naming the layer. */
static inline void *bnn_table_alloc(size_t count, size_t item, bnn_status *st, uint32_t index)
{
    void *p = count <= SIZE_MAX / item ? calloc(count ? count : 1, item) : NULL;
    if (!p)
        *st = bnn_fail(BNN_ERR_NOMEM, "layer %u: out of memory for %zu x %zu bytes of tables",
                       index, count, item);
    return p;
}

/* `bytes` of a step's table on a cache line (common/cache_line.h); *alloc
 * gets the allocation to free. Or fail naming the layer and `what`. */
static inline void *bnn_aligned_table(uint64_t bytes, void **alloc, const bnn_layer *l,
                                      uint32_t index, const char *what, bnn_status *st)
{
    void *table = bnn_malloc_on_line(bytes, alloc);
    if (!table)
        *st = bnn_fail(BNN_ERR_NOMEM, "layer %u (%s): out of memory for %llu bytes of %s", index,
                       bnn_layer_type_name(l->type), (unsigned long long)bytes, what);
    return table;
}

#endif
