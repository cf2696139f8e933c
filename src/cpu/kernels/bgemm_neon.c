/* bgemm_neon.c - NEON kernel for aarch64 and armv7 (built with -mfpu=neon).
 *
 * Register blocking: an MR x NR micro-tile of outputs (MR rows of A, NR rows
 * of B) shares every 128-bit load, so each loaded vector feeds NR or MR
 * outputs. Per output and 128 bits: XOR, vcntq_u8 (16 byte popcounts, each
 * <= 8) and a widening pairwise add of the bytes into 8 u16 lanes. The u16 lanes
 * are widened into u32 lanes (vpadalq_u16) every U16_SAFE_VECS steps, before
 * they can overflow, and each output is reduced horizontally once, at the end.
 *
 * aarch64 has 32 q registers: a 4x4 tile (16 accumulators + 8 operands).
 * armv7 has 16: a 2x4 tile (8 accumulators + 6 operands). Edges of C use
 * smaller tiles of the same code; an odd last word is loaded into a vector
 * whose high half is zero, so it needs no separate scalar path. */
#include <arm_neon.h>

#include "cpu/kernels/kernels.h"

#if defined(__aarch64__)
#define MR 4
#define NR 4
#else
#define MR 2
#define NR 4
#endif

/* A u16 lane gains at most 2 * 8 = 16 per step, so 4095 steps
 * (65520) are the most it can take before the sum could pass 65535 (a chunk
 * takes at most 4094 whole steps and the odd last word). */
#define U16_SAFE_VECS 4095

#if defined(__GNUC__)
#define BNN_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define BNN_ALWAYS_INLINE inline
#endif

/* The odd last word of a row in the low half of a vector, 0 in the high half
 * (reading a whole vector would run past the row). */
static BNN_ALWAYS_INLINE uint8x16_t load_last_word(const bnn_word *p)
{
    return vreinterpretq_u8_u64(vcombine_u64(vld1_u64(p), vdup_n_u64(0)));
}

/* acc (8 u16 lanes) += the byte popcounts of a XOR b, added in pairs. On
 * armv7, GCC 12 copies every vpadal accumulator once per iteration (its
 * operand is tied), so there the widening add is spelled vpaddl + vadd, which
 * keeps the loop free of copies and spills. */
static BNN_ALWAYS_INLINE uint16x8_t add_popcount(uint16x8_t acc, uint8x16_t a, uint8x16_t b)
{
#if defined(__aarch64__)
    return vpadalq_u8(acc, vcntq_u8(veorq_u8(a, b)));
#else
    return vaddq_u16(acc, vpaddlq_u8(vcntq_u8(veorq_u8(a, b))));
#endif
}

static BNN_ALWAYS_INLINE uint32_t sum_u32x4(uint32x4_t v)
{
#if defined(__aarch64__)
    return vaddvq_u32(v);
#else
    uint32x2_t s = vadd_u32(vget_low_u32(v), vget_high_u32(v));
    return vget_lane_u32(vpadd_u32(s, s), 0);
#endif
}

/* One mr x nr tile (mr <= MR, nr <= NR, both compile-time constants at every
 * call site so the loops unroll and the accumulators stay in registers). */
static BNN_ALWAYS_INLINE void tile(size_t mr, size_t nr, size_t words, const bnn_word *a,
                                   const bnn_word *b, int32_t *c, size_t ldc, int32_t k)
{
    uint32x4_t acc32[MR][NR];
    uint16x8_t acc16[MR][NR];
    uint8x16_t va[MR];
#pragma GCC unroll 4
    for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 4
        for (size_t s = 0; s < nr; s++)
            acc32[r][s] = vdupq_n_u32(0);

    /* Whole 128-bit steps; an odd last word is one more step (a vector whose
     * high half is 0), taken in the last chunk so that it costs the same 3
     * ops as the others: U16_SAFE_VECS - 1 steps per chunk leave it room. */
    size_t vecs = words / 2, odd = words % 2;
    for (size_t v0 = 0; v0 < vecs || (v0 == 0 && odd); v0 += U16_SAFE_VECS - 1) {
        size_t v1 = vecs - v0 < U16_SAFE_VECS - 1 ? vecs : v0 + U16_SAFE_VECS - 1;
#pragma GCC unroll 4
        for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 4
            for (size_t s = 0; s < nr; s++)
                acc16[r][s] = vdupq_n_u16(0);
        for (size_t v = v0; v < v1; v++) { /* the hot loop */
#pragma GCC unroll 4
            for (size_t r = 0; r < mr; r++)
                va[r] = vreinterpretq_u8_u64(vld1q_u64(a + r * words + 2 * v));
#pragma GCC unroll 4
            for (size_t s = 0; s < nr; s++) {
                uint8x16_t vb = vreinterpretq_u8_u64(vld1q_u64(b + s * words + 2 * v));
#pragma GCC unroll 4
                for (size_t r = 0; r < mr; r++)
                    acc16[r][s] = add_popcount(acc16[r][s], va[r], vb);
            }
        }
        if (odd && v1 == vecs) { /* the odd last word */
#pragma GCC unroll 4
            for (size_t r = 0; r < mr; r++)
                va[r] = load_last_word(a + r * words + words - 1);
#pragma GCC unroll 4
            for (size_t s = 0; s < nr; s++) {
                uint8x16_t vb = load_last_word(b + s * words + words - 1);
#pragma GCC unroll 4
                for (size_t r = 0; r < mr; r++)
                    acc16[r][s] = add_popcount(acc16[r][s], va[r], vb);
            }
        }
#pragma GCC unroll 4
        for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 4
            for (size_t s = 0; s < nr; s++)
                acc32[r][s] = vpadalq_u16(acc32[r][s], acc16[r][s]);
        if (v1 == vecs)
            break;
    }
#if defined(__aarch64__)
    if (nr == NR) { /* a reduction tree: 3 pairwise adds give a row's 4 sums in one vector */
#pragma GCC unroll 4
        for (size_t r = 0; r < mr; r++) {
            uint32x4_t sums = vpaddq_u32(vpaddq_u32(acc32[r][0], acc32[r][1]),
                                         vpaddq_u32(acc32[r][2], acc32[r][3]));
            int32x4_t dot = vsubq_s32(vdupq_n_s32(k), vreinterpretq_s32_u32(vshlq_n_u32(sums, 1)));
            vst1q_s32(c + r * ldc, dot);
        }
        return;
    }
#endif
#pragma GCC unroll 4
    for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 4
        for (size_t s = 0; s < nr; s++)
            c[r * ldc + s] = bnn_dot_from_popcount(k, (int32_t)sum_u32x4(acc32[r][s]));
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
