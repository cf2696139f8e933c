/* u8gemm_avx512vnni.c - AVX-512 VNNI first-layer product: C = x (uint8) times
 * +-1 weights from the panel of kernels.h, exact int32.
 *
 * vpdpbusd multiplies the 4 unsigned bytes of each int32 lane of one operand
 * by the 4 signed bytes of the other and adds the 4 products to the lane: with
 * a broadcast x quad against a panel quad block (16 columns x 4 K positions),
 * one instruction is a whole step of a row, straight into int32 (the AVX-512
 * BW kernel needs vpmaddubsw + vpaddw and a vpmaddwd fold per chunk). The
 * int32 lanes hold any sum (|sum| <= 255 k, k <= 2^23), so there are no
 * chunks and no fold.
 *
 * Register blocking: MR = 8 rows x 2 panel groups (32 columns), 16
 * accumulators, so each broadcast quad serves two vpdpbusd. Rows at the edge
 * use the same code with a smaller constant mr, a single group at the right
 * edge the same code with ng = 1; a last partial quad (k % 4) is assembled
 * byte by byte, so nothing past a row's k bytes is read. */
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels/inline.h"
#include "cpu/kernels/kernels.h"

#define MR 8
#define NG 2 /* panel groups per block */

/* A row's K quad (kernels.h: bnn_u8_quad) in every int32 lane. */
static BNN_ALWAYS_INLINE __m512i broadcast_quad(const uint8_t *p, size_t avail)
{
    return _mm512_set1_epi32((int32_t)bnn_u8_quad(p, avail));
}

/* mr rows x ng groups (constants after inlining) of C; nc columns stored
 * (16 * ng, or fewer at the right edge). */
static BNN_ALWAYS_INLINE void block(int mr, int ng, size_t nc, size_t k, const uint8_t *x,
                                    size_t ldx, const int8_t *w, size_t group, int32_t *c,
                                    size_t ldc)
{
    const size_t block_bytes = BNN_U8_GROUP * BNN_U8_QUAD;
    size_t quads = (k + BNN_U8_QUAD - 1) / BNN_U8_QUAD;
    __m512i acc[MR][NG];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
        acc[r][0] = acc[r][1] = _mm512_setzero_si512();
    for (size_t q = 0; q < quads; q++) {
        size_t avail = k - q * BNN_U8_QUAD < BNN_U8_QUAD ? k - q * BNN_U8_QUAD : BNN_U8_QUAD;
        __m512i w0 = _mm512_loadu_si512((const void *)(w + q * block_bytes));
        __m512i w1 = ng > 1 ? _mm512_loadu_si512((const void *)(w + group + q * block_bytes))
                            : _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int r = 0; r < mr; r++) {
            __m512i xb = broadcast_quad(x + r * ldx + q * BNN_U8_QUAD, avail);
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], xb, w0);
            if (ng > 1)
                acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], xb, w1);
        }
    }
    __mmask16 m0 = nc >= BNN_U8_GROUP ? 0xffff : (__mmask16)((1u << nc) - 1);
    __mmask16 m1 = nc >= 2 * BNN_U8_GROUP ? 0xffff
                   : nc > BNN_U8_GROUP    ? (__mmask16)((1u << (nc - BNN_U8_GROUP)) - 1)
                                          : 0;
    if (nc == (size_t)ng * BNN_U8_GROUP) { /* plain stores: masked ones are slow on some cores (Zen 4) */
#pragma GCC unroll 8
        for (int r = 0; r < mr; r++) {
            _mm512_storeu_si512((void *)(c + r * ldc), acc[r][0]);
            if (ng > 1)
                _mm512_storeu_si512((void *)(c + r * ldc + BNN_U8_GROUP), acc[r][1]);
        }
        return;
    }
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++) {
        _mm512_mask_storeu_epi32(c + r * ldc, m0, acc[r][0]);
        if (ng > 1)
            _mm512_mask_storeu_epi32(c + r * ldc + BNN_U8_GROUP, m1, acc[r][1]);
    }
}

/* All rows against ng groups starting at w (columns j.., nc of them). */
static BNN_ALWAYS_INLINE void rows(int ng, size_t m, size_t nc, size_t k, const uint8_t *x,
                                   size_t ldx, const int8_t *w, size_t group, int32_t *c,
                                   size_t ldc)
{
    size_t i = 0;
    for (; i + MR <= m; i += MR)
        block(MR, ng, nc, k, x + i * ldx, ldx, w, group, c + i * ldc, ldc);
    switch (m - i) { /* constant row counts, so each block is unrolled */
    case 7: block(7, ng, nc, k, x + i * ldx, ldx, w, group, c + i * ldc, ldc); break;
    case 6: block(6, ng, nc, k, x + i * ldx, ldx, w, group, c + i * ldc, ldc); break;
    case 5: block(5, ng, nc, k, x + i * ldx, ldx, w, group, c + i * ldc, ldc); break;
    case 4: block(4, ng, nc, k, x + i * ldx, ldx, w, group, c + i * ldc, ldc); break;
    case 3: block(3, ng, nc, k, x + i * ldx, ldx, w, group, c + i * ldc, ldc); break;
    case 2: block(2, ng, nc, k, x + i * ldx, ldx, w, group, c + i * ldc, ldc); break;
    case 1: block(1, ng, nc, k, x + i * ldx, ldx, w, group, c + i * ldc, ldc); break;
    }
}

void bnn_u8gemm_avx512vnni(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx,
                           const int8_t *w, int32_t *c, size_t ldc)
{
    size_t group = bnn_u8_group_bytes(k);
    size_t j = 0;
    for (; j + BNN_U8_GROUP < n; j += NG * BNN_U8_GROUP, w += NG * group) {
        size_t nc = n - j < NG * BNN_U8_GROUP ? n - j : NG * BNN_U8_GROUP;
        rows(2, m, nc, k, x, ldx, w, group, c + j, ldc);
    }
    if (j < n) /* one group (1..16 columns) left */
        rows(1, m, n - j, k, x, ldx, w, group, c + j, ldc);
}
