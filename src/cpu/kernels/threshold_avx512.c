/* threshold_avx512.c - AVX-512 threshold + pack: a compare into a mask
 * register is 16 output bits at once, so a word is 4 loads, 4 XORs and 4
 * compares. Words run outermost, so a word's 64 masks and keys stay in
 * registers across the rows; channels past `count` are masked off (their
 * bits are 0, as the packing requires). */
#include <immintrin.h>

#include "cpu/kernels/kernels.h"

#define LANES 16

void bnn_threshold_avx512(const int32_t *s, size_t ld_s, size_t rows, const int32_t *mask,
                          const int32_t *key, size_t count, bnn_word *out, size_t ld_out)
{
    for (size_t w = 0; w < bnn_words_for(count); w++) {
        size_t base = w * BNN_WORD_BITS;
        __mmask16 live[4];
        __m512i m[4], k[4];
        for (int q = 0; q < 4; q++) {
            size_t c = base + (size_t)q * LANES;
            size_t n = c >= count ? 0 : (count - c < LANES ? count - c : LANES);
            live[q] = (__mmask16)((1u << n) - 1);
            m[q] = _mm512_maskz_loadu_epi32(live[q], mask + c);
            k[q] = _mm512_maskz_loadu_epi32(live[q], key + c);
        }
        const int32_t *row = s + base;
        for (size_t r = 0; r < rows; r++, row += ld_s) {
            bnn_word word = 0;
            for (int q = 0; q < 4; q++) {
                __m512i x = _mm512_maskz_loadu_epi32(live[q], row + q * LANES);
                __mmask16 bits = _mm512_mask_cmplt_epi32_mask(live[q], _mm512_xor_si512(x, m[q]), k[q]);
                word |= (bnn_word)bits << (q * LANES);
            }
            out[r * ld_out + w] = word;
        }
    }
}
