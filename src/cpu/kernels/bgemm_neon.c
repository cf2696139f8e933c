/* bgemm_neon.c - NEON kernel for aarch64 and armv7 (built with -mfpu=neon).
 *
 * Register blocking: an MR x NR micro-tile of outputs (MR rows of A, NR rows
 * of B) shares every 128-bit load, so each loaded vector feeds NR or MR
 * outputs. Per output and 128 bits, 3 ops: XOR, vcntq_u8 (16 byte
 * popcounts, each <= 8) and a pairwise add-accumulate of the bytes into 8
 * u16 lanes (vpadal).
 *
 * The reduction is a tree of pairwise adds in u16 lanes, once per chunk of
 * at most CHUNK_VECS steps (one chunk for every K of the paper's layers):
 * 2 adds take a row's 4 outputs to 2 vectors, 1 more to one, 1 more joins
 * two rows; doubled and subtracted from k while widening to u32, that is
 * k - 2 * popcount for 2 rows x 4 outputs: 14 ops per 4x4 tile where
 * widening each output and reducing it alone took 28. An odd last word
 * meets two columns at once (their words side by side in one vector), its
 * counts landing in the tree's first level: 3 ops per row and column pair,
 * not per output.
 *
 * aarch64 has 32 q registers: a 4x4 tile (16 accumulators + 6 operands + 8
 * counts). armv7 has 16: a 2x4 tile (8 accumulators + 3 operands + 2
 * counts). Edges of C use smaller tiles of the same code. */
#include <arm_neon.h>

#include "cpu/kernels/inline.h"
#include "cpu/kernels/kernels.h"
#include "cpu/kernels/neon_accumulate.h"

#if defined(__aarch64__)
#define MR 4
#define NR 4
#define STAGE 2 /* 16 accumulators, 4 + 2 operands, 8 counts: 30 of 32 registers */
#else
#define MR 2
#define NR 4
#define STAGE 1 /* 8 accumulators, 2 + 1 operands, 2 counts, of 16 */
#endif

/* Counts stay in u16 lanes for one chunk of at most CHUNK_VECS 128-bit steps
 * (and the odd last word): then one output's whole count in the chunk is at
 * most 255 * 128 + 64 = 32704, so every partial sum of its lanes, and twice
 * the whole, fit in 16 bits (65408 <= 65535): the reduction runs in u16
 * lanes and widens only its 4 sums per row. (A single lane gains at most 16
 * per step: 4080 in a chunk.) K up to 32704, i.e. every layer of the paper's
 * networks, is one chunk; longer rows pay one reduction per 255 steps. The
 * u32 result k - 2 * popcount is exact for any K the format allows (2^30). */
#define CHUNK_VECS 255

/* The 16 byte popcounts of a XOR b (each <= 8). */
static BNN_ALWAYS_INLINE uint8x16_t xor_count(uint8x16_t a, uint8x16_t b)
{
    return vcntq_u8(veorq_u8(a, b));
}

/* Sums of adjacent lanes: lanes 0-3 from x's 8, lanes 4-7 from y's. Three
 * rounds take 4 outputs' 8 lanes each to one vector of their 4 sums. armv7
 * has the pairwise add on 64-bit halves only. */
static BNN_ALWAYS_INLINE uint16x8_t pair_sums(uint16x8_t x, uint16x8_t y)
{
#if defined(__aarch64__)
    return vpaddq_u16(x, y);
#else
    return vcombine_u16(vpadd_u16(vget_low_u16(x), vget_high_u16(x)),
                        vpadd_u16(vget_low_u16(y), vget_high_u16(y)));
#endif
}

/* One mr x nr tile (mr <= MR, nr <= NR, both compile-time constants at every
 * call site so the loops unroll and the accumulators stay in registers).
 * Missing columns of an edge tile keep zero counts and are not stored. */
