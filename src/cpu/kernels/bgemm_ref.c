/* bgemm_ref.c - the oracle: one output at a time, one word at a time. */
#include "cpu/kernels/kernels.h"

static int popcount64_ref(uint64_t x)
{
    int count = 0;
    while (x) {
        x &= x - 1; /* clear the lowest set bit */
        count++;
    }
    return count;
}

void bnn_bgemm_ref(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                   int32_t *c, size_t ldc, int32_t k)
{
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            int32_t pc = 0;
            for (size_t w = 0; w < words; w++)
                pc += popcount64_ref(a[i * words + w] ^ b[j * words + w]);
            c[i * ldc + j] = bnn_dot_from_popcount(k, pc);
        }
    }
}
