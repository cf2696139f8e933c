/* op_conv.c - conv: bits (H, W, C) -> int (H', W', units) as im2col + bgemm.
 *
 * Every pixel holds ceil(C/64) words with zero padding bits, so a patch is
 * kh*kw*ceil(C/64) words in (i, j, word) order: exactly a stored weight row
 * (units, kh, kw, ceil(C/64)), and K = kh*kw*C stays the true count because
 * padding bits are 0 on both sides. Taps outside the image are words of 0
 * bits, i.e. +1: exactly pad_value `one` (im2col.c). For pad_value `zero`
 * those taps must contribute nothing: zero_padding.c subtracts them from the
 * border pixels' sums, tile by tile inside the product. The patches and
 * the product: bnn_conv_run (op_gemm.c). */
#include "cpu/ops/ops.h"

/* The weight panels; and only pad_value zero with same padding has padded
 * taps to correct. */
static bnn_status prepare(bnn_step *s, uint32_t index)
{
    bnn_status st = bnn_gemm_weights_prepare(s, index);
    if (st == BNN_OK && s->layer->pad_zero && s->layer->same)
        st = bnn_zero_padding_prepare(s, index);
    return st;
}

const bnn_op bnn_op_conv = {.prepare = prepare, .scratch = bnn_conv_scratch, .run = bnn_conv_run};
