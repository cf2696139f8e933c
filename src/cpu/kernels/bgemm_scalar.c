/* bgemm_scalar.c - portable blocked kernel for CPUs without a SIMD set.
 *
 * 2 rows of A x 4 rows of B per block, so each loaded word is used 4 or 2
 * times. Popcount is SWAR arithmetic: __builtin_popcountll without -mpopcnt
 * becomes a library call on x86, and this file gets no ISA flags. */
#include "cpu/kernels/kernels.h"

static inline uint32_t popcount64_swar(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (uint32_t)((x * 0x0101010101010101ull) >> 56);
}

static void block_1xn(size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                      int32_t *c, int32_t k)
{
    for (size_t j = 0; j < n; j++) {
        uint32_t pc = 0;
        for (size_t w = 0; w < words; w++)
            pc += popcount64_swar(a[w] ^ b[j * words + w]);
        c[j] = bnn_dot_from_popcount(k, (int32_t)pc);
    }
}

void bnn_bgemm_scalar(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                      int32_t *c, size_t ldc, int32_t k)
{
    size_t i = 0;
    for (; i + 2 <= m; i += 2) {
        const bnn_word *a0 = a + i * words, *a1 = a0 + words;
        size_t j = 0;
        for (; j + 4 <= n; j += 4) {
            const bnn_word *b0 = b + j * words, *b1 = b0 + words, *b2 = b1 + words,
                           *b3 = b2 + words;
            uint32_t s[8] = {0};
            for (size_t w = 0; w < words; w++) {
                bnn_word x0 = a0[w], x1 = a1[w];
                s[0] += popcount64_swar(x0 ^ b0[w]);
                s[1] += popcount64_swar(x0 ^ b1[w]);
                s[2] += popcount64_swar(x0 ^ b2[w]);
                s[3] += popcount64_swar(x0 ^ b3[w]);
                s[4] += popcount64_swar(x1 ^ b0[w]);
                s[5] += popcount64_swar(x1 ^ b1[w]);
                s[6] += popcount64_swar(x1 ^ b2[w]);
                s[7] += popcount64_swar(x1 ^ b3[w]);
            }
            for (int t = 0; t < 4; t++) {
                c[i * ldc + j + t] = bnn_dot_from_popcount(k, (int32_t)s[t]);
                c[(i + 1) * ldc + j + t] = bnn_dot_from_popcount(k, (int32_t)s[4 + t]);
            }
        }
        block_1xn(n - j, words, a0, b + j * words, c + i * ldc + j, k);
        block_1xn(n - j, words, a1, b + j * words, c + (i + 1) * ldc + j, k);
    }
    for (; i < m; i++)
        block_1xn(n, words, a + i * words, b, c + i * ldc, k);
}
