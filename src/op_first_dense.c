/* op_first_dense.c - first_dense: uint8 (F,) -> int (units,) by bit-planes
 * (op_first_layer.c): the batch's 8 planes, then their product with the
 * packed weights, used in place from the file (op_gemm.c). */
#include "errors.h"
#include "ops.h"

bnn_scratch_need bnn_op_first_dense_scratch(const bnn_layer *l)
{
    bnn_scratch_need need = {0, 8 * 8 * (uint64_t)l->row_words}; /* 8 planes per sample */
    return need;
}

bnn_status bnn_op_first_dense(const bnn_layer *l, const bnn_layer *thr, const uint8_t *in,
                              void *out, size_t n, void *scratch, int threads)
{
    size_t f = l->k, words = l->row_words;
    bnn_word *planes = scratch; /* [plane][sample][words] */
    for (size_t s = 0; s < n; s++)
        bnn_bitplanes_u8(in + s * f, f, planes + s * words, n * words);
    bnn_gemm g = {l, planes, n, 8, out, thr, out};
    return bnn_gemm_run(&g, threads);
}
