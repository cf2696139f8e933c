/* bgemm_panel_avx2.c - AVX2 binary GEMM on B as split panels (kernels.h):
 * word w of 16 B rows, already split into nibble planes, so that one row of
 * A meets 16 outputs per word with no split and no per-output reduction.
 *
 * The nibble-lookup popcount needs each byte split into its low and high
 * nibble (and, shift, and), and the split commutes with XOR. Here B is split
 * once, into the panel (twice its bits: a byte per nibble), and A once per
 * row and K chunk. A panel word is then, for 16 outputs, 4 vectors of low
 * nibbles and 4 of high (qword lane = output): against A's broadcast planes,
 * 2 xor + 2 vpshufb + 2 add per 4 outputs and 64 bits, the ALU ceiling's
 * form, and every byte counter belongs to one output, so a K chunk ends in a
 * vpsadbw per 4 outputs instead of bgemm_avx2.c's 19-op reduction per 8, and
 * K needs no whole vectors (576 bits are 9 words: no tail path).
 *
 * A layer's weights are split into panels once, at load
 * (bnn_panel_pack_avx2), as is a B given to bnn_prepare_b; bnn_bgemm_avx2
 * copies B as rows into a chunk of panel per call for more than a few rows
 * of A (bnn_bgemm_by_panels_avx2). */
#include "cpu/kernels/bgemm_avx2.h"
#include "cpu/kernels/kernels.h"

#define PW 16              /* B rows per panel group: 4 qword lanes x 4 vectors */
#define GROUP_WORDS (2 * PW) /* panel words per word of B: low plane, then high */
/* Words per K chunk: a byte counter gains <= 8 per word (<= 192), and two
 * groups' panel chunk (12 KiB) with 64 rows of A's chunk (12 KiB) stay in a
 * 32 KiB L1. K is cut into equal chunks (64 words: 22 + 22 + 20; equal_chunk). */
#define KW 24
#define ROW_KW 31  /* words one row of A takes in one chunk (counters <= 248) */
#define ROW_MAX_WORDS 256 /* K of one row of A split on the stack (4 KiB) */
#define LOW_NIBBLES 0x0f0f0f0f0f0f0f0full
#define C_PREFETCH_ROWS 8 /* rows of C fetched ahead of the pass that writes them */
typedef char bnn_assert_group_rows[(PW == BNN_PANEL_ROWS) ? 1 : -1];

/* Words [w0, w0 + nw) of B rows [r0, r0 + PW) (rows at or past n: 0) as
 * nw panel words at dst. 4 rows x 4 words at a time: a 4 x 4 transpose of
 * qwords (8 shuffles) and the split of the 4 word vectors (12 ops), about
 * 1.5 vector ops per word of B where one word at a time took 6 integer ops
 * and 2 stores (which bound 8 rows of A at long K). */
static void pack_chunk(const bnn_word *b, size_t n, size_t words, size_t r0, size_t w0,
                       size_t nw, bnn_word *dst)
{
    const __m256i low = _mm256_set1_epi8(0x0f);
    size_t w = 0;
    for (; w + 4 <= nw; w += 4)
        for (size_t q = 0; q < PW; q += 4) {
            __m256i r[4];
            for (size_t i = 0; i < 4; i++) {
                const bnn_word *row = b + (r0 + q + i) * words + w0 + w;
                r[i] = r0 + q + i < n ? _mm256_loadu_si256((const __m256i *)row)
                                      : _mm256_setzero_si256();
            }
            /* t0: words 0, 2 of rows 0, 1; t1: words 1, 3 of them; t2, t3: rows 2, 3 */
            __m256i t0 = _mm256_unpacklo_epi64(r[0], r[1]), t1 = _mm256_unpackhi_epi64(r[0], r[1]);
            __m256i t2 = _mm256_unpacklo_epi64(r[2], r[3]), t3 = _mm256_unpackhi_epi64(r[2], r[3]);
            __m256i col[4] = {_mm256_permute2x128_si256(t0, t2, 0x20),
                              _mm256_permute2x128_si256(t1, t3, 0x20),
                              _mm256_permute2x128_si256(t0, t2, 0x31),
                              _mm256_permute2x128_si256(t1, t3, 0x31)};
            for (int x = 0; x < 4; x++) {
                __m256i *o = (__m256i *)(dst + (w + x) * GROUP_WORDS + q);
                _mm256_storeu_si256(o, _mm256_and_si256(col[x], low));
                _mm256_storeu_si256(o + PW / 4,
                                    _mm256_and_si256(_mm256_srli_epi16(col[x], 4), low));
            }
        }
    for (; w < nw; w++)
        for (size_t r = 0; r < PW; r++) {
            bnn_word x = r0 + r < n ? b[(r0 + r) * words + w0 + w] : 0;
            dst[w * GROUP_WORDS + r] = x & LOW_NIBBLES;
            dst[w * GROUP_WORDS + PW + r] = (x >> 4) & LOW_NIBBLES;
        }
}

