/* op_conv.c - conv: bits (H, W, C) -> int (H', W', units) as im2col + bgemm.
 *
 * Every pixel holds ceil(C/64) words with zero padding bits, so a patch is
 * kh*kw*ceil(C/64) words in (i, j, word) order: exactly a stored weight row
 * (units, kh, kw, ceil(C/64)), and K = kh*kw*C stays the true count because
 * padding bits are 0 on both sides. Taps outside the image are words of 0
 * bits, i.e. +1: exactly pad_value `one` (im2col.c). For pad_value `zero`
 * those taps must contribute nothing: zero_padding.c subtracts them from the
 * border pixels' sums, tile by tile inside the product (op_gemm.c). */
#include "cpu/ops/ops.h"

static bnn_scratch_need scratch_need(const bnn_layer *l)
{
    bnn_scratch_need need = {0, bnn_align64(8 * (uint64_t)l->out.h * l->out.w * l->row_words)};
    return need;
}

static bnn_status run(const bnn_step *s, const void *in, void *out, size_t n, void *scratch,
                      int threads)
{
    const bnn_layer *l = s->layer;
    bnn_status st = bnn_im2col(l, in, bnn_words_for(l->in.c) * sizeof(bnn_word), n, scratch,
                               threads);
    bnn_gemm g = {.step = s, .a = scratch, .rows = n * l->out.h * l->out.w, .out_int = out,
                  .out_bits = out};
    return st == BNN_OK ? bnn_gemm_run(&g, threads) : st;
}

/* Only pad_value zero with same padding has padded taps to correct. */
static bnn_status prepare(bnn_step *s, uint32_t index)
{
    return s->layer->pad_zero && s->layer->same ? bnn_zero_padding_prepare(s, index) : BNN_OK;
}

const bnn_op bnn_op_conv = {.prepare = prepare, .scratch = scratch_need, .run = run};
