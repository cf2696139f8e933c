/* bgemm_avx2.h - internal, for the AVX2 bgemm files (bgemm_avx2.c,
 * bgemm_panel_avx2.c, compiled with AVX2 flags): the nibble popcount table,
 * the length of K chunks and the write of a finished row of C. */
#ifndef PYBNN_KERNELS_BGEMM_AVX2_H
#define PYBNN_KERNELS_BGEMM_AVX2_H
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "cpu/kernels/inline.h"

/* popcount of each 4-bit index, in both 128-bit lanes (vpshufb's table) */
static inline __m256i nibble_lut(void)
{
    return _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
}

/* The length of the fewest equal chunks of at most `most` that cover
 * `total` > 0 (the last may be shorter): byte counters stay bounded and no
 * chunk is a small leftover (64 words in chunks of at most 24: 22, 22, 20). */
static inline size_t equal_chunk(size_t total, size_t most)
{
    size_t chunks = (total + most - 1) / most;
    return (total + chunks - 1) / chunks;
}

/* Write nr <= 8 * nv (nv <= 4) outputs of a C row from the nv vectors of
 * popcounts `pc`: the first K chunk stores, later ones add to the partial
 * counts in C, the last turns the total into k - 2 * popcount. Inlined with
 * nr = 8 * nv for whole tiles: C then takes plain vector loads and stores. */
static BNN_ALWAYS_INLINE void write_counts(int32_t *c, size_t nr, __m256i *pc, int nv, int first,
                                           int last, int32_t k)
{
    int32_t tmp[32] = {0};
    int whole = nr == (size_t)(8 * nv);
    int32_t *row = whole ? c : tmp;
    if (!first) {
        if (!whole)
            memcpy(tmp, c, nr * sizeof(int32_t));
        for (int h = 0; h < nv; h++)
            pc[h] = _mm256_add_epi32(pc[h], _mm256_loadu_si256((const __m256i *)(row + 8 * h)));
    }
    for (int h = 0; h < nv; h++) {
        if (last)
            pc[h] = _mm256_sub_epi32(_mm256_set1_epi32(k), _mm256_slli_epi32(pc[h], 1));
        _mm256_storeu_si256((__m256i *)(row + 8 * h), pc[h]);
    }
    if (!whole)
        memcpy(c, tmp, nr * sizeof(int32_t));
}
#endif
