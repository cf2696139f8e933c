/* op_dense.c - dense: bits (F,) -> int (units,). The batch's packed rows and
 * the packed weight rows (used in place from the file) are exactly the
 * product's A and B: out[sample][unit] = F - 2 popcount(a XOR w) (op_gemm.c). */
#include "cpu/ops/ops.h"

bnn_status bnn_op_dense(const bnn_layer *l, const bnn_layer *thr, const bnn_word *in, void *out,
                        size_t n, int threads)
{
    bnn_gemm g = {.layer = l, .a = in, .rows = n, .out_int = out, .threshold = thr,
                  .out_bits = out};
    return bnn_gemm_run(&g, threads);
}
