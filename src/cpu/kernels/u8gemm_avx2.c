/* u8gemm_avx2.c - AVX2 first-layer product: C = x (uint8) times +-1 weights
 * from the panel of kernels.h, exact int32.
 *
 * Per step, 4 bytes of an x row (one K quad) are broadcast to all 8 int32
 * lanes and meet one panel quad block: 64 bytes = 16 columns x 4 K positions,
 * two ymm vectors. vpmaddubsw (x unsigned, w signed) gives per column two
 * int16 pair sums x0 w0 + x1 w1 and x2 w2 + x3 w3, each in [-510, 510]: no
 * saturation, since |w| <= 1. Those are added as int16 (vpaddw) for up to
 * CHUNK_QUADS steps, then vpmaddwd by 1 folds the two pair lanes of a column
 * into one int32 lane, added to the int32 sums. So a step costs one
 * multiply-add and one add per 32 MACs, and every output ends in its own
 * lane: no horizontal reduction.
 *
 * Register blocking: MR = 4 rows of x x 16 columns (2 vectors), 8 int16
 * accumulators; the panel group is the outer loop so its K x 16 bytes stay in
 * L1 while the rows stream past. Rows at the edge use the same code with a
 * smaller constant mr; a last partial quad (k % 4) is loaded byte by byte,
 * so nothing past a row's k bytes is read. u8gemm_avx512.c is this file with
 * one zmm per group and MR = 8 (again 8 accumulators). */
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels/inline.h"
#include "cpu/kernels/kernels.h"

#define MR 4
/* An int16 lane takes one pair sum (|.| <= 510) per step: 64 steps reach at
 * most 32640 <= 32767. */
#define CHUNK_QUADS 64

/* The 4 x bytes at p broadcast to every int32 lane (one vpbroadcastd from
 * memory); x86 is little-endian, so byte 0 is each lane's lowest. */
static BNN_ALWAYS_INLINE __m256i broadcast_quad(const uint8_t *p)
{
    return _mm256_set1_epi32((int32_t)bnn_u8_quad(p, BNN_U8_QUAD));
}

/* The last `avail` (1..3) bytes of a row (kernels.h: bnn_u8_quad). */
static BNN_ALWAYS_INLINE __m256i broadcast_tail(const uint8_t *p, size_t avail)
{
    return _mm256_set1_epi32((int32_t)bnn_u8_quad(p, avail));
}

/* One step of row r: its quad broadcast (a whole quad, or the last `avail`
 * < 4 bytes), times the quad block's two vectors w0 (columns 0-7) and w1
 * (8-15), added to the row's int16 accumulators a<r>0, a<r>1. Rows past mr
 * (a constant after inlining) vanish. Named variables rather than an array:
 * built with GCC 12 at -O2 (the Makefile's default), an array version ran at
 * 2/3 of this speed. */
#define ROW_STEP(r, xp, avail)                                                         \
    if (mr > r) {                                                                       \
        __m256i xb = (avail) == BNN_U8_QUAD ? broadcast_quad((xp) + r * ldx)            \
                                            : broadcast_tail((xp) + r * ldx, (avail));  \
        a##r##0 = _mm256_add_epi16(a##r##0, _mm256_maddubs_epi16(xb, w0));             \
        a##r##1 = _mm256_add_epi16(a##r##1, _mm256_maddubs_epi16(xb, w1));             \
    }
#define STEP(xp, avail, wq)                                                            \
    do {                                                                                \
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(wq));                         \
        __m256i w1 = _mm256_loadu_si256((const __m256i *)((wq) + 32));                  \
        ROW_STEP(0, xp, avail) ROW_STEP(1, xp, avail) ROW_STEP(2, xp, avail)            \
        ROW_STEP(3, xp, avail)                                                          \
    } while (0)

/* Row r's accumulators a0 (columns 0-7) and a1 (8-15) folded to one int32
 * per column, plus the sums of earlier chunks (`carry`), go to `out`: the
 * row of C itself on the last chunk of a whole group, else `sums`. */
static BNN_ALWAYS_INLINE void fold(__m256i a0, __m256i a1, const int32_t *carry, int32_t *out)
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i s0 = _mm256_madd_epi16(a0, ones), s1 = _mm256_madd_epi16(a1, ones);
    if (carry) {
        s0 = _mm256_add_epi32(s0, _mm256_loadu_si256((const __m256i *)carry));
        s1 = _mm256_add_epi32(s1, _mm256_loadu_si256((const __m256i *)(carry + 8)));
    }
    _mm256_storeu_si256((__m256i *)out, s0);
    _mm256_storeu_si256((__m256i *)(out + 8), s1);
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
        __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00, a20 = a00,
                a21 = a00, a30 = a00, a31 = a00;
        for (size_t q = q0; q < q1_full; q++)
            STEP(x + q * BNN_U8_QUAD, BNN_U8_QUAD, w + q * block_bytes);
        if (q1 > full) /* the last quad: k % 4 bytes */
            STEP(x + full * BNN_U8_QUAD, k % BNN_U8_QUAD, w + full * block_bytes);
        int direct = q1 == quads && nc == BNN_U8_GROUP;
#define FOLD(r, a0, a1)                                                                  \
        if (mr > r)                                                                       \
            fold(a0, a1, q0 ? sums[r] : NULL, direct ? c + r * ldc : sums[r]);
        FOLD(0, a00, a01) FOLD(1, a10, a11) FOLD(2, a20, a21) FOLD(3, a30, a31)
#undef FOLD
    }
    if (nc < BNN_U8_GROUP)
        for (size_t r = 0; r < mr; r++)
            memcpy(c + r * ldc, sums[r], nc * sizeof(int32_t));
}

void bnn_u8gemm_avx2(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx, const int8_t *w,
                     int32_t *c, size_t ldc)
{
    size_t group = bnn_u8_group_bytes(k);
    for (size_t j = 0; j < n; j += BNN_U8_GROUP, w += group) {
        size_t nc = n - j < BNN_U8_GROUP ? n - j : BNN_U8_GROUP;
        size_t i = 0;
        for (; i + MR <= m; i += MR)
            block(MR, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc);
        switch (m - i) { /* constant row counts, so each block is unrolled */
        case 3: block(3, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
        case 2: block(2, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
        case 1: block(1, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
        }
    }
}
