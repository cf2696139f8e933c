/* ops.h - internal: the layer operations the executor (model_run.c) calls,
 * one file each. Every op processes `n` samples laid out one after another
 * (model.h gives the per-domain layouts) and writes its whole output.
 * Ops that need scratch memory say how much (fixed + per sample) and carve
 * it from the `scratch` they are given, 64-byte aligned. */
#ifndef PYBNN_OPS_H
#define PYBNN_OPS_H

#include "kernels.h"
#include "model.h"

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

/* Bit-planes of `len` bytes: plane p (0 = least significant bit) gets
 * bnn_words_for(len) words at out + p * plane_stride; bit i of plane p is
 * bit p of x[i]. Padding bits are 0. */
void bnn_bitplanes_u8(const uint8_t *x, size_t len, bnn_word *out, size_t plane_stride);

/* First layers (uint8 input, by bit-planes). */
bnn_scratch_need bnn_op_first_dense_scratch(const bnn_layer *l);
bnn_status bnn_op_first_dense(const bnn_layer *l, const uint8_t *in, int32_t *out, size_t n,
                              void *scratch, int threads);
bnn_scratch_need bnn_op_first_conv_scratch(const bnn_layer *l);
bnn_status bnn_op_first_conv(const bnn_layer *l, const uint8_t *in, int32_t *out, size_t n,
                             void *scratch, int threads);
/* Combine per-plane bgemm results: acc holds sum_p 2^p c_p, c_p = K - 2 popcount(x^p ^ w);
 * becomes s = sum_p 2^p (x^p . w). weight_pc: popcount of each weight row. */
void bnn_first_layer_finish(int32_t *acc, size_t rows, size_t units, size_t k,
                            const int32_t *weight_pc);

/* Binary layers (packed input). */
bnn_scratch_need bnn_op_conv_scratch(const bnn_layer *l);
bnn_status bnn_op_conv(const bnn_layer *l, const bnn_word *in, int32_t *out, size_t n,
                       void *scratch, int threads);
bnn_status bnn_op_dense(const bnn_layer *l, const bnn_word *in, int32_t *out, size_t n,
                        int threads);

void bnn_op_maxpool_int(const bnn_layer *l, const int32_t *in, int32_t *out, size_t n);
void bnn_op_maxpool_bits(const bnn_layer *l, const bnn_word *in, bnn_word *out, size_t n);
void bnn_op_threshold(const bnn_layer *l, const int32_t *in, bnn_word *out, size_t n);
/* Flatten is a plain reshape unless the input is bits with C % 64 != 0 on
 * more than one pixel: then each pixel's C bits are repacked contiguously. */
int bnn_op_flatten_is_noop(const bnn_layer *l);
void bnn_op_flatten_bits(const bnn_layer *l, const bnn_word *in, bnn_word *out, size_t n);
void bnn_op_affine(const bnn_layer *l, const int32_t *in, float *out, size_t n);

#endif
