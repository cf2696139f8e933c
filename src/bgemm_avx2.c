/* bgemm_avx2.c - AVX2 binary GEMM: C[i][j] = k - 2 popcount(A_i XOR B_j).
 *
 * Popcount is the nibble lookup: vpshufb maps each 4-bit nibble to its bit
 * count, byte counters add up a K chunk, vpsadbw widens them once per output.
 *
 * The nibble split commutes with XOR: (a ^ b) & 0x0f == (a & 0x0f) ^ (b & 0x0f),
 * and likewise for the high nibble. So the split (and, shift, and) is done once
 * per loaded vector instead of once per output: NR rows of B are copied into a
 * panel already split into low and high nibble planes (zero-padded to whole
 * vectors), and each A vector is split once and used against all NR rows. Per
 * output and 256 bits that leaves 2 xor + 2 vpshufb + 2 add instead of 8 ops.
 *
 * Loops, outer to inner: NR-row panels of B, K chunks of at most KC vectors
 * (the panel stays in L1 and byte counters cannot overflow), rows of A, the
 * 1 x NR micro-tile. Between chunks partial popcounts live in C itself.
 *
 * With one or two rows of A the panel copy would cost more than it saves, so
 * those rows run a direct 1 x NR tile that reads B rows in place and splits
 * every XOR result (the textbook 8-op form). */
#include <immintrin.h>
#include <string.h>

#include "kernels.h"

#define NR 8          /* B rows per micro-tile (and per panel) */
#define NR_SMALL 4    /* tile for the last 1-4 rows of B, so a thin edge wastes less */
#ifndef KC
#define KC 16         /* vectors per K chunk: byte counters stay <= 16 * 8 = 128 */
#endif
#ifndef DIRECT_MAX_M
#define DIRECT_MAX_M 2 /* up to this many A rows, skip the panel copy */
#endif
#define WORDS_PER_VEC 4

static inline __m256i nibble_lut(void)
{
    return _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
}

/* Where a row has 1-3 words left over, its last vector is read with this mask
 * (lanes past the row read as 0, which XOR to 0 and never count). */
static inline __m256i tail_mask(size_t words)
{
    long long rem = (long long)(words % WORDS_PER_VEC);
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(rem), _mm256_setr_epi64x(0, 1, 2, 3));
}

/* Vector v of a row: whole vectors plain, the last partial one masked. */
static inline __m256i load_vec(const bnn_word *row, size_t v, size_t full, __m256i tmask)
{
    const bnn_word *p = row + v * WORDS_PER_VEC;
    if (v < full)
        return _mm256_loadu_si256((const __m256i *)p);
    return _mm256_maskload_epi64((const long long *)p, tmask);
}

/* Sum the 32 byte counters of each of 4 accumulators: dword t = total of acc[t].
 * vpsadbw leaves 4 qword partials per accumulator; pairing two accumulators in
 * the dword halves of each qword, then unpacking, adds 4 outputs at once. */
static inline __m128i reduce4(__m256i a0, __m256i a1, __m256i a2, __m256i a3)
{
    const __m256i zero = _mm256_setzero_si256();
    __m256i t01 = _mm256_or_si256(_mm256_sad_epu8(a0, zero),
                                  _mm256_slli_epi64(_mm256_sad_epu8(a1, zero), 32));
    __m256i t23 = _mm256_or_si256(_mm256_sad_epu8(a2, zero),
                                  _mm256_slli_epi64(_mm256_sad_epu8(a3, zero), 32));
    /* per 128-bit lane: [a0, a1, a2, a3] partial sums */
    __m256i u = _mm256_add_epi32(_mm256_unpacklo_epi64(t01, t23), _mm256_unpackhi_epi64(t01, t23));
    return _mm_add_epi32(_mm256_castsi256_si128(u), _mm256_extracti128_si256(u, 1));
}

