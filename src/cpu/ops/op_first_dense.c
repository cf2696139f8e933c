/* op_first_dense.c - first_dense: uint8 (F,) -> int (units,), in one of two
 * exact forms, chosen per call by the batch:
 *
 * - u8gemm (op_first_layer.c): the input rows as they are against the int8
 *   weight panel made at load. Fewest instructions, but the panel is 8 bytes
 *   per weight bit: at batch 1 the product streams it from memory for one row
 *   (784 x 4096 weights: 3.2 MB per call), and that dominates.
 * - bit-planes, for batches of up to BNN_PLANE_MAX_ROWS where the kernel set
 *   has a panel form: each row becomes its 8 bit-planes x^p (packed rows of
 *   0/1), and the binary product reads the weights' bits (8x fewer bytes)
 *   for 8 rows at once. With b_j the weight bits of unit j (1 = -1) and
 *   d = popcount(x^p XOR b_j) = (K - bgemm) / 2:
 *     x^p . w_j = popcount(x^p) - 2 popcount(x^p AND b_j)
 *              = d - popcount(b_j)
 *   so s_j = sum_p 2^p x^p . w_j = sum_p 2^p d_pj - 255 popcount(b_j),
 *   exact in int32 (|s_j| <= 255 K).
 * Either way op_gemm.c runs the product tile by tile (and the threshold). */
#include <string.h>

#include "cpu/ops/ops.h"

/* The bit-planes of one row of k bytes: plane p at planes + p * words. Bit p
 * of 8 bytes at once: masked to one bit per byte, then the multiply gathers
 * byte i's bit into bit 56 + i (each byte is 0 or 1: no carries reach it). */
static void bit_planes(const uint8_t *x, size_t k, size_t words, bnn_word *planes)
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
    kernels->bgemm_panel(mb * BNN_PLANES, nb, words, planes + i0 * BNN_PLANES * words,
                         s->b_panel + u0 * words, c, nb, (int32_t)l->k);
    for (size_t i = 0; i < mb; i++)
        for (size_t j = 0; j < nb; j++) {
            int32_t sum = -255 * s->neg_counts[u0 + j];
            for (int p = 0; p < BNN_PLANES; p++)
                sum += (((int32_t)l->k - c[(i * BNN_PLANES + p) * nb + j]) / 2) << p;
            t[i * ld + j] = sum;
        }
}

static bnn_scratch_need scratch_need(const bnn_layer *l)
{
    bnn_scratch_need need = {0, bnn_align64(BNN_PLANES * l->row_words * sizeof(bnn_word))};
    return need;
}

static bnn_status run(const bnn_step *s, const void *in, void *out, size_t n, void *scratch,
                      int threads)
{
    const bnn_layer *l = s->layer;
    bnn_gemm g = {.step = s, .rows = n, .out_int = out, .out_bits = out};
    if (n <= BNN_PLANE_MAX_ROWS && s->b_panel &&
        s->b_panel_kernel == bnn_active_kernels()->bgemm_panel) {
        for (size_t i = 0; i < n; i++)
            bit_planes((const uint8_t *)in + i * l->k, l->k, l->row_words,
                       (bnn_word *)scratch + i * BNN_PLANES * l->row_words);
        g.planes = scratch;
    } else {
        g.x = in;
        g.ldx = l->k;
    }
    return bnn_gemm_run(&g, threads);
}

/* Both forms' tables: the int8 panel, and where the kernel set has a panel
 * form, the weight bits as panels and each unit's count of -1 weights. */
static bnn_status prepare(bnn_step *s, uint32_t index)
{
    const bnn_layer *l = s->layer;
    bnn_status st = bnn_first_layer_prepare(s, index);
    if (st == BNN_OK)
        st = bnn_gemm_weights_prepare(s, index);
    if (st != BNN_OK || !s->b_panel)
        return st;
    s->neg_counts = bnn_table_alloc(l->units, sizeof(int32_t), &st, index);
    for (size_t u = 0; s->neg_counts && u < l->units; u++)
        for (size_t w = 0; w < l->row_words; w++)
            s->neg_counts[u] += (int32_t)__builtin_popcountll(l->weights[u * l->row_words + w]);
    return st;
}

const bnn_op bnn_op_first_dense = {.prepare = prepare, .scratch = scratch_need, .run = run};
