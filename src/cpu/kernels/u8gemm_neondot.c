/* u8gemm_neondot.c - ARMv8.2 dot-product (udot) first-layer product for
 * aarch64 (built with +dotprod, picked when HWCAP_ASIMDDP says the core has
 * it): C = x (uint8) times +-1 weights from the panel of kernels.h, exact
 * int32.
 *
 * As in u8gemm_neon.c, x . w = S - 2 A with S = sum x over the row and A the
 * sum of the x bytes whose weight is -1. Here A comes from udot: each u32
 * lane gains the dot product of its 4 unsigned bytes with 4 others, so a
 * row's broadcast K quad against the panel quad block turned into 0/1 bytes
 * (1 where the weight is -1: w >> 7, logical; the panel's zero padding gives
 * 0) adds a whole step of 4 columns per instruction, straight into u32: no
 * widening chain and no chunks (A <= 255 k fits). The 0/1 bytes are made once
 * per quad block and serve MR rows. S is summed once per row per call.
 *
 * Register blocking: MR = 4 rows x 16 columns (4 q registers), 16
 * accumulators + 4 weight vectors + the rows' x bytes. The hot loop takes 2
 * quads a step: 8 bytes of each row loaded once, each quad used in place by
 * udot's by-element form, so no op broadcasts it (1.25 ops per 16 MACs).
 * Edge rows use the same code with a smaller constant mr; a last odd quad
 * is broadcast, a last partial one (k % 4) assembled byte by byte, so
 * nothing past a row's k bytes is read. */
#include <arm_neon.h>
#include <string.h>

#include "cpu/kernels/inline.h"
#include "cpu/kernels/kernels.h"

#define MR 4
#define VECS 4         /* q registers per panel quad block */
#define ROW_BATCH 64   /* rows whose sums S are kept at a time */

/* A row's K quad (kernels.h: bnn_u8_quad) in every u32 lane. */
static BNN_ALWAYS_INLINE uint8x16_t broadcast_quad(const uint8_t *p, size_t avail)
{
    return vreinterpretq_u8_u32(vdupq_n_u32(bnn_u8_quad(p, avail)));
}

/* The 0/1 bytes of the weights that are -1 in the quad block at wq. */
static BNN_ALWAYS_INLINE void negative_weights(uint8x16_t neg[VECS], const int8_t *wq)
{
BNN_UNROLL
    for (size_t v = 0; v < VECS; v++)
        neg[v] = vshrq_n_u8(vreinterpretq_u8_s8(vld1q_s8(wq + 16 * v)), 7);
}

/* acc[r][v] += row r's quad at xp + r*ldx (`avail` bytes) . the 0/1 bytes
 * of the quad block wq's weights that are -1, one udot per vector. */
static BNN_ALWAYS_INLINE void dot_step(size_t mr, uint32x4_t acc[MR][VECS], const uint8_t *xp,
                                       size_t ldx, size_t avail, const int8_t *wq)
{
    uint8x16_t neg[VECS];
    negative_weights(neg, wq);
BNN_UNROLL
    for (size_t r = 0; r < mr; r++) {
        uint8x16_t xb = broadcast_quad(xp + r * ldx, avail);
BNN_UNROLL
        for (size_t v = 0; v < VECS; v++)
            acc[r][v] = vdotq_u32(acc[r][v], xb, neg[v]);
    }
}

/* acc[r][v] += quad LANE (a constant) of xq[r] . neg[v]: udot by element,
 * the x quad taken from a lane of the row's loaded bytes. */
#define LANE_STEP(mr, acc, neg, xq, LANE)                                                   \
    do {                                                                                    \
        BNN_UNROLL                                                                          \
        for (size_t r_ = 0; r_ < (mr); r_++)                                                \
            BNN_UNROLL                                                                      \
            for (size_t v_ = 0; v_ < VECS; v_++)                                            \
                (acc)[r_][v_] = vdotq_lane_u32((acc)[r_][v_], (neg)[v_], (xq)[r_], LANE); \
    } while (0)

/* LANE_QUADS whole quads: each row's 8 bytes loaded once, 2 quad blocks of
 * weights against them, no broadcast op: per quad 16 udot and 4 shifts
 * serve 4 rows x 16 columns x 4 K positions (dot_step needs 4 more). Two
 * quads, not four from 16 bytes: with four, the compilers make all 16
 * weight vectors at once and spill. */