/* Where the panel group of columns j..j+PW-1 (j a multiple of PW) starts. */
static inline size_t group_at(size_t j, size_t words)
{
    return j / PW * words * GROUP_WORDS;
}

void bnn_panel_pack_avx2(const bnn_word *b, size_t n, size_t words, bnn_word *panel)
{
    for (size_t j = 0; j < n; j += PW)
        pack_chunk(b, n, words, j, 0, words, panel + group_at(j, words));
}

/* A row's words [0, nw) (nw <= KW) as nibble planes: lo[w], hi[w]. */
static inline void split_a(const bnn_word *a, size_t nw, bnn_word *lo, bnn_word *hi)
{
    const __m256i low = _mm256_set1_epi8(0x0f);
    size_t w = 0;
    for (; w + 4 <= nw; w += 4) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(a + w));
        _mm256_storeu_si256((__m256i *)(lo + w), _mm256_and_si256(x, low));
        _mm256_storeu_si256((__m256i *)(hi + w), _mm256_and_si256(_mm256_srli_epi16(x, 4), low));
    }
    for (; w < nw; w++) {
        lo[w] = a[w] & LOW_NIBBLES;
        hi[w] = (a[w] >> 4) & LOW_NIBBLES;
    }
}

/* Popcounts of (A XOR B) for the 16 outputs of each of ng (1 or 2) panel
 * groups over nw <= KW words: lo, hi are A's planes, p[g] group g's first
 * panel word. Dwords of out[2g] are group g's outputs 0-7, of out[2g + 1]
 * 8-15. Two groups share each broadcast of A (vpbroadcastq takes a shuffle
 * pipe, as the lookups do): 50 vector ops per word and 32 outputs. */
static BNN_ALWAYS_INLINE void group_counts(const bnn_word *lo, const bnn_word *hi,
                                           const __m256i *const *p, int ng, size_t nw,
                                           __m256i *out)
{
    const __m256i lut = nibble_lut();
    __m256i acc[8];
    for (int q = 0; q < 4 * ng; q++)
        acc[q] = _mm256_setzero_si256();
    for (size_t w = 0; w < nw; w++) {
        __m256i alo = _mm256_set1_epi64x((long long)lo[w]);
        __m256i ahi = _mm256_set1_epi64x((long long)hi[w]);
        for (int q = 0; q < 4 * ng; q++) {
            const __m256i *pw = p[q / 4] + w * (GROUP_WORDS / 4);
            /* each count goes into acc[q] in place (the empty asm): GCC
             * otherwise adds the two counts first and moves the sum back,
             * an extra instruction per 4 outputs in a loop that dispatch
             * (6 a cycle) nearly binds */
            __m256i lo_count = _mm256_shuffle_epi8(lut, _mm256_xor_si256(alo, pw[q % 4]));
            acc[q] = _mm256_add_epi8(acc[q], lo_count);
            __asm__("" : "+x"(acc[q]));
            __m256i hi_count = _mm256_shuffle_epi8(lut, _mm256_xor_si256(ahi, pw[4 + q % 4]));
            acc[q] = _mm256_add_epi8(acc[q], hi_count);
            __asm__("" : "+x"(acc[q]));
        }
    }
    /* qword lane l of acc[q] is output 4q + l: [o0 o1 | o2 o3] and [o4 o5 |
     * o6 o7] -> dwords [o0 o4 o1 o5 | o2 o6 o3 o7] -> in order */
    const __m256i zero = _mm256_setzero_si256(), order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    for (int h = 0; h < 2 * ng; h++) {
        __m256i d = _mm256_or_si256(_mm256_sad_epu8(acc[2 * h], zero),
                                    _mm256_slli_epi64(_mm256_sad_epu8(acc[2 * h + 1], zero), 32));
        out[h] = _mm256_permutevar8x32_epi32(d, order);
    }
}

