/* u8gemm_avx512.c - AVX-512 (BW) first-layer product: C = x (uint8) times
 * +-1 weights from the panel of kernels.h, exact int32.
 *
 * u8gemm_avx2.c with 512-bit vectors; read that file first. A panel quad
 * block (16 columns x 4 K positions, 64 bytes) is one zmm, so a step of a row
 * is one broadcast quad, one vpmaddubsw (two int16 pair sums per column, in
 * [-510, 510]) and one vpaddw into int16 accumulators; every CHUNK_QUADS
 * steps vpmaddwd by 1 folds them into one int32 lane per column.
 *
 * Register blocking: MR = 8 rows x 16 columns (1 vector), 8 int16
 * accumulators, as the AVX2 kernel's 4 rows x 2 vectors. The panel group is
 * the outer loop; rows at the edge use the same code with a smaller
 * constant mr; a last partial quad (k % 4) is loaded byte by byte, so nothing
 * past a row's k bytes is read. */
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels/inline.h"
#include "cpu/kernels/kernels.h"

#define MR 8
/* An int16 lane takes one pair sum (|.| <= 510) per step: 64 steps reach at
 * most 32640 <= 32767. */
#define CHUNK_QUADS 64

/* The 4 x bytes at p broadcast to every int32 lane (one vpbroadcastd from
 * memory); x86 is little-endian, so byte 0 is each lane's lowest. */
static BNN_ALWAYS_INLINE __m512i broadcast_quad(const uint8_t *p)
{
    return _mm512_set1_epi32((int32_t)bnn_u8_quad(p, BNN_U8_QUAD));
}

/* The last `avail` (1..3) bytes of a row (kernels.h: bnn_u8_quad). */
static BNN_ALWAYS_INLINE __m512i broadcast_tail(const uint8_t *p, size_t avail)
{
    return _mm512_set1_epi32((int32_t)bnn_u8_quad(p, avail));
}

/* One step of row r: its quad broadcast (a whole quad, or the last `avail`
 * < 4 bytes), times the quad block wv (16 columns), added to the row's int16
 * accumulator a<r>. Rows past mr (a constant after inlining) vanish. Named
 * variables rather than an array, as in u8gemm_avx2.c. */
#define ROW_STEP(r, xp, avail)                                                         \
    if (mr > r) {                                                                       \
        __m512i xb = (avail) == BNN_U8_QUAD ? broadcast_quad((xp) + r * ldx)            \
                                            : broadcast_tail((xp) + r * ldx, (avail));  \
        a##r = _mm512_add_epi16(a##r, _mm512_maddubs_epi16(xb, wv));                   \
    }
#define STEP(xp, avail, wq)                                                            \
    do {                                                                                \
        __m512i wv = _mm512_loadu_si512((const void *)(wq));                            \
        ROW_STEP(0, xp, avail) ROW_STEP(1, xp, avail) ROW_STEP(2, xp, avail)            \
        ROW_STEP(3, xp, avail) ROW_STEP(4, xp, avail) ROW_STEP(5, xp, avail)            \
        ROW_STEP(6, xp, avail) ROW_STEP(7, xp, avail)                                   \
    } while (0)

/* Row r's accumulator folded to one int32 per column (16 lanes), plus the
 * sums of earlier chunks (`carry`), goes to `out`: the row of C itself on the
 * last chunk of a whole group, else `sums`. */
static BNN_ALWAYS_INLINE void fold(__m512i a, const int32_t *carry, int32_t *out)
{
    __m512i s = _mm512_madd_epi16(a, _mm512_set1_epi16(1));
    if (carry)
        s = _mm512_add_epi32(s, _mm512_loadu_si512((const void *)carry));
    _mm512_storeu_si512((void *)out, s);
}

/* mr (1..MR, a constant after inlining) rows of x against one panel group;
 * nc <= 16 columns stored. Between chunks (k > 256) the int32 sums wait in
 * `sums` (L1), so the registers hold only the int16 accumulators. */
static BNN_ALWAYS_INLINE void block(size_t mr, size_t nc, size_t k, const uint8_t *x,
                                    size_t ldx, const int8_t *w, int32_t *c, size_t ldc)
{
    const size_t block_bytes = BNN_U8_GROUP * BNN_U8_QUAD;
    size_t full = k / BNN_U8_QUAD, quads = (k + BNN_U8_QUAD - 1) / BNN_U8_QUAD;
    int32_t sums[MR][BNN_U8_GROUP];
    for (size_t q0 = 0; q0 < quads; q0 += CHUNK_QUADS) {
        size_t q1 = quads - q0 < CHUNK_QUADS ? quads : q0 + CHUNK_QUADS;
        size_t q1_full = q1 < full ? q1 : full;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0,
                a6 = a0, a7 = a0;
        for (size_t q = q0; q < q1_full; q++)
            STEP(x + q * BNN_U8_QUAD, BNN_U8_QUAD, w + q * block_bytes);
        if (q1 > full) /* the last quad: k % 4 bytes */
            STEP(x + full * BNN_U8_QUAD, k % BNN_U8_QUAD, w + full * block_bytes);
        int direct = q1 == quads && nc == BNN_U8_GROUP;
#define FOLD(r)                                                                          \
        if (mr > r)                                                                       \
            fold(a##r, q0 ? sums[r] : NULL, direct ? c + r * ldc : sums[r]);
        FOLD(0) FOLD(1) FOLD(2) FOLD(3) FOLD(4) FOLD(5) FOLD(6) FOLD(7)
#undef FOLD
    }
    if (nc < BNN_U8_GROUP)
        for (size_t r = 0; r < mr; r++)
            memcpy(c + r * ldc, sums[r], nc * sizeof(int32_t));
}

void bnn_u8gemm_avx512(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx,
                       const int8_t *w, int32_t *c, size_t ldc)
{
    size_t group = bnn_u8_group_bytes(k);
    for (size_t j = 0; j < n; j += BNN_U8_GROUP, w += group) {
        size_t nc = n - j < BNN_U8_GROUP ? n - j : BNN_U8_GROUP;
        size_t i = 0;
        for (; i + MR <= m; i += MR)
            block(MR, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc);
        switch (m - i) { /* constant row counts, so each block is unrolled */
        case 7: block(7, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
        case 6: block(6, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
        case 5: block(5, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
        case 4: block(4, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
        case 3: block(3, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
        case 2: block(2, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
        case 1: block(1, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
        }
    }
}
