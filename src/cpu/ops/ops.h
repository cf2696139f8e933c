/* ops.h - internal: the layer operations the executor (model_run.c) calls,
 * one file each. Every op processes `n` samples laid out one after another
 * (model.h gives the per-domain layouts) and writes its whole output.
 * Ops that need scratch memory say how much (fixed + per sample) and carve
 * it from the `scratch` they are given, 64-byte aligned. */
#ifndef PYBNN_OPS_H
#define PYBNN_OPS_H

#include "cpu/kernels/kernels.h"
#include "format/model.h"

typedef struct bnn_scratch_need {
    uint64_t fixed, per_sample; /* bytes: fixed + n * per_sample */
} bnn_scratch_need;

/* The scratch a layer's op needs (none for most). */
bnn_scratch_need bnn_op_scratch(const bnn_layer *l);

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

/* First layers: their weights as the u8gemm panel (op_first_layer.c), at
 * load; sets l->u8_panel. */
bnn_status bnn_first_layer_prepare(bnn_layer *l, uint32_t index);

/* The product a weighted layer ends in (op_gemm.c), for `rows` rows:
 *   - binary layers: rows of `a` (layer->row_words words each) against the
 *     layer's packed weights (bgemm), then the conv zero-padding correction
 *     (layer->tap_sums);
 *   - first layers (x set, a NULL): uint8 rows of x (layer->k bytes, ldx
 *     apart) against the layer's weight panel (u8gemm);
 * then either int32 sums to out_int (rows x units) or, with `threshold`,
 * packed bits to out_bits (rows x words_for(units)). */
typedef struct bnn_gemm {
    const bnn_layer *layer;
    const bnn_word *a;
    size_t rows;
    int32_t *out_int;
    const bnn_layer *threshold;  /* NULL, or the threshold layer fused in */
    bnn_word *out_bits;
    const uint8_t *x;
    size_t ldx;
} bnn_gemm;
bnn_status bnn_gemm_run(const bnn_gemm *g, int threads);

/* The weighted ops write int32 sums to `out`, or packed bits when a
 * following threshold layer `thr` is fused in (thr may be NULL). */
bnn_scratch_need bnn_op_first_dense_scratch(const bnn_layer *l);
bnn_status bnn_op_first_dense(const bnn_layer *l, const bnn_layer *thr, const uint8_t *in,
                              void *out, size_t n, void *scratch, int threads);
bnn_scratch_need bnn_op_first_conv_scratch(const bnn_layer *l);
bnn_status bnn_op_first_conv(const bnn_layer *l, const bnn_layer *thr, const uint8_t *in,
                             void *out, size_t n, void *scratch, int threads);
bnn_scratch_need bnn_op_conv_scratch(const bnn_layer *l);
bnn_status bnn_op_conv(const bnn_layer *l, const bnn_layer *thr, const bnn_word *in, void *out,
                       size_t n, void *scratch, int threads);
bnn_status bnn_op_dense(const bnn_layer *l, const bnn_layer *thr, const bnn_word *in, void *out,
                        size_t n, int threads);
/* pad_value zero: subtract the padded taps' contributions from sums t of
 * rows row0.. (rows of n * H' * W' output pixels) and units u0..u0+nb-1. */
void bnn_conv_zero_padding_fix(const bnn_layer *l, int32_t *t, size_t ld, size_t row0,
                               size_t rows, size_t u0, size_t nb);

void bnn_op_maxpool_int(const bnn_layer *l, const int32_t *in, int32_t *out, size_t n);
/* maxpool on int then threshold `thr`, in one pass; overwrites `in`. */
void bnn_op_maxpool_int_threshold(const bnn_layer *l, const bnn_layer *thr, int32_t *in,
                                  bnn_word *out, size_t n);
void bnn_op_maxpool_bits(const bnn_layer *l, const bnn_word *in, bnn_word *out, size_t n);
void bnn_op_threshold(const bnn_layer *l, const int32_t *in, bnn_word *out, size_t n);
/* Channels c0..c0+count-1 (c0 a multiple of 64) of `rows` rows of sums s
 * (rows ld_s apart) into packed words at out (rows ld_out words apart). */
void bnn_threshold_rows(const bnn_layer *l, const int32_t *s, size_t ld_s, size_t rows,
                        size_t c0, size_t count, bnn_word *out, size_t ld_out);
/* Flatten is a plain reshape unless the input is bits with C % 64 != 0 on
 * more than one pixel: then each pixel's C bits are repacked contiguously. */
int bnn_op_flatten_is_noop(const bnn_layer *l);
void bnn_op_flatten_bits(const bnn_layer *l, const bnn_word *in, bnn_word *out, size_t n);
/* maxpool (thr: fused with its threshold), threshold or flatten of bits on n
 * samples, split across up to `threads` threads (op_unweighted.c). */
bnn_status bnn_op_unweighted(const bnn_layer *l, const bnn_layer *thr, const void *in, void *out,
                             size_t n, int threads);
void bnn_op_affine(const bnn_layer *l, const int32_t *in, float *out, size_t n);

#endif