/* Each pass over the rows of A writes (and after the first K chunk reads)
 * nr outputs of every C row, down a column strip: one to three lines per
 * row, each row a line set of its own when C's rows are 4 KiB apart. With C
 * larger than the caches each store would wait on its own miss (in-order
 * store commit); fetching the lines a few rows ahead overlaps those misses
 * with the counting. */
static inline void prefetch_c(const int32_t *c, size_t nr)
{
    for (size_t x = 0; x < nr; x += 16)
        _mm_prefetch((const char *)(c + x), _MM_HINT_T0);
    _mm_prefetch((const char *)(c + nr - 1), _MM_HINT_T0); /* the strip may cross a line */
}

/* The m rows of A against columns j..j+nr-1 (nr <= ng * PW: ng panel
 * groups). The groups come from the panel (all of it), or, where that is
 * NULL, from B's rows b, copied K chunk by K chunk into `chunk`.
 * Inlined with constant ng and, for whole groups, nr. */
static BNN_ALWAYS_INLINE void panel_groups(
    size_t m, size_t words, const bnn_word *a, const bnn_word *panel, const bnn_word *b,
    size_t n, __m256i *chunk, int32_t *c, size_t ldc, int32_t k, size_t j, int ng, size_t nr)
{
    bnn_word lo[KW], hi[KW];
    size_t chunk_words = equal_chunk(words, KW);
    for (size_t w0 = 0; w0 < words; w0 += chunk_words) {
        size_t nw = words - w0 < chunk_words ? words - w0 : chunk_words;
        const __m256i *p[2];
        for (int g = 0; g < ng; g++) {
            if (panel) {
                const bnn_word *group = panel + group_at(j + g * PW, words);
                p[g] = (const __m256i *)(group + w0 * GROUP_WORDS);
            } else {
                bnn_word *dst = (bnn_word *)(chunk + g * KW * (GROUP_WORDS / 4));
                pack_chunk(b, n, words, j + g * PW, w0, nw, dst);
                p[g] = (const __m256i *)dst;
            }
        }
        for (size_t i = 0; i < m && i < C_PREFETCH_ROWS; i++)
            prefetch_c(c + i * ldc + j, nr);
        for (size_t i = 0; i < m; i++) {
            __m256i pc[4];
            if (i + C_PREFETCH_ROWS < m)
                prefetch_c(c + (i + C_PREFETCH_ROWS) * ldc + j, nr);
            split_a(a + i * words + w0, nw, lo, hi);
            group_counts(lo, hi, p, ng, nw, pc);
            write_counts(c + i * ldc + j, nr, pc, 2 * ng, w0 == 0, w0 + nw == words, k);
        }
    }
}

/* Columns [0, n) of the panel (the layout kernels.h gives), or of B's rows. */
static void panel_bgemm(size_t m, size_t n, size_t words, const bnn_word *a,
                        const bnn_word *panel, const bnn_word *b, int32_t *c, size_t ldc,
                        int32_t k)
{
    __m256i chunk[2 * KW * GROUP_WORDS / 4];
    size_t j = 0;
    for (; j + 2 * PW <= n; j += 2 * PW)
        panel_groups(m, words, a, panel, b, n, chunk, c, ldc, k, j, 2, 2 * PW);
    if (j + PW <= n) {
        panel_groups(m, words, a, panel, b, n, chunk, c, ldc, k, j, 1, PW);
        j += PW;
    }
    if (j < n)
        panel_groups(m, words, a, panel, b, n, chunk, c, ldc, k, j, 1, n - j);
}