#define LANE_QUADS 2
static BNN_ALWAYS_INLINE void lane_steps(size_t mr, uint32x4_t acc[MR][VECS], const uint8_t *xp,
                                         size_t ldx, const int8_t *wq)
{
    uint8x8_t xq[MR];
    uint8x16_t neg[VECS];
BNN_UNROLL
    for (size_t r = 0; r < mr; r++)
        xq[r] = vld1_u8(xp + r * ldx);
    negative_weights(neg, wq);
    LANE_STEP(mr, acc, neg, xq, 0);
    negative_weights(neg, wq + BNN_U8_GROUP * BNN_U8_QUAD);
    LANE_STEP(mr, acc, neg, xq, 1);
}

/* mr rows (a constant after inlining) against one panel group; nc <= 16
 * columns stored; s[r] = row r's byte sum. Whole quads in the hot loop (no
 * branch on the bytes left), a last partial quad after it. */
static BNN_ALWAYS_INLINE void block(size_t mr, size_t nc, size_t k, const uint8_t *x, size_t ldx,
                                    const int8_t *w, const uint32_t *s, int32_t *c, size_t ldc)
{
    const size_t block_bytes = BNN_U8_GROUP * BNN_U8_QUAD;
    size_t full = k / BNN_U8_QUAD;
    uint32x4_t acc[MR][VECS];
BNN_UNROLL
    for (size_t r = 0; r < MR; r++)
BNN_UNROLL
        for (size_t v = 0; v < VECS; v++)
            acc[r][v] = vdupq_n_u32(0);
    size_t q = 0;
    for (; q + LANE_QUADS <= full; q += LANE_QUADS) /* the hot loop */
        lane_steps(mr, acc, x + q * BNN_U8_QUAD, ldx, w + q * block_bytes);
    for (; q < full; q++)
        dot_step(mr, acc, x + q * BNN_U8_QUAD, ldx, BNN_U8_QUAD, w + q * block_bytes);
    if (k % BNN_U8_QUAD) /* the last quad: k % 4 bytes */
        dot_step(mr, acc, x + full * BNN_U8_QUAD, ldx, k % BNN_U8_QUAD, w + full * block_bytes);
BNN_UNROLL
    for (size_t r = 0; r < mr; r++) {
        int32_t out[BNN_U8_GROUP];
        int32x4_t sv = vdupq_n_s32((int32_t)s[r]);
BNN_UNROLL
        for (size_t v = 0; v < VECS; v++) {
            int32x4_t o = vsubq_s32(sv, vreinterpretq_s32_u32(vshlq_n_u32(acc[r][v], 1)));
            if (nc == BNN_U8_GROUP)
                vst1q_s32(c + r * ldc + 4 * v, o);
            else
                vst1q_s32(out + 4 * v, o);
        }
        if (nc < BNN_U8_GROUP)
            memcpy(c + r * ldc, out, nc * sizeof(int32_t));
    }
}

static uint32_t row_sum(const uint8_t *p, size_t k)
{
    uint32x4_t acc = vdupq_n_u32(0);
    size_t t = 0;
    for (; t + 16 <= k; t += 16)
        acc = vpadalq_u16(acc, vpaddlq_u8(vld1q_u8(p + t)));
    uint32_t s = vaddvq_u32(acc);
    for (; t < k; t++)
        s += p[t];
    return s;
}

void bnn_u8gemm_neondot(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx,
                        const int8_t *w, int32_t *c, size_t ldc)
{
    size_t group = bnn_u8_group_bytes(k);
    uint32_t sums[ROW_BATCH];
    for (size_t i0 = 0; i0 < m; i0 += ROW_BATCH) {
        size_t rows = m - i0 < ROW_BATCH ? m - i0 : ROW_BATCH;
        const uint8_t *xb = x + i0 * ldx;
        for (size_t r = 0; r < rows; r++)
            sums[r] = row_sum(xb + r * ldx, k);
        const int8_t *wg = w;
        for (size_t j = 0; j < n; j += BNN_U8_GROUP, wg += group) {
            size_t nc = n - j < BNN_U8_GROUP ? n - j : BNN_U8_GROUP;
            int32_t *cb = c + i0 * ldc + j;
            size_t i = 0;
            for (; i + MR <= rows; i += MR)
                block(MR, nc, k, xb + i * ldx, ldx, wg, sums + i, cb + i * ldc, ldc);
            switch (rows - i) { /* constant row counts, so each block is unrolled */
            case 3: block(3, nc, k, xb + i * ldx, ldx, wg, sums + i, cb + i * ldc, ldc); break;
            case 2: block(2, nc, k, xb + i * ldx, ldx, wg, sums + i, cb + i * ldc, ldc); break;
            case 1: block(1, nc, k, xb + i * ldx, ldx, wg, sums + i, cb + i * ldc, ldc); break;
            }
        }
    }
}
