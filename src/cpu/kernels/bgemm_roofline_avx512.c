/* bgemm_roofline_avx512.c - benchmark only: the AVX-512 XOR + popcount
 * ceiling: xor, vpopcntq, add, with 8 independent accumulators so that no
 * add waits on the one before. */
#include <immintrin.h>

#include "cpu/kernels/kernels.h"

uint64_t bnn_roofline_xor_popcount_avx512(const bnn_word *a, const bnn_word *b, size_t words,
                                          size_t reps)
{
    __m512i acc[8];
    for (int q = 0; q < 8; q++)
        acc[q] = _mm512_setzero_si512();
    for (size_t r = 0; r < reps; r++)
        for (size_t w = 0; w < words; w += 64) /* 8 vectors */
            for (int q = 0; q < 8; q++)
                acc[q] = _mm512_add_epi64(acc[q], _mm512_popcnt_epi64(_mm512_xor_si512(
                                                      _mm512_loadu_si512(a + w + 8 * q),
                                                      _mm512_loadu_si512(b + w + 8 * q))));
    for (int q = 1; q < 8; q++)
        acc[0] = _mm512_add_epi64(acc[0], acc[q]);
    uint64_t lanes[8], sum = 0;
    _mm512_storeu_si512(lanes, acc[0]);
    for (int q = 0; q < 8; q++)
        sum += lanes[q];
    return sum;
}
