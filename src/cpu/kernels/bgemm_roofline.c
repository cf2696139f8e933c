/* bgemm_roofline.c - benchmark only: the XOR + popcount ceiling a bgemm
 * kernel works under, per kernel set, and the portable version of it.
 *
 * A roofline kernel streams two arrays that sit in L1 through XOR, popcount
 * and accumulate, with the fastest counting the ISA offers and no reuse of
 * either operand; bgemm MAC/s over its bit-ops/s says how close a GEMM gets
 * to the machine's XOR + popcount throughput. */
#include <string.h>

#include "common/errors.h"
#include "cpu/kernels/kernels.h"

/* Same SWAR count as bgemm_scalar.c (this file gets no ISA flags). */
static inline uint64_t popcount64_swar(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (x * 0x0101010101010101ull) >> 56;
}

uint64_t bnn_roofline_xor_popcount_scalar(const bnn_word *a, const bnn_word *b, size_t words,
                                          size_t reps)
{
    uint64_t s[4] = {0, 0, 0, 0}; /* 4 chains, as the vector kernels have */
    for (size_t r = 0; r < reps; r++)
        for (size_t w = 0; w < words; w += 4)
            for (int q = 0; q < 4; q++)
                s[q] += popcount64_swar(a[w + q] ^ b[w + q]);
    return s[0] + s[1] + s[2] + s[3];
}

static int isa_usable(const char *isa)
{
    const char *names[16];
    int count = bnn_available_isas(names, 16);
    for (int i = 0; i < count && i < 16; i++)
        if (strcmp(names[i], isa) == 0)
            return 1;
    return 0;
}

bnn_status bnn_roofline_xor_popcount(const char *isa, const bnn_word *a, const bnn_word *b,
                                     size_t words, size_t reps, uint64_t *count)
{
    if (!isa || !a || !b || !count)
        return bnn_fail(BNN_ERR_ARGUMENT, "roofline: isa, a, b and count must not be NULL");
    if (words == 0 || words % BNN_ROOFLINE_WORDS_MULTIPLE)
        return bnn_fail(BNN_ERR_ARGUMENT, "roofline: words must be a positive multiple of %d, got %zu",
                        BNN_ROOFLINE_WORDS_MULTIPLE, words);
    if (strcmp(isa, "ref") != 0 && !isa_usable(isa))
        return bnn_fail(BNN_ERR_UNSUPPORTED,
                        "roofline: kernel set '%s' is not usable here (usable: see available_isas)", isa);
    if (strcmp(isa, "scalar") == 0 || strcmp(isa, "ref") == 0) {
        *count = bnn_roofline_xor_popcount_scalar(a, b, words, reps);
        return BNN_OK;
    }
#ifdef BNN_ARCH_X86
    if (strcmp(isa, "avx512") == 0) {
        *count = bnn_roofline_xor_popcount_avx512(a, b, words, reps);
        return BNN_OK;
    }
    if (strcmp(isa, "avx2") == 0) {
        *count = bnn_roofline_xor_popcount_avx2(a, b, words, reps);
        return BNN_OK;
    }
#endif
#ifdef BNN_ARCH_NEON
    if (strcmp(isa, "neon") == 0) {
        *count = bnn_roofline_xor_popcount_neon(a, b, words, reps);
        return BNN_OK;
    }
#endif
    return bnn_fail(BNN_ERR_UNSUPPORTED, "roofline: no roofline kernel for kernel set '%s'", isa);
}
