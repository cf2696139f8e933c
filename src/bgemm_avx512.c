/* bgemm_avx512.c - AVX-512 kernel (first version: VPOPCNTQ per output). */
#include <immintrin.h>

#include "kernels.h"

static uint32_t popcount_xor_row(size_t words, const bnn_word *a, const bnn_word *b)
{
    __m512i acc = _mm512_setzero_si512();
    size_t w = 0;
    for (; w + 8 <= words; w += 8)
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(
                                        _mm512_loadu_si512(a + w), _mm512_loadu_si512(b + w))));
    if (w < words) {
        __mmask8 tail = (__mmask8)((1u << (words - w)) - 1);
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(
                                        _mm512_maskz_loadu_epi64(tail, a + w),
                                        _mm512_maskz_loadu_epi64(tail, b + w))));
    }
    return (uint32_t)_mm512_reduce_add_epi64(acc);
}

void bnn_bgemm_avx512(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                      int32_t *c, size_t ldc, int32_t k)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            c[i * ldc + j] = bnn_dot_from_popcount(
                k, (int32_t)popcount_xor_row(words, a + i * words, b + j * words));
}
