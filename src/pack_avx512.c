/* pack_avx512.c - packing with mask compares, 64 values per word in 4 or 1 steps. */
#include <immintrin.h>

#include "kernels.h"

void bnn_pack_f32_avx512(const float *x, size_t rows, size_t k, bnn_word *out)
{
    if (k % BNN_WORD_BITS) {
        bnn_pack_f32_scalar(x, rows, k, out);
        return;
    }
    size_t words = k / BNN_WORD_BITS;
    const __m512 zero = _mm512_setzero_ps();
    for (size_t r = 0; r < rows; r++)
        for (size_t w = 0; w < words; w++) {
            const float *p = x + r * k + w * BNN_WORD_BITS;
            bnn_word word = 0;
            for (int q = 0; q < 4; q++)
                word |= (bnn_word)_mm512_cmp_ps_mask(_mm512_loadu_ps(p + 16 * q), zero, _CMP_LT_OQ)
                        << (16 * q);
            out[r * words + w] = word;
        }
}

void bnn_pack_i8_avx512(const int8_t *x, size_t rows, size_t k, bnn_word *out)
{
    if (k % BNN_WORD_BITS) {
        bnn_pack_i8_scalar(x, rows, k, out);
        return;
    }
    size_t words = k / BNN_WORD_BITS;
    for (size_t r = 0; r < rows; r++)
        for (size_t w = 0; w < words; w++)
            out[r * words + w] = (bnn_word)_mm512_movepi8_mask(
                _mm512_loadu_si512(x + r * k + w * BNN_WORD_BITS));
}
