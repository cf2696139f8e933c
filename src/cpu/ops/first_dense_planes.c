/* first_dense_planes.c - first_dense by bit-planes (op_first_dense.c says
 * when and why): a row's 8 bit-planes, and a tile of the product summed back
 * from the planes' binary products. Called by op_first_dense.c (the planes)
 * and op_gemm.c (the tiles). */
#include <string.h>

#include "cpu/ops/ops.h"

/* The bit-planes of one row of k bytes: plane p at planes + p * words. Bit p
 * of 8 bytes at once: masked to one bit per byte, then the multiply gathers
 * byte i's bit into bit 56 + i (each byte is 0 or 1: no carries reach it). */
void bnn_bit_planes(const uint8_t *x, size_t k, size_t words, bnn_word *planes)
{
    const uint64_t low_bits = 0x0101010101010101ull, gather = 0x0102040810204080ull;
    memset(planes, 0, BNN_PLANES * words * sizeof *planes);
    for (size_t i = 0; i < k; i += 8) {
        uint64_t v = 0;
        memcpy(&v, x + i, k - i < 8 ? k - i : 8); /* past k: 0 bytes, so 0 bits */
        for (int p = 0; p < BNN_PLANES; p++)
            planes[p * words + i / BNN_WORD_BITS] |=
                ((((v >> p) & low_bits) * gather) >> 56) << (i % BNN_WORD_BITS);
    }
}

void bnn_first_dense_planes_tile(const bnn_step *s, const bnn_kernels *kernels,
                                 const bnn_word *planes, size_t i0, size_t mb, size_t u0,
                                 size_t nb, int32_t *t, size_t ld)
{
    const bnn_layer *l = s->layer;
    size_t words = l->row_words;
    int32_t c[BNN_PLANE_MAX_ROWS * BNN_PLANES * 64];
    const bnn_word *a = planes + i0 * BNN_PLANES * words;
    if (bnn_step_has_panels(s, kernels))
        kernels->bgemm_panel(mb * BNN_PLANES, nb, words, a,
                             bnn_panel_column(kernels, s->b_panel, u0, words), c, nb,
                             (int32_t)l->k);
    else /* a set with planes_on_rows: the weights as they are */
        kernels->bgemm(mb * BNN_PLANES, nb, words, a, l->weights + u0 * words, c, nb,
                       (int32_t)l->k);
    for (size_t i = 0; i < mb; i++)
        for (size_t j = 0; j < nb; j++) {
            int32_t sum = -255 * s->neg_counts[u0 + j];
            for (int p = 0; p < BNN_PLANES; p++)
                sum += (((int32_t)l->k - c[(i * BNN_PLANES + p) * nb + j]) / 2) << p;
            t[i * ld + j] = sum;
        }
}