static BNN_ALWAYS_INLINE void tile(size_t mr, size_t nr, size_t words, const bnn_word *a,
                                   const bnn_word *b, int32_t *c, size_t ldc, int32_t k)
{
    uint32x4_t dot[MR]; /* per row, its 4 outputs: k - 2 * popcount so far (mod 2^32) */
    uint16x8_t acc[MR][NR];
    uint8x16_t va[MR];
BNN_UNROLL
    for (size_t r = 0; r < mr; r++)
        dot[r] = vdupq_n_u32((uint32_t)k);

    size_t vecs = words / 2, v0 = 0;
    do {
        size_t v1 = vecs - v0 > CHUNK_VECS ? v0 + CHUNK_VECS : vecs;
BNN_UNROLL
        for (size_t r = 0; r < mr; r++)
BNN_UNROLL
            for (size_t s = 0; s < NR; s++)
                acc[r][s] = vdupq_n_u16(0);
        for (size_t v = v0; v < v1; v++) { /* the hot loop */
BNN_UNROLL
            for (size_t r = 0; r < mr; r++)
                va[r] = vreinterpretq_u8_u64(vld1q_u64(a + r * words + 2 * v));
            /* STAGE columns at a time, all their XORs, then all counts, then
             * all accumulates: MR * STAGE independent ops between an op and
             * the next that needs it, which an in-order core (Cortex-A53)
             * needs to cover its latencies, however the compiler schedules. */
BNN_UNROLL
            for (size_t s0 = 0; s0 < nr; s0 += STAGE) {
                uint8x16_t counts[MR][STAGE];
BNN_UNROLL
                for (size_t t = 0; t < STAGE; t++) {
                    if (s0 + t < nr) {
                        uint8x16_t vb = vreinterpretq_u8_u64(vld1q_u64(b + (s0 + t) * words + 2 * v));
BNN_UNROLL
                        for (size_t r = 0; r < mr; r++)
                            counts[r][t] = veorq_u8(va[r], vb);
                    }
                }
BNN_UNROLL
                for (size_t t = 0; t < STAGE; t++)
BNN_UNROLL
                    for (size_t r = 0; r < mr; r++)
                        if (s0 + t < nr)
                            counts[r][t] = vcntq_u8(counts[r][t]);
BNN_UNROLL
                for (size_t t = 0; t < STAGE; t++)
BNN_UNROLL
                    for (size_t r = 0; r < mr; r++)
                        if (s0 + t < nr)
                            acc[r][s0 + t] = bnn_accumulate_pairs(acc[r][s0 + t], counts[r][t]);
            }
        }
        /* The reduction tree: per row, columns 0,1 and 2,3 share a vector */
        uint16x8_t half[MR][2];
BNN_UNROLL
        for (size_t r = 0; r < mr; r++) {
            half[r][0] = pair_sums(acc[r][0], acc[r][1]);
            half[r][1] = pair_sums(acc[r][2], acc[r][3]);
        }
        if (v1 == vecs && words % 2) {
            /* The odd last word, for two columns at once: a row's word in
             * both halves of a vector, columns 2p and 2p+1 side by side (0
             * past the edge), so its byte counts land in lanes 0-3 and 4-7
             * of half[r][p] as the tree laid them out. */
            const size_t last = words - 1;
BNN_UNROLL
            for (size_t r = 0; r < mr; r++)
                va[r] = vreinterpretq_u8_u64(vld1q_dup_u64(a + r * words + last));
BNN_UNROLL
            for (size_t p = 0; 2 * p < nr; p++) {
                uint64x1_t hi = 2 * p + 1 < nr ? vld1_u64(b + (2 * p + 1) * words + last) : vdup_n_u64(0);
                uint8x16_t vb = vreinterpretq_u8_u64(vcombine_u64(vld1_u64(b + 2 * p * words + last), hi));
BNN_UNROLL
                for (size_t r = 0; r < mr; r++)
                    half[r][p] = bnn_accumulate_pairs(half[r][p], xor_count(va[r], vb));
            }
        }
        /* Rows in pairs: one vector holds 2 rows x 4 outputs; doubled, and
         * subtracted from dot while widening. */
BNN_UNROLL
        for (size_t r = 0; r < mr; r += 2) {
            uint16x8_t row = pair_sums(half[r][0], half[r][1]);
            uint16x8_t next = r + 1 < mr ? pair_sums(half[r + 1][0], half[r + 1][1]) : row;
            uint16x8_t twice = vshlq_n_u16(pair_sums(row, next), 1);
            dot[r] = vsubw_u16(dot[r], vget_low_u16(twice));
            if (r + 1 < mr)
                dot[r + 1] = vsubw_u16(dot[r + 1], vget_high_u16(twice));
        }
        v0 = v1;
    } while (v0 < vecs);

BNN_UNROLL
    for (size_t r = 0; r < mr; r++) {
        int32x4_t out = vreinterpretq_s32_u32(dot[r]);
        if (nr == NR) {
            vst1q_s32(c + r * ldc, out);
        } else {
            int32_t lanes[NR];
            vst1q_s32(lanes, out);
BNN_UNROLL
            for (size_t s = 0; s < nr; s++)
                c[r * ldc + s] = lanes[s];
        }
    }
}

/* All columns of an mr-row strip: NR at a time, then the leftover columns. */
static BNN_ALWAYS_INLINE void strip(size_t mr, size_t n, size_t words, const bnn_word *a,
                                    const bnn_word *b, int32_t *c, size_t ldc, int32_t k)
{
    size_t j = 0;
    for (; j + NR <= n; j += NR)
        tile(mr, NR, words, a, b + j * words, c + j, ldc, k);
    switch (n - j) {
    case 3: tile(mr, 3, words, a, b + j * words, c + j, ldc, k); break;
    case 2: tile(mr, 2, words, a, b + j * words, c + j, ldc, k); break;
    case 1: tile(mr, 1, words, a, b + j * words, c + j, ldc, k); break;
    default: break;
    }
}

typedef char bnn_assert_tile_fits_switch[(MR <= 4 && NR == 4) ? 1 : -1];

void bnn_bgemm_neon(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                    int32_t *c, size_t ldc, int32_t k)
{
    size_t i = 0;
    for (; i + MR <= m; i += MR)
        strip(MR, n, words, a + i * words, b, c + i * ldc, ldc, k);
    switch (m - i) {
#if MR > 3
    case 3: strip(3, n, words, a + i * words, b, c + i * ldc, ldc, k); break;
#endif
#if MR > 2
    case 2: strip(2, n, words, a + i * words, b, c + i * ldc, ldc, k); break;
#endif
    case 1: strip(1, n, words, a + i * words, b, c + i * ldc, ldc, k); break;
    default: break;
    }
}
