/* bgemm_panel_avx512.c - AVX-512 binary GEMM on B as panels (kernels.h):
 * word w of 16 B rows in two vectors, so that MR rows of A meet each panel
 * vector through broadcast XORs. Every lane of an accumulator is one output,
 * so there is no reduction at all (the 1 x 8 tiles of bgemm_avx512.c pay 21
 * ops per 8 outputs for theirs, which dominates at short K, against 3 ops
 * per 512 MACs), and one panel load serves MR rows (a 1 x 8 tile loads a B
 * vector per popcount, which on cores with one 512-bit load per cycle binds
 * as tightly as the popcounts).
 *
 * A layer's weights are packed into panels once, at load
 * (bnn_panel_pack_avx512), as is a B given to bnn_prepare_b, and
 * bnn_bgemm_panel_avx512 runs any M on them: a single row of A then costs 2
 * loads and 2 x 3 ops per word of 16 outputs, and one broadcast per word of
 * 64; 4 rows or more meet two panel groups at once, 6 rows a tile
 * (panel_tile). B as rows is copied into panels per call (8 x 8
 * transposes) where that pays: bnn_bgemm_by_panels_avx512. */
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels/kernels.h"

#define NR 8            /* B rows per vector of a panel (one word each) */
#define WORDS_PER_VEC 8

/* When B is copied into panels for a product (bnn_bgemm_by_panels_avx512). The copy costs
 * about 10 ops per word of 16 columns, once; the 1 x NR path instead pays a
 * 21-op reduction per A row and 8 columns, whatever K. So with 16 rows of A
 * the copy always wins, and with 4-15 rows while K is at most about
 * PANEL_WORDS_PER_ROW words per row of A (Zen 4, medians of 5 interleaved
 * runs, 1 x NR path -> panels: [4,512,576] 298 -> 387 GMAC/s, [12,1024,576]
 * 340 -> 540; past the bound, [8,512,2304] 689 -> 649). With 2-3 rows the
 * panels run 1-row tiles and lose ([2,512,576] 252 -> 193). */
#define PANEL_MIN_M 16
#define PANEL_SHORT_MIN_M 4
#define PANEL_WORDS_PER_ROW 4
#define PANEL_MAX_WORDS 256 /* its panel (64 bytes a word per 8 rows) lives on the stack: 32 KiB */
#define MR 8                /* A rows per tile against one panel group */
#define MR2 6               /* A rows per tile against two (panel_tile) */
#define PREFETCH_MIN_TILES 8
#define PW (2 * NR)         /* B rows per panel: two vectors per word */
#define ROW_GROUPS 4        /* panel groups a single row of A meets at once */
typedef char bnn_assert_panel_rows[(PW == BNN_PANEL_ROWS) ? 1 : -1];

/* 8 x 8 words (rows r[0..7], 8 words each) transposed: out[w] = word w of
 * the 8 rows, stored at dst + w * stride. 24 shuffles for 64 words. */
static inline void transpose8(const __m512i *r, bnn_word *dst, size_t stride)
{
    __m512i t[8], u[8];
    for (int p = 0; p < 4; p++) { /* t[2p]: words 0,2,4,6 of rows 2p,2p+1; t[2p+1]: 1,3,5,7 */
        t[2 * p] = _mm512_unpacklo_epi64(r[2 * p], r[2 * p + 1]);
        t[2 * p + 1] = _mm512_unpackhi_epi64(r[2 * p], r[2 * p + 1]);
    }
    for (int h = 0; h < 2; h++) { /* h = 0: even words, 1: odd words */
        /* u[4h]: words (0,4)+h of rows 0-3, u[4h+1]: words (2,6)+h of rows 0-3; +2: rows 4-7 */
        u[4 * h] = _mm512_shuffle_i64x2(t[h], t[2 + h], 0x88);
        u[4 * h + 1] = _mm512_shuffle_i64x2(t[h], t[2 + h], 0xdd);
        u[4 * h + 2] = _mm512_shuffle_i64x2(t[4 + h], t[6 + h], 0x88);
        u[4 * h + 3] = _mm512_shuffle_i64x2(t[4 + h], t[6 + h], 0xdd);
        _mm512_storeu_si512(dst + (0 + h) * stride, _mm512_shuffle_i64x2(u[4 * h], u[4 * h + 2], 0x88));
        _mm512_storeu_si512(dst + (4 + h) * stride, _mm512_shuffle_i64x2(u[4 * h], u[4 * h + 2], 0xdd));
        _mm512_storeu_si512(dst + (2 + h) * stride, _mm512_shuffle_i64x2(u[4 * h + 1], u[4 * h + 3], 0x88));
        _mm512_storeu_si512(dst + (6 + h) * stride, _mm512_shuffle_i64x2(u[4 * h + 1], u[4 * h + 3], 0xdd));
    }
}

