/* bgemm_avx2.c - AVX2 kernel (first version: 1x4 blocking, nibble-LUT
 * popcount with vpshufb, byte sums widened by vpsadbw). */
#include <immintrin.h>

#include "kernels.h"

static inline __m256i popcount_bytes(__m256i v)
{
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(v, low));
    __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(v, 4), low));
    return _mm256_add_epi8(lo, hi);
}

static inline uint32_t hsum_epi64(__m256i v)
{
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    return (uint32_t)(_mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1));
}

static uint32_t popcount_xor_row(size_t words, const bnn_word *a, const bnn_word *b)
{
    __m256i acc = _mm256_setzero_si256();
    size_t w = 0;
    for (; w + 4 <= words; w += 4) {
        __m256i x = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(a + w)),
                                     _mm256_loadu_si256((const __m256i *)(b + w)));
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(popcount_bytes(x), _mm256_setzero_si256()));
    }
    uint32_t pc = hsum_epi64(acc);
    for (; w < words; w++)
        pc += (uint32_t)_mm_popcnt_u64(a[w] ^ b[w]);
    return pc;
}

void bnn_bgemm_avx2(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                    int32_t *c, size_t ldc, int32_t k)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            c[i * ldc + j] = bnn_dot_from_popcount(
                k, (int32_t)popcount_xor_row(words, a + i * words, b + j * words));
}