/* The same for 8 accumulators into the 8 dwords of one vector. */
static inline __m256i reduce8(const __m256i *acc)
{
    const __m256i zero = _mm256_setzero_si256();
    __m256i t[4];
    for (int p = 0; p < 4; p++)
        t[p] = _mm256_or_si256(_mm256_sad_epu8(acc[2 * p], zero),
                               _mm256_slli_epi64(_mm256_sad_epu8(acc[2 * p + 1], zero), 32));
    __m256i u0 = _mm256_add_epi32(_mm256_unpacklo_epi64(t[0], t[1]), _mm256_unpackhi_epi64(t[0], t[1]));
    __m256i u1 = _mm256_add_epi32(_mm256_unpacklo_epi64(t[2], t[3]), _mm256_unpackhi_epi64(t[2], t[3]));
    /* lane 0 of the result: outputs 0-3 (both lanes of u0); lane 1: outputs 4-7 */
    return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20),
                            _mm256_permute2x128_si256(u0, u1, 0x31));
}

/* Copy rows [0, nr) of B, vectors [v0, v1), into the panel as nibble planes:
 * panel[2 * (v * NR + r)] low nibbles, [.. + 1] high nibbles. Rows past nr are 0. */
static void pack_panel(const bnn_word *b, size_t words, size_t nr, size_t v0, size_t v1,
                       size_t full, __m256i tmask, __m256i *panel)
{
    const __m256i low = _mm256_set1_epi8(0x0f);
    for (size_t v = v0; v < v1; v++) {
        __m256i *p = panel + 2 * (v - v0) * NR;
        for (size_t r = 0; r < NR; r++) {
            __m256i x = r < nr ? load_vec(b + r * words, v, full, tmask) : _mm256_setzero_si256();
            p[2 * r] = _mm256_and_si256(x, low);
            p[2 * r + 1] = _mm256_and_si256(_mm256_srli_epi16(x, 4), low);
        }
    }
}

/* One A row against a panel of `nr_tile` (NR or NR_SMALL) B rows over vectors
 * [v0, v1) of the chunk; returns the popcounts in dwords. Inlined with a
 * constant nr_tile so the accumulators stay in registers. */
static inline __attribute__((always_inline)) void tile_packed(
    const bnn_word *a, const __m256i *panel, size_t v0, size_t v1, size_t full, __m256i tmask,
    int nr_tile, __m256i *acc)
{
    const __m256i lut = nibble_lut(), low = _mm256_set1_epi8(0x0f);
#pragma GCC unroll 8
    for (int r = 0; r < nr_tile; r++)
        acc[r] = _mm256_setzero_si256();
    for (size_t v = v0; v < v1; v++) {
        __m256i x = load_vec(a, v, full, tmask);
        __m256i alo = _mm256_and_si256(x, low);
        __m256i ahi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low);
        const __m256i *p = panel + 2 * (v - v0) * NR;
#pragma GCC unroll 8
        for (int r = 0; r < nr_tile; r++) {
            acc[r] = _mm256_add_epi8(acc[r], _mm256_shuffle_epi8(lut, _mm256_xor_si256(alo, p[2 * r])));
            acc[r] = _mm256_add_epi8(acc[r], _mm256_shuffle_epi8(lut, _mm256_xor_si256(ahi, p[2 * r + 1])));
        }
    }
}

/* One A row against NR B rows read in place; bp[r] points at B row r (rows
 * past the edge point at a real row, and their results are dropped). */
static inline __attribute__((always_inline)) void tile_direct(
    const bnn_word *a, const bnn_word *const *bp, size_t v0, size_t v1, size_t full,
    __m256i tmask, __m256i *acc)
{
    const __m256i lut = nibble_lut(), low = _mm256_set1_epi8(0x0f);
#pragma GCC unroll 8
    for (int r = 0; r < NR; r++)
        acc[r] = _mm256_setzero_si256();
    for (size_t v = v0; v < v1; v++) {
        __m256i x = load_vec(a, v, full, tmask);
#pragma GCC unroll 8
        for (int r = 0; r < NR; r++) {
            __m256i y = _mm256_xor_si256(x, load_vec(bp[r], v, full, tmask));
            acc[r] = _mm256_add_epi8(acc[r], _mm256_shuffle_epi8(lut, _mm256_and_si256(y, low)));
            acc[r] = _mm256_add_epi8(
                acc[r], _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(y, 4), low)));
        }
    }
}

