/* bgemm_roofline.c - benchmark only: the XOR + popcount ceilings a bgemm
 * kernel works under, per kernel set, and the portable versions of them;
 * and the tables of the int8 ceilings (u8gemm_roofline_*.c).
 *
 * Two kinds (scripts/bench_bgemm.py measures both):
 *   - ALU ceiling: XOR, popcount and accumulate on registers only (no loads),
 *     with enough independent accumulators to hide every latency, in a few
 *     forms per ISA (the fastest counting the ISA offers). No bgemm kernel of
 *     the set can do its work faster than the best form: it is the ceiling
 *     "% of peak" figures are taken against.
 *   - Streaming rates: the same work over two arrays read from memory with
 *     no reuse; sized for L1 or L2, they show what loads cost. A GEMM reuses
 *     each loaded vector across a tile, so it may beat these, not the ALU. */
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

/* ALU form: 4 chains of SWAR popcounts on registers; the empty asm makes x
 * new every step (no instruction), so nothing is hoisted out of the loop. */
static uint64_t alu_swar(size_t reps)
{
    uint64_t x = 0x5bd1e9955bd1e995ull, s[4] = {0, 0, 0, 0};
    const uint64_t b[4] = {0x9e3779b97f4a7c15ull, 0x3c6ef372fe94f82aull, 0xdaa66d2c7ddf743full,
                           0x78dde6e5fd29f054ull};
    for (size_t r = 0; r < reps; r++) {
        __asm__("" : "+r"(x));
        for (int q = 0; q < 4; q++)
            s[q] += popcount64_swar(x ^ b[q]);
    }
    return s[0] + s[1] + s[2] + s[3];
}

/* The compiler may vectorize portable code to the baseline SIMD (SSE2 on
 * x86-64, Advanced SIMD on aarch64), as it does the streaming loop above:
 * the same SWAR count on 128-bit GCC vectors bounds what it can get. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__aarch64__))
#if defined(__x86_64__)
#define VREG "+x"
#else
#define VREG "+w"
#endif
typedef uint64_t u64x2 __attribute__((vector_size(16)));
static uint64_t alu_swar_vector(size_t reps)
{
    u64x2 x = {0x5bd1e9955bd1e995ull, 0xc6a4a7935bd1e995ull}, s[4] = {{0}};
    const u64x2 m1 = {0x5555555555555555ull, 0x5555555555555555ull};
    const u64x2 m2 = {0x3333333333333333ull, 0x3333333333333333ull};
    const u64x2 m4 = {0x0f0f0f0f0f0f0f0full, 0x0f0f0f0f0f0f0f0full};
    for (size_t r = 0; r < reps; r++) {
        __asm__("" : VREG(x));
        for (int q = 0; q < 4; q++) {
            u64x2 v = x ^ (u64x2){0x9e3779b97f4a7c15ull * (q + 1), 0x3c6ef372fe94f82aull * (q + 1)};
            v = v - ((v >> 1) & m1);
            v = (v & m2) + ((v >> 2) & m2);
            s[q] += (v + (v >> 4)) & m4; /* byte counts (they wrap: the total only keeps the work alive) */
        }
    }
    uint64_t total = 0;
    for (int q = 0; q < 4; q++)
        for (int h = 0; h < 2; h++)
            total += (s[q][h] * 0x0101010101010101ull) >> 56;
    return total;
}
#endif

static const bnn_roofline_form alu_scalar[] = {
    {"scalar SWAR popcount, 4 chains", alu_swar, 4 * 64},
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__aarch64__))
    {"128-bit vector SWAR popcount, 4 chains", alu_swar_vector, 4 * 128},
#endif
    {NULL, NULL, 0},
};

static int isa_usable(const char *isa)
{
    const char *names[16];
    int count = bnn_available_isas(names, 16);
    for (int i = 0; i < count && i < 16; i++)
        if (strcmp(names[i], isa) == 0)
            return 1;
    return 0;
}

#ifdef BNN_ARCH_X86
/* The sets whose binary kernels are avx2's: avx2, and avxvnni (avx2 with a
 * VNNI first layer). */
static int avx2_binary(const char *isa)
{
    return strcmp(isa, "avx2") == 0 || strcmp(isa, "avxvnni") == 0;
}
#endif

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
    if (strncmp(isa, "avx512", 6) == 0) { /* avx512 and the sets built on it */
        *count = bnn_roofline_xor_popcount_avx512(a, b, words, reps);
        return BNN_OK;
    }
    if (avx2_binary(isa)) {
        *count = bnn_roofline_xor_popcount_avx2(a, b, words, reps);
        return BNN_OK;
    }
#endif
#ifdef BNN_ARCH_NEON
    if (strncmp(isa, "neon", 4) == 0) { /* neon and the sets built on it */
        *count = bnn_roofline_xor_popcount_neon(a, b, words, reps);
        return BNN_OK;
    }
#endif
    return bnn_fail(BNN_ERR_UNSUPPORTED, "roofline: no roofline kernel for kernel set '%s'", isa);
}

/* The length of a NULL-terminated table (0 for none), which goes to *forms. */
static int table_length(const bnn_roofline_form *table, const bnn_roofline_form **forms)
{
    int count = 0;
    while (table && table[count].run)
        count++;
    if (forms)
        *forms = table;
    return count;
}

int bnn_roofline_alu_forms(const char *isa, const bnn_roofline_form **forms)
{
    const bnn_roofline_form *table = NULL;
    if (!isa || (strcmp(isa, "ref") != 0 && !isa_usable(isa)))
        return 0;
    if (strcmp(isa, "scalar") == 0 || strcmp(isa, "ref") == 0)
        table = alu_scalar;
#ifdef BNN_ARCH_X86
    if (strncmp(isa, "avx512", 6) == 0)
        table = bnn_roofline_alu_avx512;
    if (avx2_binary(isa))
        table = bnn_roofline_alu_avx2;
#endif
#ifdef BNN_ARCH_NEON
    if (strncmp(isa, "neon", 4) == 0)
        table = bnn_roofline_alu_neon;
#endif
    return table_length(table, forms);
}

/* The int8 ceiling an int8 network meets on this core, for the comparisons
 * with one (scripts/bench_models.py against ONNX Runtime's int8 models): the
 * best int8 multiply-accumulate of the kernel set's ISA, VNNI where it has
 * it. Binary MACs per cycle over int8 MACs per cycle is how much faster a
 * binary network can be than its int8 twin at equal efficiency. */
int bnn_roofline_int8_forms(const char *isa, const bnn_roofline_form **forms)
{
    const bnn_roofline_form *table = NULL;
    if (!isa || !isa_usable(isa))
        return 0;
#ifdef BNN_ARCH_X86
    if (strcmp(isa, "avx2") == 0)
        table = bnn_roofline_int8_avx2;
#ifdef BNN_WITH_AVXVNNI
    if (strcmp(isa, "avxvnni") == 0)
        table = bnn_roofline_int8_avxvnni;
#endif
    if (strcmp(isa, "avx512") == 0)
        table = bnn_roofline_int8_avx512;
    if (strcmp(isa, "avx512vnni") == 0)
        table = bnn_roofline_int8_avx512vnni;
#endif
#if defined(__aarch64__)
    if (strcmp(isa, "neondot") == 0)
        table = bnn_roofline_int8_neondot;
#endif
    return table_length(table, forms);
}
