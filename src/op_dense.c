/* op_dense.c - dense: bits (F,) -> int (units,). The batch's packed rows and
 * the packed weight rows (used in place from the file) are exactly bgemm's
 * A and B: out[sample][unit] = F - 2 popcount(a XOR w). */
#include "ops.h"

bnn_status bnn_op_dense(const bnn_layer *l, const bnn_word *in, int32_t *out, size_t n,
                        int threads)
{
    return bnn_bgemm_rows(in, l->weights, out, n, l->units, l->row_words, l->k, threads);
}
