/* u8gemm_neon.c - NEON first-layer product for aarch64 and armv7 (built with
 * -mfpu=neon): C = x (uint8) times +-1 weights from the panel of kernels.h,
 * exact int32.
 *
 * NEON has no unsigned x signed byte multiply-add (vpmaddubsw), but with
 * w = +-1 none is needed: x . w = S - 2 A, where S = sum x over the row and
 * A = sum of the x bytes whose weight is -1, i.e. of (x AND m) with the byte
 * mask m = w >> 7 (0xff for -1, 0 for +1 and for the panel's zero padding).
 * Per step a row's 4-byte K quad is broadcast to the 4 u32 lanes and meets
 * one panel quad block (16 columns x 4 K positions = 4 q registers, 4
 * columns each): AND, then a widening pairwise add of the bytes into 8 u16
 * lanes (two per column, each gaining at most 510 per step), so two ops per
 * 16 MACs. Every CHUNK_QUADS steps the u16 lanes are widened into one u32
 * lane per column; at the end S - 2 A per lane: no horizontal reduction.
 *
 * aarch64 has 32 q registers: MR = 4 rows (16 accumulators + 4 masks);
 * armv7 has 16: MR = 2 (8 accumulators + 4 masks). Edge rows use the same
 * code with a smaller constant mr; a last partial quad (k % 4) is loaded byte
 * by byte, so nothing past a row's k bytes is read. */
#include <arm_neon.h>
#include <string.h>

#include "cpu/kernels/inline.h"
#include "cpu/kernels/kernels.h"
#include "cpu/kernels/neon_accumulate.h"

#if defined(__aarch64__)
#define MR 4
#else
#define MR 2
#endif
#define VECS 4 /* q registers per panel quad block */
/* A u16 lane gains at most 2 * 255 per step: 128 steps reach 65280 <= 65535. */
#define CHUNK_QUADS 128

/* A row's K quad (kernels.h: bnn_u8_quad) in every u32 lane. */
static BNN_ALWAYS_INLINE uint8x16_t broadcast_quad(const uint8_t *p, size_t avail)
{
    return vreinterpretq_u8_u32(vdupq_n_u32(bnn_u8_quad(p, avail)));
}

/* acc (8 u16 lanes) += the bytes of x AND m, added in pairs. */
static BNN_ALWAYS_INLINE uint16x8_t add_masked(uint16x8_t acc, uint8x16_t x, uint8x16_t m)
{
    return bnn_accumulate_pairs(acc, vandq_u8(x, m));
}

/* acc[r][v] += row r's quad at xp + r*ldx (`avail` bytes) against the quad
 * block wq, through the masks of its 4 vectors. */
static BNN_ALWAYS_INLINE void step(size_t mr, uint16x8_t acc[MR][VECS], const uint8_t *xp,
                                   size_t ldx, size_t avail, const int8_t *wq)
{
    uint8x16_t m[VECS];
BNN_UNROLL
    for (size_t v = 0; v < VECS; v++)
        m[v] = vreinterpretq_u8_s8(vshrq_n_s8(vld1q_s8(wq + 16 * v), 7));
BNN_UNROLL
    for (size_t r = 0; r < mr; r++) {
        uint8x16_t xb = broadcast_quad(xp + r * ldx, avail);
BNN_UNROLL
        for (size_t v = 0; v < VECS; v++)
            acc[r][v] = add_masked(acc[r][v], xb, m[v]);
    }
}

/* sum of the k bytes at p, exact in u32 (k <= 2^23). */
static uint32_t row_sum(const uint8_t *p, size_t k)
{
    uint32x4_t acc = vdupq_n_u32(0);
    size_t t = 0;
    /* A u16 lane of the pairwise sums gains <= 510 per vector: widen every 128. */
    while (k - t >= 16) {
        size_t n = (k - t) / 16 < 128 ? (k - t) / 16 : 128;
        uint16x8_t acc16 = vdupq_n_u16(0);
        for (size_t v = 0; v < n; v++, t += 16)
            acc16 = bnn_accumulate_pairs(acc16, vld1q_u8(p + t));
        acc = vpadalq_u16(acc, acc16);
    }
    uint32_t s = vgetq_lane_u32(acc, 0) + vgetq_lane_u32(acc, 1) + vgetq_lane_u32(acc, 2) +
                 vgetq_lane_u32(acc, 3);
    for (; t < k; t++)
        s += p[t];
    return s;
}