/* Write nr outputs of one C row from chunk popcounts `pc`: the first chunk
 * stores, later ones add to the partial counts in C, the last turns the total
 * into k - 2 * popcount. */
static inline void finish_row(int32_t *c, size_t nr, __m256i pc, int first, int last, int32_t k)
{
    int32_t tmp[NR] = {0};
    if (!first) {
        memcpy(tmp, c, nr * sizeof(int32_t));
        pc = _mm256_add_epi32(pc, _mm256_loadu_si256((const __m256i *)tmp));
    }
    if (last)
        pc = _mm256_sub_epi32(_mm256_set1_epi32(k), _mm256_slli_epi32(pc, 1));
    if (nr == NR) {
        _mm256_storeu_si256((__m256i *)c, pc);
    } else {
        _mm256_storeu_si256((__m256i *)tmp, pc);
        memcpy(c, tmp, nr * sizeof(int32_t));
    }
}

static void bgemm_packed(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                         int32_t *c, size_t ldc, int32_t k)
{
    __m256i panel[2 * KC * NR];
    size_t nvec = (words + WORDS_PER_VEC - 1) / WORDS_PER_VEC, full = words / WORDS_PER_VEC;
    __m256i tmask = tail_mask(words);
    for (size_t j = 0; j < n; j += NR) {
        size_t nr = n - j < NR ? n - j : NR;
        for (size_t v0 = 0; v0 < nvec; v0 += KC) {
            size_t v1 = nvec - v0 < KC ? nvec : v0 + KC;
            int first = v0 == 0, last = v1 == nvec;
            pack_panel(b + j * words, words, nr, v0, v1, full, tmask, panel);
            for (size_t i = 0; i < m; i++) {
                __m256i acc[NR];
                int32_t *ci = c + i * ldc + j;
                if (nr > NR_SMALL) {
                    tile_packed(a + i * words, panel, v0, v1, full, tmask, NR, acc);
                    finish_row(ci, nr, reduce8(acc), first, last, k);
                } else {
                    tile_packed(a + i * words, panel, v0, v1, full, tmask, NR_SMALL, acc);
                    __m256i pc = _mm256_castsi128_si256(reduce4(acc[0], acc[1], acc[2], acc[3]));
                    finish_row(ci, nr, pc, first, last, k);
                }
            }
        }
    }
}

static void bgemm_direct(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                         int32_t *c, size_t ldc, int32_t k)
{
    size_t nvec = (words + WORDS_PER_VEC - 1) / WORDS_PER_VEC, full = words / WORDS_PER_VEC;
    __m256i tmask = tail_mask(words);
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j += NR) {
            size_t nr = n - j < NR ? n - j : NR;
            const bnn_word *bp[NR];
            for (size_t r = 0; r < NR; r++)
                bp[r] = b + (j + (r < nr ? r : 0)) * words;
            __m256i total = _mm256_setzero_si256();
            for (size_t v0 = 0; v0 < nvec; v0 += KC) {
                size_t v1 = nvec - v0 < KC ? nvec : v0 + KC;
                __m256i acc[NR];
                tile_direct(a + i * words, bp, v0, v1, full, tmask, acc);
                total = _mm256_add_epi32(total, reduce8(acc));
            }
            finish_row(c + i * ldc + j, nr, total, 1, 1, k);
        }
    }
}

void bnn_bgemm_avx2(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                    int32_t *c, size_t ldc, int32_t k)
{
    if (words == 0) { /* k = 0: every dot product is empty */
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++)
                c[i * ldc + j] = k;
        return;
    }
    if (m <= DIRECT_MAX_M)
        bgemm_direct(m, n, words, a, b, c, ldc, k);
    else
        bgemm_packed(m, n, words, a, b, c, ldc, k);
}
