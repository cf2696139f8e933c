/* op_dense.c - dense: bits (F,) -> int (units,). The batch's packed rows and
 * the packed weight rows (used in place from the file) are exactly the
 * product's A and B: out[sample][unit] = F - 2 popcount(a XOR w) (op_gemm.c). */
#include "cpu/ops/ops.h"

static bnn_status run(const bnn_step *s, const void *in, void *out, size_t n, void *scratch,
                      int threads)
{
    (void)scratch;
    bnn_gemm g = {.step = s, .a = in, .rows = n, .out_int = out, .out_bits = out};
    return bnn_gemm_run(&g, threads);
}

const bnn_op bnn_op_dense = {.prepare = bnn_gemm_weights_prepare, .run = run};
