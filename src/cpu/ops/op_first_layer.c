/* op_first_layer.c - what first_dense and first_conv share: their weights
 * laid out at load as the panel the u8gemm kernels read (kernels.h).
 *
 * The paper's first layer: s = sum_p 2^p (x^p . w) over the 8 bit-planes x^p
 * of the uint8 input, w = +-1. By linearity that is the plain integer dot
 * x . w, which the u8gemm kernels compute exactly in int32 (|s| <= 255 K
 * < 2^31 for K <= 2^23, the format's limit) with byte multiply-adds: 8 times
 * fewer passes over K than one popcount product per plane. The panel holds
 * the weights as int8 +-1 (one byte each, 8x their packed size) so every
 * kernel set reads the same layout. */
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "cpu/ops/ops.h"

/* Unit u's weight bit for input element f of a first_dense row, or for
 * channel c of tap t of a first_conv row (stored as (kh, kw, ceil(C/64))
 * words, each tap starting a word). 1 means -1. */
static int weight_bit(const bnn_layer *l, size_t u, size_t t, size_t c)
{
    size_t wc = bnn_words_for(l->in.c);
    bnn_word word = l->type == BNN_LAYER_FIRST_CONV
                        ? l->weights[(u * l->kh * l->kw + t) * wc + c / BNN_WORD_BITS]
                        : l->weights[u * l->row_words + c / BNN_WORD_BITS];
    return (int)((word >> (c % BNN_WORD_BITS)) & 1);
}

bnn_status bnn_first_layer_prepare(bnn_step *s, uint32_t index)
{
    const bnn_layer *l = s->layer;
    /* In 64 bits first: up to 2^16 groups x 2^21 quads x 64 bytes, more
     * than a 32-bit board can address. */
    uint64_t groups = ((uint64_t)l->units + BNN_U8_GROUP - 1) / BNN_U8_GROUP;
    uint64_t quads = ((uint64_t)l->k + BNN_U8_QUAD - 1) / BNN_U8_QUAD;
    uint64_t bytes = groups * quads * BNN_U8_GROUP * BNN_U8_QUAD;
    bnn_status st = BNN_OK;
    int8_t *panel = bnn_aligned_table(bytes, &s->u8_panel_alloc, l, index, "int8 weights", &st);
    if (!panel)
        return st;
    memset(panel, 0, (size_t)bytes); /* padding columns and K positions: 0 */
    /* K order (kh, kw, C) for first_conv: the order of its im2col patches. */
    size_t taps = l->type == BNN_LAYER_FIRST_CONV ? l->kh * l->kw : 1;
    size_t per_tap = l->type == BNN_LAYER_FIRST_CONV ? l->in.c : l->k;
    for (size_t u = 0; u < l->units; u++)
        for (size_t t = 0; t < taps; t++)
            for (size_t c = 0; c < per_tap; c++)
                panel[bnn_u8_panel_index(u, t * per_tap + c, l->k)] =
                    weight_bit(l, u, t, c) ? -1 : 1;
    s->u8_panel = panel;
    return BNN_OK;
}
