/* op_first_dense.c - first_dense: uint8 (F,) -> int (units,). The batch's
 * input rows are the product's x as they are (F bytes apart), against the
 * weight panel made at load (op_first_layer.c); op_gemm.c runs the u8gemm
 * kernel tile by tile. No scratch. */
#include "cpu/ops/ops.h"

bnn_scratch_need bnn_op_first_dense_scratch(const bnn_layer *l)
{
    bnn_scratch_need none = {0, 0};
    (void)l;
    return none;
}

bnn_status bnn_op_first_dense(const bnn_layer *l, const bnn_layer *thr, const uint8_t *in,
                              void *out, size_t n, void *scratch, int threads)
{
    (void)scratch;
    bnn_gemm g = {.layer = l, .x = in, .ldx = l->k, .rows = n, .out_int = out,
                  .threshold = thr, .out_bits = out};
    return bnn_gemm_run(&g, threads);
}