/* One row of A (A's planes lo, hi: all of its words) against columns
 * j..j+nr-1 (ng groups) of the panel. K goes by equal chunks of at most
 * ROW_KW words; `chunked` is a constant in each inlined copy, 0 where one
 * chunk holds all of K, so that copy has no loop around group_counts. */
static BNN_ALWAYS_INLINE void row_groups(size_t words, const bnn_word *lo, const bnn_word *hi,
                                         const bnn_word *panel, int32_t *c, int32_t k, size_t j,
                                         int ng, size_t nr, int chunked)
{
    const __m256i *p[2];
    for (int g = 0; g < ng; g++)
        p[g] = (const __m256i *)(panel + group_at(j + g * PW, words));
    __m256i pc[4];
    if (!chunked) {
        group_counts(lo, hi, p, ng, words, pc);
    } else {
        size_t step = equal_chunk(words, ROW_KW);
        for (int h = 0; h < 2 * ng; h++)
            pc[h] = _mm256_setzero_si256();
        for (size_t w0 = 0; w0 < words; w0 += step) {
            const __m256i *q[2];
            __m256i part[4];
            for (int g = 0; g < ng; g++)
                q[g] = p[g] + w0 * (GROUP_WORDS / 4);
            group_counts(lo + w0, hi + w0, q, ng, words - w0 < step ? words - w0 : step, part);
            for (int h = 0; h < 2 * ng; h++)
                pc[h] = _mm256_add_epi32(pc[h], part[h]);
        }
    }
    write_counts(c + j, nr, pc, 2 * ng, 1, 1, k);
}

/* One row of A against columns [0, n) of the panel. */
static BNN_ALWAYS_INLINE void row_span(size_t n, size_t words, const bnn_word *lo,
                                       const bnn_word *hi, const bnn_word *panel, int32_t *c,
                                       int32_t k, int chunked)
{
    size_t j = 0;
    for (; j + 2 * PW <= n; j += 2 * PW)
        row_groups(words, lo, hi, panel, c, k, j, 2, 2 * PW, chunked);
    if (j + PW <= n) {
        row_groups(words, lo, hi, panel, c, k, j, 1, PW, chunked);
        j += PW;
    }
    if (j < n)
        row_groups(words, lo, hi, panel, c, k, j, 1, n - j, chunked);
}

/* One row of A against columns [0, n): A split once for all of them. */
static void panel_row(size_t n, size_t words, const bnn_word *a, const bnn_word *panel,
                      int32_t *c, int32_t k)
{
    bnn_word lo[ROW_MAX_WORDS], hi[ROW_MAX_WORDS];
    split_a(a, words, lo, hi);
    if (words <= ROW_KW)
        row_span(n, words, lo, hi, panel, c, k, 0);
    else
        row_span(n, words, lo, hi, panel, c, k, 1);
}

/* One row of A (a batch-1 dense layer) runs on its own: A split once, no
 * row loop around its groups, and up to ROW_KW words no K chunk loop
 * either (Zen 3, [1,512,576]: 57 -> 70% of the ALU ceiling; for 2 and 3
 * rows, taking B in L1 blocks row by row gained nothing). */
void bnn_bgemm_panel_avx2(size_t m, size_t n, size_t words, const bnn_word *a,
                          const bnn_word *panel, int32_t *c, size_t ldc, int32_t k)
{
    if (m == 1 && words <= ROW_MAX_WORDS)
        panel_row(n, words, a, panel, c, k);
    else
        panel_bgemm(m, n, words, a, panel, NULL, c, ldc, k);
}

/* bnn_bgemm_avx2's product on B as rows: each K chunk of two groups is copied
 * into a panel chunk on the stack (pack_chunk: about 1.5 vector ops per word
 * of B) that all m rows of A then share. */
void bnn_bgemm_by_panels_avx2(size_t m, size_t n, size_t words, const bnn_word *a,
                              const bnn_word *b, int32_t *c, size_t ldc, int32_t k)
{
    panel_bgemm(m, n, words, a, NULL, b, c, ldc, k);
}
