/* op_first_dense.c - first_dense: uint8 (F,) -> int (units,). The batch's
 * input rows are the product's x as they are (F bytes apart), against the
 * weight panel made at load (op_first_layer.c); op_gemm.c runs the u8gemm
 * kernel tile by tile. No scratch. */
#include "cpu/ops/ops.h"

static bnn_status run(const bnn_step *s, const void *in, void *out, size_t n, void *scratch,
                      int threads)
{
    (void)scratch;
    bnn_gemm g = {.step = s, .x = in, .ldx = s->layer->k, .rows = n, .out_int = out,
                  .out_bits = out};
    return bnn_gemm_run(&g, threads);
}

const bnn_op bnn_op_first_dense = {.prepare = bnn_first_layer_prepare, .run = run};
