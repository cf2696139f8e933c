/* bgemm_roofline_avx512.c - benchmark only: the AVX-512 XOR + popcount
 * ceilings (see bgemm_roofline.c for what each kind of ceiling means).
 *
 * Streaming: xor, vpopcntq, add over two arrays, 8 independent accumulators.
 *
 * ALU: the same three ops on registers only, one A vector against `chains`
 * B vectors (the shape of a bgemm micro-tile), so nothing but the vector ALUs
 * bounds it. An empty asm statement tells the compiler A changes every step,
 * so it can neither hoist the XORs out of the loop nor fold the steps; it
 * emits no instruction. Forms: 512-bit vectors with 8 and 12 chains, and
 * 256-bit vectors (AVX-512 VL), since some cores (Zen 4 splits a 512-bit op
 * in two) count faster at half width. */
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

#define MAX_CHAINS 12

static inline __attribute__((always_inline)) uint64_t alu_zmm(size_t reps, int chains)
{
    __m512i x = _mm512_set1_epi64(0x5bd1e9955bd1e995ll), b[MAX_CHAINS], acc[MAX_CHAINS];
    for (int q = 0; q < chains; q++) {
        b[q] = _mm512_set1_epi64((long long)(0x9e3779b97f4a7c15ull * (uint64_t)(q + 1)));
        acc[q] = _mm512_setzero_si512();
    }
    for (size_t r = 0; r < reps; r++) {
        __asm__("" : "+v"(x));
        for (int q = 0; q < chains; q++)
            acc[q] = _mm512_add_epi64(acc[q], _mm512_popcnt_epi64(_mm512_xor_si512(x, b[q])));
    }
    for (int q = 1; q < chains; q++)
        acc[0] = _mm512_add_epi64(acc[0], acc[q]);
    return (uint64_t)_mm512_reduce_add_epi64(acc[0]);
}

static inline __attribute__((always_inline)) uint64_t alu_ymm(size_t reps, int chains)
{
    __m256i x = _mm256_set1_epi64x(0x5bd1e9955bd1e995ll), b[MAX_CHAINS], acc[MAX_CHAINS];
    for (int q = 0; q < chains; q++) {
        b[q] = _mm256_set1_epi64x((long long)(0x9e3779b97f4a7c15ull * (uint64_t)(q + 1)));
        acc[q] = _mm256_setzero_si256();
    }
    for (size_t r = 0; r < reps; r++) {
        __asm__("" : "+v"(x));
        for (int q = 0; q < chains; q++)
            acc[q] = _mm256_add_epi64(acc[q], _mm256_popcnt_epi64(_mm256_xor_si256(x, b[q])));
    }
    for (int q = 1; q < chains; q++)
        acc[0] = _mm256_add_epi64(acc[0], acc[q]);
    __m128i t = _mm_add_epi64(_mm256_castsi256_si128(acc[0]), _mm256_extracti128_si256(acc[0], 1));
    return (uint64_t)_mm_cvtsi128_si64(t) + (uint64_t)_mm_extract_epi64(t, 1);
}

static uint64_t alu_zmm8(size_t reps) { return alu_zmm(reps, 8); }
static uint64_t alu_zmm12(size_t reps) { return alu_zmm(reps, 12); }
static uint64_t alu_ymm12(size_t reps) { return alu_ymm(reps, 12); }

const bnn_roofline_form bnn_roofline_alu_avx512[] = {
    {"zmm xor+vpopcntq+vpaddq, 8 chains", alu_zmm8, 8 * 512},
    {"zmm xor+vpopcntq+vpaddq, 12 chains", alu_zmm12, 12 * 512},
    {"ymm xor+vpopcntq+vpaddq, 12 chains", alu_ymm12, 12 * 256},
    {NULL, NULL, 0},
};
