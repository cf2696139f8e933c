/* pack_avx2.c - packing with compare + movemask: 8 floats or 32 int8 per step.
 *
 * Rows of any length k: whole 64-value words are packed straight from the
 * row; the last partial word from a zero-filled copy of the row's tail. Zero
 * packs as bit 0, which is exactly the padding, and no load reads past the
 * row (the last row may end at the end of the buffer). */
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels/kernels.h"

static inline bnn_word pack_word_f32(const float *p)
{
    const __m256 zero = _mm256_setzero_ps();
    bnn_word word = 0;
    for (int q = 0; q < 8; q++) {
        /* ordered x < 0: false for -0.0 and NaN, as in the reference */
        __m256 negative = _mm256_cmp_ps(_mm256_loadu_ps(p + 8 * q), zero, _CMP_LT_OQ);
        word |= (bnn_word)(unsigned)_mm256_movemask_ps(negative) << (8 * q);
    }
    return word;
}

static inline bnn_word pack_word_i8(const int8_t *p)
{
    /* movemask_epi8 takes each byte's sign bit: exactly x < 0 */
    uint32_t lo = (uint32_t)_mm256_movemask_epi8(_mm256_loadu_si256((const __m256i *)p));
    uint32_t hi = (uint32_t)_mm256_movemask_epi8(_mm256_loadu_si256((const __m256i *)(p + 32)));
    return (bnn_word)lo | ((bnn_word)hi << 32);
}

void bnn_pack_f32_avx2(const float *x, size_t rows, size_t k, bnn_word *out)
{
    size_t whole = k / BNN_WORD_BITS, rest = k % BNN_WORD_BITS, words = bnn_words_for(k);
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * k;
        bnn_word *o = out + r * words;
        for (size_t w = 0; w < whole; w++)
            o[w] = pack_word_f32(row + w * BNN_WORD_BITS);
        if (rest) {
            float tail[BNN_WORD_BITS] = {0};
            memcpy(tail, row + whole * BNN_WORD_BITS, rest * sizeof(float));
            o[whole] = pack_word_f32(tail);
        }
    }
}

void bnn_pack_i8_avx2(const int8_t *x, size_t rows, size_t k, bnn_word *out)
{
    size_t whole = k / BNN_WORD_BITS, rest = k % BNN_WORD_BITS, words = bnn_words_for(k);
    for (size_t r = 0; r < rows; r++) {
        const int8_t *row = x + r * k;
        bnn_word *o = out + r * words;
        for (size_t w = 0; w < whole; w++)
            o[w] = pack_word_i8(row + w * BNN_WORD_BITS);
        if (rest) {
            int8_t tail[BNN_WORD_BITS] = {0};
            memcpy(tail, row + whole * BNN_WORD_BITS, rest);
            o[whole] = pack_word_i8(tail);
        }
    }
}
