/* bgemm_roofline_avx2.c - benchmark only: the AVX2 XOR + popcount ceilings
 * (see bgemm_roofline.c for what each kind of ceiling means).
 *
 * Streaming: Harley-Seal: carry-save adders fold 16 XORed vectors into bit-sliced
 * counters (ones, twos, fours, eights) with and/or/xor only, and one nibble
 * lookup popcount per 16 vectors counts the overflow. On AVX2 this streams
 * faster than a lookup per vector (Mula, Kurz, Lemire, "Faster Population
 * Counts Using AVX2 Instructions", 2018), so it is the honest ceiling. */
#include <immintrin.h>

#include "cpu/kernels/kernels.h"

static inline __m256i popcount_qwords(__m256i v)
{
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256i bytes = _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(v, low)),
                                    _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(v, 4), low)));
    return _mm256_sad_epu8(bytes, _mm256_setzero_si256());
}

/* Carry-save adder: a + b + c = 2 * high + low, bitwise. */
static inline void csa(__m256i *high, __m256i *low, __m256i a, __m256i b, __m256i c)
{
    __m256i u = _mm256_xor_si256(a, b);
    *high = _mm256_or_si256(_mm256_and_si256(a, b), _mm256_and_si256(u, c));
    *low = _mm256_xor_si256(u, c);
}

static inline __m256i xor_vec(const bnn_word *a, const bnn_word *b, size_t v)
{
    return _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(a + 4 * v)),
                            _mm256_loadu_si256((const __m256i *)(b + 4 * v)));
}

