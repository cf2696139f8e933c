/* op_first_layer.c - what first_dense and first_conv share: the 8 bit-planes
 * of uint8 data.
 *
 * The paper's first layer: s = sum_p 2^p (x^p . w) with x^p in {0, 1} the
 * bit-planes of x and w = +-1 (bit 1 for -1). Since
 *   x^p . w = popcount(x^p) - 2 popcount(x^p AND w) = popcount(x^p XOR w) - popcount(w),
 * each plane is an ordinary bgemm (the kernel returns c_p = K - 2 popcount(x^p XOR w)),
 * and s = (255 K - sum_p 2^p c_p) / 2 - 255 popcount(w), exactly; op_gemm.c
 * does that per tile. */
#include <string.h>

#include "ops.h"

void bnn_bitplanes_u8(const uint8_t *x, size_t len, bnn_word *out, size_t plane_stride)
{
    const uint64_t low_bits = 0x0101010101010101ull;
    /* Multiplying the bytes' low bits by this gathers them, in order, into
     * the top byte: byte t's bit lands on bit 56 + t with no carries. */
    const uint64_t gather = 0x0102040810204080ull;
    size_t words = bnn_words_for(len);
    for (size_t w = 0; w < words; w++) {
        size_t base = w * BNN_WORD_BITS;
        size_t count = len - base < BNN_WORD_BITS ? len - base : BNN_WORD_BITS;
        uint64_t acc[8] = {0};
        for (size_t b = 0; b < count; b += 8) {
            uint64_t v = 0;
            /* Host byte order is little-endian (checked at load): byte t of
             * the chunk is bits 8t..8t+7 of v. Bytes past the end stay 0. */
            memcpy(&v, x + base + b, count - b < 8 ? count - b : 8);
            for (int p = 0; p < 8; p++)
                acc[p] |= ((((v >> p) & low_bits) * gather) >> 56) << b;
        }
        for (int p = 0; p < 8; p++)
            out[p * plane_stride + w] = acc[p];
    }
}
