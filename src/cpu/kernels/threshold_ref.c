/* threshold_ref.c - the reference threshold + pack: one bit at a time. */
#include "cpu/kernels/kernels.h"

void bnn_threshold_ref(const int32_t *s, size_t ld_s, size_t rows, const int32_t *mask,
                       const int32_t *key, size_t count, bnn_word *out, size_t ld_out)
{
    for (size_t r = 0; r < rows; r++, s += ld_s, out += ld_out) {
        for (size_t w = 0; w < bnn_words_for(count); w++)
            out[w] = 0;
        for (size_t c = 0; c < count; c++)
            if ((s[c] ^ mask[c]) < key[c])
                out[c / BNN_WORD_BITS] |= (bnn_word)1 << (c % BNN_WORD_BITS);
    }
}