/* Word w of B rows 0..nr-1 (nr <= NR) in lane r of dst[w * PW ..]; lanes
 * past nr are 0. Whole blocks of 8 words by transposes, and the 1-7 words
 * left by one more on masked loads, through a buffer: vector stores all, so
 * the tile that reads the panel next finds whole vectors to forward (8
 * scalar stores per panel vector cannot be forwarded to its load). Inlined
 * with a constant nr = NR for whole panels, with no test per row. */
static inline __attribute__((always_inline)) void pack_rows(const bnn_word *b, size_t words,
                                                            size_t nr, bnn_word *dst)
{
    __m512i rows[NR];
    size_t w = 0;
    for (; w + WORDS_PER_VEC <= words; w += WORDS_PER_VEC) {
        for (size_t r = 0; r < NR; r++)
            rows[r] = r < nr ? _mm512_loadu_si512(b + r * words + w) : _mm512_setzero_si512();
        transpose8(rows, dst + w * PW, PW);
    }
    size_t rem = words - w;
    if (rem) {
        __mmask8 mask = (__mmask8)((1u << rem) - 1);
        bnn_word cols[WORDS_PER_VEC * NR] __attribute__((aligned(64)));
        for (size_t r = 0; r < NR; r++)
            rows[r] = r < nr ? _mm512_maskz_loadu_epi64(mask, b + r * words + w)
                             : _mm512_setzero_si512();
        transpose8(rows, cols, NR);
        for (size_t q = 0; q < rem; q++)
            _mm512_storeu_si512(dst + (w + q) * PW, _mm512_load_si512(cols + q * NR));
    }
}

/* Word w of B rows 0..nr-1 (nr <= PW) in lane r of panel[w * PW ..]; lanes
 * past nr are 0. */
static void pack_panel(const bnn_word *b, size_t words, size_t nr, bnn_word *panel)
{
    if (nr == PW) {
        pack_rows(b, words, NR, panel);
        pack_rows(b + NR * words, words, NR, panel + NR);
    } else if (nr > NR) {
        pack_rows(b, words, NR, panel);
        pack_rows(b + NR * words, words, nr - NR, panel + NR);
    } else {
        pack_rows(b, words, nr, panel);
        pack_rows(b, words, 0, panel + NR); /* zeros: reads no row */
    }
}

/* One row of C's PW columns from a panel's two accumulators (lane r of
 * acc0: column r, of acc1: column NR + r): k - 2 * popcount to the columns
 * in `lanes` (bit r = column r). */
static inline __attribute__((always_inline)) void store_counts(__m512i acc0, __m512i acc1,
                                                               __m512i kv, int32_t *c,
                                                               __mmask16 lanes)
{
    /* the low dwords of both accumulators' qwords (counts fit in 32 bits), in
     * one two-source permute: 3 fewer ops a row than two narrowing moves and
     * an insert, about 5% of a tile at K = 576 */
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    __m512i pc = _mm512_permutex2var_epi32(acc0, even, acc1);
    __m512i out = _mm512_sub_epi32(kv, _mm512_add_epi32(pc, pc));
    if (lanes == 0xffff) /* plain stores: masked ones are slow on some cores (Zen 4) */
        _mm512_storeu_si512(c, out);
    else
        _mm512_mask_storeu_epi32(c, lanes, out);
}

