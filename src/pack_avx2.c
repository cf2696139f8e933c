/* pack_avx2.c - packing with compare + movemask, 32 values per step. */
#include <immintrin.h>

#include "kernels.h"

void bnn_pack_f32_avx2(const float *x, size_t rows, size_t k, bnn_word *out)
{
    if (k % BNN_WORD_BITS) { /* rows are not word aligned: keep it simple */
        bnn_pack_f32_scalar(x, rows, k, out);
        return;
    }
    size_t words = k / BNN_WORD_BITS;
    const __m256 zero = _mm256_setzero_ps();
    for (size_t r = 0; r < rows; r++)
        for (size_t w = 0; w < words; w++) {
            const float *p = x + r * k + w * BNN_WORD_BITS;
            bnn_word word = 0;
            for (int q = 0; q < 8; q++) {
                __m256 v = _mm256_loadu_ps(p + 8 * q);
                word |= (bnn_word)(unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_LT_OQ))
                        << (8 * q);
            }
            out[r * words + w] = word;
        }
}

void bnn_pack_i8_avx2(const int8_t *x, size_t rows, size_t k, bnn_word *out)
{
    if (k % BNN_WORD_BITS) {
        bnn_pack_i8_scalar(x, rows, k, out);
        return;
    }
    size_t words = k / BNN_WORD_BITS;
    for (size_t r = 0; r < rows; r++)
        for (size_t w = 0; w < words; w++) {
            const int8_t *p = x + r * k + w * BNN_WORD_BITS;
            /* movemask_epi8 takes each byte's sign bit: exactly x < 0 */
            uint32_t lo = (uint32_t)_mm256_movemask_epi8(_mm256_loadu_si256((const __m256i *)p));
            uint32_t hi = (uint32_t)_mm256_movemask_epi8(_mm256_loadu_si256((const __m256i *)(p + 32)));
            out[r * words + w] = (bnn_word)lo | ((bnn_word)hi << 32);
        }
}
