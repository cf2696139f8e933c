/* pack_avx512.c - packing with mask compares: 16 floats or 64 int8 per step.
 *
 * Rows of any length k: the last partial word of a row is read with masked
 * loads, which read nothing past the row (and cannot fault there); masked-off
 * lanes load as 0, which packs as bit 0, exactly the padding. */
#include <immintrin.h>

#include "cpu/kernels/kernels.h"

/* The first `count` (1..64) floats at p as one word. */
static inline bnn_word pack_word_f32(const float *p, size_t count)
{
    const __m512 zero = _mm512_setzero_ps();
    bnn_word word = 0;
    for (size_t start = 0; start < count; start += 16) {
        size_t n = count - start < 16 ? count - start : 16;
        __m512 v = _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p + start);
        /* ordered x < 0: false for -0.0 and NaN, as in the reference */
        word |= (bnn_word)_mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ) << start;
    }
    return word;
}

void bnn_pack_f32_avx512(const float *x, size_t rows, size_t k, bnn_word *out)
{
    size_t whole = k / BNN_WORD_BITS, rest = k % BNN_WORD_BITS, words = bnn_words_for(k);
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * k;
        bnn_word *o = out + r * words;
        for (size_t w = 0; w < whole; w++)
            o[w] = pack_word_f32(row + w * BNN_WORD_BITS, BNN_WORD_BITS);
        if (rest)
            o[whole] = pack_word_f32(row + whole * BNN_WORD_BITS, rest);
    }
}

void bnn_pack_i8_avx512(const int8_t *x, size_t rows, size_t k, bnn_word *out)
{
    size_t whole = k / BNN_WORD_BITS, rest = k % BNN_WORD_BITS, words = bnn_words_for(k);
    for (size_t r = 0; r < rows; r++) {
        const int8_t *row = x + r * k;
        bnn_word *o = out + r * words;
        /* movepi8_mask takes each byte's sign bit: exactly x < 0 */
        for (size_t w = 0; w < whole; w++)
            o[w] = (bnn_word)_mm512_movepi8_mask(_mm512_loadu_si512(row + w * BNN_WORD_BITS));
        if (rest)
            o[whole] = (bnn_word)_mm512_movepi8_mask(
                _mm512_maskz_loadu_epi8((__mmask64)((1ull << rest) - 1), row + whole * BNN_WORD_BITS));
    }
}