/* mr rows of A against ng whole-or-partial panel groups (the group g at
 * panel + g * words * PW; mr and ng constants after inlining): word w of
 * each group in two vectors, A's word broadcast once per row and word and
 * XORed with all 2 x ng of them; row i's popcounts in the lanes of
 * acc[i][..], then k - 2 * popcount to C (the last group's columns in
 * `lanes`, bit r = column r; the others whole). The shapes used:
 * - 1 x ROW_GROUPS (one row of A, 64 columns): 8 independent chains per
 *   broadcast, where a 1 x 1 tile has 2 and pays its loop and epilogue per
 *   16 columns: 1.4-1.7x its rate at M = 1 (K = 576 to 2304, Zen 4);
 * - MR2 x 2 (4 rows or more): each broadcast serves 4 XORs. On Zen 4 a
 *   512-bit broadcast takes a vector-pipe slot (llvm-mca -mcpu=znver4): 8 of
 *   them per 48 ops bound an MR x 1 tile at 92% of the ceiling, 6 per 72
 *   hold this one at 96%; 24 accumulators + 4 panel vectors + the broadcast
 *   fill 29 of the 32 registers. Measured (B prepared, medians of 7
 *   interleaved runs, GMAC/s, MR x 1 -> MR2 x 2): [64,1024,576] 1001 ->
 *   1054, [64,1024,4096] 1125 -> 1156, [256,4096,4096] 1020 -> 1047,
 *   [16,1024,2304] 1098 -> 1153;
 * - MR x 1 for the last group of 16 columns or fewer. */
static inline __attribute__((always_inline)) void panel_tile(
    const bnn_word *a, size_t words, const bnn_word *panel, int ng, int mr, int32_t *c,
    size_t ldc, __mmask16 lanes, int32_t k)
{
    __m512i acc[MR][2 * ROW_GROUPS];
#pragma GCC unroll 8
    for (int i = 0; i < mr; i++)
#pragma GCC unroll 8
        for (int v = 0; v < 2 * ng; v++)
            acc[i][v] = _mm512_setzero_si512();
    for (size_t w = 0; w < words; w++) {
        __m512i b[2 * ROW_GROUPS];
#pragma GCC unroll 8
        for (int g = 0; g < ng; g++) {
            b[2 * g] = _mm512_load_si512(panel + (g * words + w) * PW);
            b[2 * g + 1] = _mm512_load_si512(panel + (g * words + w) * PW + NR);
        }
#pragma GCC unroll 8
        for (int i = 0; i < mr; i++) {
            __m512i x = _mm512_set1_epi64((long long)a[i * words + w]);
#pragma GCC unroll 8
            for (int v = 0; v < 2 * ng; v++)
                acc[i][v] = _mm512_add_epi64(acc[i][v], _mm512_popcnt_epi64(_mm512_xor_si512(b[v], x)));
        }
    }
    const __m512i kv = _mm512_set1_epi32(k);
#pragma GCC unroll 8
    for (int i = 0; i < mr; i++)
#pragma GCC unroll 8
        for (int g = 0; g < ng; g++)
            store_counts(acc[i][2 * g], acc[i][2 * g + 1], kv, c + i * ldc + g * PW,
                         g == ng - 1 ? lanes : 0xffff);
}

/* All m rows of A against ng (1: nr <= PW columns, 2: two whole groups)
 * panel groups at c, in tiles of MR (ng = 1) or MR2 (ng = 2) rows; and the
 * next_lines cache lines at `next` (the B rows the caller packs next)
 * fetched into L2 a few per tile: B as rows larger than L2 otherwise comes
 * in by the packing's loads, one miss after another (perf, [256,4096,4096]:
 * the packing 8.7% of the time, 3.5% with this; 1023 -> 1080 GMAC/s, medians
 * of 7 interleaved runs). Only with PREFETCH_MIN_TILES tiles or more to
 * spread them over: in a burst they cost more than they save. */