/* mr (1..MR, a constant after inlining) rows of x against one panel group;
 * nc <= 16 columns stored. */
static BNN_ALWAYS_INLINE void block(size_t mr, size_t nc, size_t k, const uint8_t *x,
                                    size_t ldx, const int8_t *w, int32_t *c, size_t ldc)
{
    const size_t block_bytes = BNN_U8_GROUP * BNN_U8_QUAD;
    size_t full = k / BNN_U8_QUAD, quads = (k + BNN_U8_QUAD - 1) / BNN_U8_QUAD;
    uint32x4_t masked[MR][VECS]; /* A: one u32 lane per column */
BNN_UNROLL
    for (size_t r = 0; r < mr; r++)
BNN_UNROLL
        for (size_t v = 0; v < VECS; v++)
            masked[r][v] = vdupq_n_u32(0);
    for (size_t q0 = 0; q0 < quads; q0 += CHUNK_QUADS) {
        size_t q1 = quads - q0 < CHUNK_QUADS ? quads : q0 + CHUNK_QUADS;
        size_t q1_full = q1 < full ? q1 : full;
        uint16x8_t acc[MR][VECS];
BNN_UNROLL
        for (size_t r = 0; r < mr; r++)
BNN_UNROLL
            for (size_t v = 0; v < VECS; v++)
                acc[r][v] = vdupq_n_u16(0);
        for (size_t q = q0; q < q1_full; q++) /* the hot loop */
            step(mr, acc, x + q * BNN_U8_QUAD, ldx, BNN_U8_QUAD, w + q * block_bytes);
        if (q1 > full) /* the last quad: k % 4 bytes */
            step(mr, acc, x + full * BNN_U8_QUAD, ldx, k % BNN_U8_QUAD, w + full * block_bytes);
BNN_UNROLL
        for (size_t r = 0; r < mr; r++)
BNN_UNROLL
            for (size_t v = 0; v < VECS; v++)
                masked[r][v] = vpadalq_u16(masked[r][v], acc[r][v]);
    }
BNN_UNROLL
    for (size_t r = 0; r < mr; r++) {
        /* S - 2 A in [-255 k, 255 k]; 2 A <= 510 k < 2^32, so the u32
         * difference wraps to exactly the int32 result. */
        uint32x4_t s = vdupq_n_u32(row_sum(x + r * ldx, k));
        int32_t out[BNN_U8_GROUP];
BNN_UNROLL
        for (size_t v = 0; v < VECS; v++) {
            uint32x4_t dot = vsubq_u32(s, vshlq_n_u32(masked[r][v], 1));
            vst1q_s32(out + 4 * v, vreinterpretq_s32_u32(dot));
        }
        memcpy(c + r * ldc, out, nc * sizeof(int32_t));
    }
}

void bnn_u8gemm_neon(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx, const int8_t *w,
                     int32_t *c, size_t ldc)
{
    size_t group = bnn_u8_group_bytes(k);
    for (size_t j = 0; j < n; j += BNN_U8_GROUP, w += group) {
        size_t nc = n - j < BNN_U8_GROUP ? n - j : BNN_U8_GROUP;
        size_t i = 0;
        for (; i + MR <= m; i += MR)
            block(MR, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc);
        switch (m - i) { /* constant row counts, so each block is unrolled */
#if MR > 3
        case 3: block(3, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
#endif
#if MR > 2
        case 2: block(2, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
#endif
        case 1: block(1, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
        default: break;
        }
    }
}