uint64_t bnn_roofline_xor_popcount_avx2(const bnn_word *a, const bnn_word *b, size_t words,
                                        size_t reps)
{
    __m256i total = _mm256_setzero_si256();
    for (size_t r = 0; r < reps; r++) {
        __m256i ones = _mm256_setzero_si256(), twos = ones, fours = ones, eights = ones;
        __m256i sixteens = ones, twos_a, twos_b, fours_a, fours_b, eights_a, eights_b, s16;
        for (size_t w = 0; w < words; w += 64) { /* 16 vectors */
            const bnn_word *pa = a + w, *pb = b + w;
            csa(&twos_a, &ones, ones, xor_vec(pa, pb, 0), xor_vec(pa, pb, 1));
            csa(&twos_b, &ones, ones, xor_vec(pa, pb, 2), xor_vec(pa, pb, 3));
            csa(&fours_a, &twos, twos, twos_a, twos_b);
            csa(&twos_a, &ones, ones, xor_vec(pa, pb, 4), xor_vec(pa, pb, 5));
            csa(&twos_b, &ones, ones, xor_vec(pa, pb, 6), xor_vec(pa, pb, 7));
            csa(&fours_b, &twos, twos, twos_a, twos_b);
            csa(&eights_a, &fours, fours, fours_a, fours_b);
            csa(&twos_a, &ones, ones, xor_vec(pa, pb, 8), xor_vec(pa, pb, 9));
            csa(&twos_b, &ones, ones, xor_vec(pa, pb, 10), xor_vec(pa, pb, 11));
            csa(&fours_a, &twos, twos, twos_a, twos_b);
            csa(&twos_a, &ones, ones, xor_vec(pa, pb, 12), xor_vec(pa, pb, 13));
            csa(&twos_b, &ones, ones, xor_vec(pa, pb, 14), xor_vec(pa, pb, 15));
            csa(&fours_b, &twos, twos, twos_a, twos_b);
            csa(&eights_b, &fours, fours, fours_a, fours_b);
            csa(&s16, &eights, eights, eights_a, eights_b);
            sixteens = _mm256_add_epi64(sixteens, popcount_qwords(s16));
        }
        total = _mm256_add_epi64(total, _mm256_slli_epi64(sixteens, 4));
        total = _mm256_add_epi64(total, _mm256_slli_epi64(popcount_qwords(eights), 3));
        total = _mm256_add_epi64(total, _mm256_slli_epi64(popcount_qwords(fours), 2));
        total = _mm256_add_epi64(total, _mm256_slli_epi64(popcount_qwords(twos), 1));
        total = _mm256_add_epi64(total, popcount_qwords(ones));
    }
    __m128i t = _mm_add_epi64(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
    return (uint64_t)_mm_cvtsi128_si64(t) + (uint64_t)_mm_extract_epi64(t, 1);
}

/* ALU forms: registers only, one A value against `chains` B values per step
 * (a bgemm micro-tile's shape); an empty asm statement makes A new every step
 * (no instruction), so nothing is hoisted out of the loop. A rep is STEPS
 * steps; byte counters are widened once per rep (8 * STEPS <= 255). */
#define STEPS 16
#define CHAINS 4

/* Nibbles split once per vector (bgemm_avx2.c's panel form): per output and
 * 256 bits, 2 xor + 2 vpshufb + 2 add. */
static uint64_t alu_split(size_t reps)
{
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    __m256i lo = _mm256_set1_epi8(0x05), hi = _mm256_set1_epi8(0x0a), blo[CHAINS], bhi[CHAINS];
    __m256i total = _mm256_setzero_si256();
    for (int q = 0; q < CHAINS; q++) {
        blo[q] = _mm256_set1_epi8((char)(3 * q + 1));
        bhi[q] = _mm256_set1_epi8((char)(5 * q + 2));
    }
    for (size_t r = 0; r < reps; r++) {
        __m256i acc[CHAINS];
        for (int q = 0; q < CHAINS; q++)
            acc[q] = _mm256_setzero_si256();
        for (int s = 0; s < STEPS; s++) {
            __asm__("" : "+x"(lo), "+x"(hi));
            for (int q = 0; q < CHAINS; q++)
                acc[q] = _mm256_add_epi8(
                    _mm256_add_epi8(acc[q], _mm256_shuffle_epi8(lut, _mm256_xor_si256(lo, blo[q]))),
                    _mm256_shuffle_epi8(lut, _mm256_xor_si256(hi, bhi[q])));
        }
        for (int q = 0; q < CHAINS; q++)
            total = _mm256_add_epi64(total, _mm256_sad_epu8(acc[q], _mm256_setzero_si256()));
    }
    __m128i t = _mm_add_epi64(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
    return (uint64_t)_mm_cvtsi128_si64(t) + (uint64_t)_mm_extract_epi64(t, 1);
}

/* Harley-Seal on registers: 16 XORed vectors per rep (8 fresh A values
 * against 2 B values, made where they are consumed so that nothing spills)
 * folded by carry-save adders, one lookup popcount per rep. */
static inline __m256i fresh_xor(__m256i *x, __m256i b)
{
    __asm__("" : "+x"(*x));
    return _mm256_xor_si256(*x, b);
}

static uint64_t alu_harley_seal(size_t reps)
{
    __m256i x = _mm256_set1_epi64x(0x5bd1e9955bd1e995ll);
    const __m256i b0 = _mm256_set1_epi64x((long long)0x9e3779b97f4a7c15ull);
    const __m256i b1 = _mm256_set1_epi64x((long long)0x3c6ef372fe94f82aull);
    __m256i ones = _mm256_setzero_si256(), twos = ones, fours = ones, eights = ones, total = ones;
    __m256i twos_a, twos_b, fours_a, fours_b, eights_a, eights_b, s16;
    for (size_t r = 0; r < reps; r++) {
        csa(&twos_a, &ones, ones, fresh_xor(&x, b0), _mm256_xor_si256(x, b1));
        csa(&twos_b, &ones, ones, fresh_xor(&x, b0), _mm256_xor_si256(x, b1));
        csa(&fours_a, &twos, twos, twos_a, twos_b);
        csa(&twos_a, &ones, ones, fresh_xor(&x, b0), _mm256_xor_si256(x, b1));
        csa(&twos_b, &ones, ones, fresh_xor(&x, b0), _mm256_xor_si256(x, b1));
        csa(&fours_b, &twos, twos, twos_a, twos_b);
        csa(&eights_a, &fours, fours, fours_a, fours_b);
        csa(&twos_a, &ones, ones, fresh_xor(&x, b0), _mm256_xor_si256(x, b1));
        csa(&twos_b, &ones, ones, fresh_xor(&x, b0), _mm256_xor_si256(x, b1));
        csa(&fours_a, &twos, twos, twos_a, twos_b);
        csa(&twos_a, &ones, ones, fresh_xor(&x, b0), _mm256_xor_si256(x, b1));
        csa(&twos_b, &ones, ones, fresh_xor(&x, b0), _mm256_xor_si256(x, b1));
        csa(&fours_b, &twos, twos, twos_a, twos_b);
        csa(&eights_b, &fours, fours, fours_a, fours_b);
        csa(&s16, &eights, eights, eights_a, eights_b);
        total = _mm256_add_epi64(total, _mm256_slli_epi64(popcount_qwords(s16), 4));
    }
    total = _mm256_add_epi64(total, _mm256_slli_epi64(popcount_qwords(eights), 3));
    total = _mm256_add_epi64(total, _mm256_slli_epi64(popcount_qwords(fours), 2));
    total = _mm256_add_epi64(total, _mm256_slli_epi64(popcount_qwords(twos), 1));
    total = _mm256_add_epi64(total, popcount_qwords(ones));
    __m128i t = _mm_add_epi64(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
    return (uint64_t)_mm_cvtsi128_si64(t) + (uint64_t)_mm_extract_epi64(t, 1);
}

const bnn_roofline_form bnn_roofline_alu_avx2[] = {
    {"ymm pre-split nibble lookup (2 xor + 2 vpshufb + 2 add), 4 chains", alu_split,
     STEPS * CHAINS * 256},
    {"ymm Harley-Seal carry-save, 16 vectors per popcount", alu_harley_seal, 16 * 256},
    {NULL, NULL, 0},
};
