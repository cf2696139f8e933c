/* op_threshold.c - threshold: int (..., C) -> bits (..., C), the folded
 * batch-norm + sign. Output -1 (bit 1) where s < t (flip 0) or s > t
 * (flip 1); +1 (bit 0) otherwise, so ties go to +1.
 *
 * Branch-free: with m = 0 (flip 0) or -1 (flip 1), s > t <=> ~s < ~t, so
 * bit = (s ^ m) < (t ^ m) in both cases; model_prepare.c stores m and t ^ m.
 * Bits are gathered 8 at a time from bytes with a multiply (op_bitplanes.c
 * explains the constant), which keeps this well below the bgemm's cost. */
#include <string.h>

#include "ops.h"

void bnn_op_threshold(const bnn_layer *l, const int32_t *in, bnn_word *out, size_t n)
{
    const uint64_t gather = 0x0102040810204080ull;
    size_t c = l->in.c, wc = bnn_words_for(c), rows = n * l->in.h * l->in.w;
    const int32_t *mask = l->thr_mask, *key = l->thr_key;
    for (size_t r = 0; r < rows; r++, in += c, out += wc) {
        for (size_t w = 0; w < wc; w++) {
            size_t base = w * BNN_WORD_BITS;
            size_t count = c - base < BNN_WORD_BITS ? c - base : BNN_WORD_BITS;
            uint8_t bytes[BNN_WORD_BITS] = {0};
            for (size_t i = 0; i < count; i++)
                bytes[i] = (uint8_t)((in[base + i] ^ mask[base + i]) < key[base + i]);
            bnn_word word = 0;
            for (size_t b = 0; b < count; b += 8) {
                uint64_t v;
                memcpy(&v, bytes + b, 8);
                word |= ((v * gather) >> 56) << b;
            }
            out[w] = word;
        }
    }
}
