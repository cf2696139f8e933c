/* threshold_avx2.c - AVX2 threshold + pack: a compare gives 8 lanes of 0 or
 * -1 and movemask turns their sign bits into 8 output bits, so a word is 8
 * loads, XORs, compares and movemasks. Channels past the last whole 8 are
 * compared one by one. */
#include <immintrin.h>

#include "cpu/kernels/kernels.h"

#define LANES 8

void bnn_threshold_avx2(const int32_t *s, size_t ld_s, size_t rows, const int32_t *mask,
                        const int32_t *key, size_t count, bnn_word *out, size_t ld_out)
{
    size_t words = bnn_words_for(count);
    for (size_t r = 0; r < rows; r++, s += ld_s, out += ld_out) {
        for (size_t w = 0; w < words; w++) {
            size_t base = w * BNN_WORD_BITS;
            size_t n = count - base < BNN_WORD_BITS ? count - base : BNN_WORD_BITS, c = 0;
            bnn_word word = 0;
            for (; c + LANES <= n; c += LANES) {
                __m256i x = _mm256_loadu_si256((const __m256i *)(s + base + c));
                __m256i m = _mm256_loadu_si256((const __m256i *)(mask + base + c));
                __m256i k = _mm256_loadu_si256((const __m256i *)(key + base + c));
                __m256i lt = _mm256_cmpgt_epi32(k, _mm256_xor_si256(x, m)); /* (x ^ m) < k */
                word |= (bnn_word)(unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(lt)) << c;
            }
            for (; c < n; c++)
                word |= (bnn_word)((s[base + c] ^ mask[base + c]) < key[base + c]) << c;
            out[w] = word;
        }
    }
}
