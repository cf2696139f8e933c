/* op_first_conv.c - first_conv: uint8 (H, W, C) -> int (H', W', units) as
 * im2col (im2col.c) + u8gemm. A patch is K = kh*kw*C bytes in (i, j, c)
 * order, the K order of the weight panel (op_first_layer.c); out-of-image
 * taps are pixel value 0, which contributes nothing, as `same` padding of
 * the first layer requires. Then the product, tile by tile (op_gemm.c). */
#include "cpu/ops/ops.h"

static bnn_scratch_need scratch_need(const bnn_layer *l)
{
    bnn_scratch_need need = {0, bnn_align64((uint64_t)l->out.h * l->out.w * l->k)};
    return need;
}

static bnn_status run(const bnn_step *s, const void *in, void *out, size_t n, void *scratch,
                      int threads)
{
    const bnn_layer *l = s->layer;
    bnn_status st = bnn_im2col(l, in, l->in.c, n, scratch, threads);
    bnn_gemm g = {.step = s, .x = scratch, .ldx = l->k, .rows = n * l->out.h * l->out.w,
                  .out_int = out, .out_bits = out};
    return st == BNN_OK ? bnn_gemm_run(&g, threads) : st;
}

const bnn_op bnn_op_first_conv = {.prepare = bnn_first_layer_prepare, .scratch = scratch_need,
                                  .run = run};