static inline __attribute__((always_inline)) void panel_rows(
    int ng, size_t m, size_t nr, size_t words, const bnn_word *a, const bnn_word *panel,
    int32_t *c, size_t ldc, int32_t k, const char *next, size_t next_lines)
{
    const int rows = ng == 1 ? MR : MR2;
    __mmask16 lanes = (__mmask16)((1u << nr) - 1);
    size_t i = 0, tiles = m / rows, line = 0;
    size_t per_tile = tiles >= PREFETCH_MIN_TILES ? (next_lines + tiles - 1) / tiles : 0;
    for (; i + rows <= m; i += rows) {
        for (size_t q = 0; q < per_tile && line < next_lines; q++, line++)
            _mm_prefetch(next + line * 64, _MM_HINT_T1);
        panel_tile(a + i * words, words, panel, ng, rows, c + i * ldc, ldc, lanes, k);
    }
    a += i * words;
    c += i * ldc;
    switch (m - i) { /* constant row counts, so each tile is unrolled */
    case 7: /* 6 and 7 rows remain only of MR-row tiles (ng = 1) */
        if (ng == 1)
            panel_tile(a, words, panel, 1, 7, c, ldc, lanes, k);
        break;
    case 6:
        if (ng == 1)
            panel_tile(a, words, panel, 1, 6, c, ldc, lanes, k);
        break;
    case 5: panel_tile(a, words, panel, ng, 5, c, ldc, lanes, k); break;
    case 4: panel_tile(a, words, panel, ng, 4, c, ldc, lanes, k); break;
    case 3: panel_tile(a, words, panel, ng, 3, c, ldc, lanes, k); break;
    case 2: panel_tile(a, words, panel, ng, 2, c, ldc, lanes, k); break;
    case 1: panel_tile(a, words, panel, ng, 1, c, ldc, lanes, k); break;
    }
}

void bnn_panel_pack_avx512(const bnn_word *b, size_t n, size_t words, bnn_word *panel)
{
    for (size_t j = 0; j < n; j += PW)
        pack_panel(b + j * words, words, n - j < PW ? n - j : PW, panel + j * words);
}

void bnn_bgemm_panel_avx512(size_t m, size_t n, size_t words, const bnn_word *a,
                            const bnn_word *panel, int32_t *c, size_t ldc, int32_t k)
{
    size_t j = 0;
    /* up to 3 rows (batch-1 dense layers): each row on its own, ROW_GROUPS
     * panel groups at a time */
    if (m < 4)
        for (; j + ROW_GROUPS * PW <= n; j += ROW_GROUPS * PW)
            for (size_t i = 0; i < m; i++)
                panel_tile(a + i * words, words, panel + j * words, ROW_GROUPS, 1,
                           c + i * ldc + j, ldc, 0xffff, k);
    else
        for (; j + 2 * PW <= n; j += 2 * PW)
            panel_rows(2, m, PW, words, a, panel + j * words, c + j, ldc, k, NULL, 0);
    for (; j < n; j += PW)
        panel_rows(1, m, n - j < PW ? n - j : PW, words, a, panel + j * words, c + j, ldc, k,
                   NULL, 0);
}

/* B as it comes: each group of PW rows packed on the stack, then used, when
 * that pays (see PANEL_MIN_M); returns whether it ran the product. */
int bnn_bgemm_by_panels_avx512(size_t m, size_t n, size_t words, const bnn_word *a,
                               const bnn_word *b, int32_t *c, size_t ldc, int32_t k)
{
    if (words == 0 || words > PANEL_MAX_WORDS || /* K <= 16384 */
        (m < PANEL_MIN_M && (m < PANEL_SHORT_MIN_M || words > PANEL_WORDS_PER_ROW * m)))
        return 0;
    bnn_word panel[PANEL_MAX_WORDS * PW] __attribute__((aligned(64)));
    size_t j = 0;
    if (2 * words <= PANEL_MAX_WORDS) /* two panels fit the buffer: 32 columns a tile */
        for (; j + 2 * PW <= n; j += 2 * PW) {
            pack_panel(b + j * words, words, PW, panel);
            pack_panel(b + (j + PW) * words, words, PW, panel + words * PW);
            size_t next = j + 2 * PW < n ? (n - j - 2 * PW < 2 * PW ? n - j - 2 * PW : 2 * PW) : 0;
            panel_rows(2, m, PW, words, a, panel, c + j, ldc, k,
                       (const char *)(b + (j + 2 * PW) * words), next * words * sizeof(bnn_word) / 64);
        }
    for (; j < n; j += PW) {
        size_t nr = n - j < PW ? n - j : PW;
        pack_panel(b + j * words, words, nr, panel);
        panel_rows(1, m, nr, words, a, panel, c + j, ldc, k, NULL, 0);
    }
    return 1;
}
