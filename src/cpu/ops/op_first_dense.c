/* op_first_dense.c - first_dense: uint8 (F,) -> int (units,), in one of two
 * exact forms, chosen per call by the batch:
 *
 * - u8gemm (op_first_layer.c): the input rows as they are against the int8
 *   weight panel made at load. Fewest instructions, but the panel is 8 bytes
 *   per weight bit: at batch 1 the product streams it from memory for one row
 *   (784 x 4096 weights: 3.2 MB per call), and that dominates.
 * - bit-planes, for batches of up to BNN_PLANE_MAX_ROWS where the kernel set
 *   has a panel form of the weights' bits (not AVX2's split panels: see
 *   prepare), or says they pay on the weights as rows too
 *   (planes_on_rows, kernels.h): each row becomes its 8 bit-planes x^p
 *   (packed rows of 0/1), and the binary product reads the weights' bits
 *   (8x fewer bytes) for 8 rows at once. With b_j the weight bits of unit j
 *   (1 = -1) and d = popcount(x^p XOR b_j) = (K - bgemm) / 2:
 *     x^p . w_j = popcount(x^p) - 2 popcount(x^p AND b_j)
 *              = d - popcount(b_j)
 *   so s_j = sum_p 2^p x^p . w_j = sum_p 2^p d_pj - 255 popcount(b_j),
 *   exact in int32 (|s_j| <= 255 K).
 * Either way op_gemm.c runs the product tile by tile (and the threshold);
 * first_dense_planes.c makes the planes and sums a tile back. */
#include "cpu/ops/ops.h"

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
    const bnn_kernels *kernels = bnn_active_kernels();
    if (n <= BNN_PLANE_MAX_ROWS && (bnn_step_has_panels(s, kernels) || kernels->planes_on_rows)) {
        for (size_t i = 0; i < n; i++)
            bnn_bit_planes((const uint8_t *)in + i * l->k, l->k, l->row_words,
                       (bnn_word *)scratch + i * BNN_PLANES * l->row_words);
        g.planes = scratch;
    } else {
        g.x = in;
        g.ldx = l->k;
    }
    return bnn_gemm_run(&g, threads);
}

/* Both forms' tables: the int8 panel, the weight bits as panels where the
 * kernel set has a panel form the planes use, and each unit's count of -1
 * weights (the planes may run on any set: one that selects itself after
 * loading, or has planes_on_rows). Not split panels (AVX2): read twice the
 * weights' bytes, the planes' 8 binary products lose to the u8gemm even at
 * batch 1 (Zen 3, the paper's MLP, old and new libraries alternating in one
 * process 21 times, ms/image, u8gemm -> planes: 0.283 -> 0.290 on 1 thread,
 * 0.133 -> 0.137 on 2), and without them run() takes the u8gemm. */
static bnn_status prepare(bnn_step *s, uint32_t index)
{
    const bnn_layer *l = s->layer;
    bnn_status st = bnn_first_layer_prepare(s, index);
    if (st == BNN_OK && !bnn_active_kernels()->panel_split)
        st = bnn_gemm_weights_prepare(s, index);
    if (st != BNN_OK)
        return st;
    s->neg_counts = bnn_table_alloc(l->units, sizeof(int32_t), &st, index);
    for (size_t u = 0; s->neg_counts && u < l->units; u++)
        for (size_t w = 0; w < l->row_words; w++)
            s->neg_counts[u] += (int32_t)__builtin_popcountll(l->weights[u * l->row_words + w]);
    return st;
}

const bnn_op bnn_op_first_dense = {.prepare = prepare, .scratch = scratch_need, .run = run};
