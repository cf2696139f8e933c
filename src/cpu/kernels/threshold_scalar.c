/* threshold_scalar.c - portable threshold + pack: compares into bytes (a loop
 * the compiler vectorises with the baseline ISA), then 8 bytes of 0/1 become 8
 * bits with one multiply: byte i of v times 0x0102040810204080 has bit i of
 * the result's top byte set from byte i's low bit, and no carries reach it
 * (each byte is 0 or 1). */
#include <string.h>

#include "cpu/kernels/kernels.h"

/* bytes[i] = 1 where channel i's output is -1 (bit 1). */
static void compare(const int32_t *restrict s, const int32_t *restrict mask,
                    const int32_t *restrict key, uint8_t *restrict bytes, size_t n)
{
    if (n == BNN_WORD_BITS) { /* a constant trip count: vectorised even at -O2 */
        for (size_t i = 0; i < BNN_WORD_BITS; i++)
            bytes[i] = (uint8_t)((s[i] ^ mask[i]) < key[i]);
        return;
    }
    for (size_t i = 0; i < n; i++)
        bytes[i] = (uint8_t)((s[i] ^ mask[i]) < key[i]);
}

void bnn_threshold_scalar(const int32_t *s, size_t ld_s, size_t rows, const int32_t *mask,
                          const int32_t *key, size_t count, bnn_word *out, size_t ld_out)
{
    const uint64_t gather = 0x0102040810204080ull;
    size_t words = bnn_words_for(count);
    for (size_t r = 0; r < rows; r++, s += ld_s, out += ld_out) {
        for (size_t w = 0; w < words; w++) {
            size_t base = w * BNN_WORD_BITS;
            size_t n = count - base < BNN_WORD_BITS ? count - base : BNN_WORD_BITS;
            uint8_t bytes[BNN_WORD_BITS] = {0};
            compare(s + base, mask + base, key + base, bytes, n);
            bnn_word word = 0;
            for (size_t b = 0; b < n; b += 8) {
                uint64_t v;
                memcpy(&v, bytes + b, 8);
                word |= ((v * gather) >> 56) << b;
            }
            out[w] = word;
        }
    }
}
