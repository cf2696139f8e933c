/* op_first_dense.c - first_dense: uint8 (F,) -> int (units,) by bit-planes
 * (op_bitplanes.c): the batch's 8 planes, then one bgemm per plane against
 * the packed weights (used in place from the file), summed with weights 2^p. */
#include "errors.h"
#include "ops.h"

bnn_scratch_need bnn_op_first_dense_scratch(const bnn_layer *l)
{
    /* Per sample: 8 planes of row_words words, and one int32 row of partial sums. */
    bnn_scratch_need need = {0, bnn_align64(8 * 8 * (uint64_t)l->row_words) +
                                    bnn_align64(4 * (uint64_t)l->units)};
    return need;
}

bnn_status bnn_op_first_dense(const bnn_layer *l, const uint8_t *in, int32_t *out, size_t n,
                              void *scratch, int threads)
{
    size_t f = l->k, words = l->row_words, units = l->units;
    bnn_word *planes = scratch; /* [plane][sample][words] */
    int32_t *partial = (int32_t *)((char *)scratch + bnn_align64(8 * 8 * (uint64_t)words * n));
    for (size_t s = 0; s < n; s++)
        bnn_bitplanes_u8(in + s * f, f, planes + s * words, n * words);
    bnn_status st = bnn_bgemm_rows(planes, l->weights, out, n, units, words, f, threads);
    for (int p = 1; p < 8 && st == BNN_OK; p++) {
        st = bnn_bgemm_rows(planes + (size_t)p * n * words, l->weights, partial, n, units, words,
                            f, threads);
        for (size_t i = 0; i < n * units; i++)
            out[i] += partial[i] * (1 << p);
    }
    if (st == BNN_OK)
        bnn_first_layer_finish(out, n, units, f, l->weight_pc);
    return st;
}
