/* bgemm_avx2.c - AVX2 binary GEMM: C[i][j] = k - 2 popcount(A_i XOR B_j).
 *
 * Popcount is the nibble lookup: vpshufb maps each 4-bit nibble to its bit
 * count, byte counters add up a K chunk, vpsadbw widens them once per output.
 *
 * The nibble split commutes with XOR: (a ^ b) & 0x0f == (a & 0x0f) ^ (b & 0x0f),
 * and likewise for the high nibble. So the split (and, shift, and) is done once
 * per loaded vector instead of once per output: NR rows of B are copied into a
 * panel already split into low and high nibble planes, and each A vector is
 * split once and used against all NR rows. Per output and 256 bits that leaves
 * 2 xor + 2 vpshufb + 2 add instead of 8 ops.
 *
 * Loops, outer to inner: NR-row panels of B, K chunks of at most KC vectors
 * (the panel stays in L1 and byte counters cannot overflow), rows of A, the
 * 1 x NR micro-tile. Between chunks partial popcounts live in C itself.
 *
 * The 1-3 words past the last whole vector of a row (K = 576 is 2 vectors and
 * 1 word) are counted 4 outputs per vector step, from transposed tail planes,
 * where many rows of A share them; for one or a few rows, by scalar popcnt.
 *
 * With up to DIRECT_MAX_M rows of A the panel copy (about 7 ops per B
 * vector) would cost more than it saves (2 ops per output and vector, per
 * row of A), so those rows run a direct 1 x NR tile that reads B rows in place
 * and splits every XOR result (the textbook 8-op form). */
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels/kernels.h"

#define NR 8           /* B rows per micro-tile (and per panel) */
#define NR_SMALL 4     /* tile for the last 1-4 rows of B, so a thin edge wastes less */
#define KC 16          /* vectors per K chunk: byte counters stay <= 16 * 8 = 128 */
#define DIRECT_MAX_M 4 /* up to this many A rows, skip the panel copy */
#define WORDS_PER_VEC 4
#define PREFETCH_AHEAD 4096 /* bytes of B the direct path fetches ahead */
#define C_PREFETCH_ROWS 8   /* rows of C fetched ahead of the tile that writes them */

static inline __m256i nibble_lut(void)
{
    return _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
}

/* vpsadbw, then two unsigned-saturating packs (the sums are < 2^16) and a
 * multiply-add by 1 turn 4 accumulators of 32 byte counters into, per 128-bit
 * lane, the 4 outputs' partial sums: 8 ops for 4 outputs. */
static inline __m256i reduce4_lanes(__m256i a0, __m256i a1, __m256i a2, __m256i a3)
{
    const __m256i zero = _mm256_setzero_si256();
    __m256i p01 = _mm256_packus_epi32(_mm256_sad_epu8(a0, zero), _mm256_sad_epu8(a1, zero));
    __m256i p23 = _mm256_packus_epi32(_mm256_sad_epu8(a2, zero), _mm256_sad_epu8(a3, zero));
    /* 16-bit words per lane: a0 q0 q1, a1 q0 q1, a2 q0 q1, a3 q0 q1 (q = qword partial) */
    return _mm256_madd_epi16(_mm256_packus_epi32(p01, p23), _mm256_set1_epi16(1));
}

/* Totals of 4 accumulators in the 4 dwords of the low lane. */
static inline __m256i reduce4(const __m256i *acc)
{
    __m256i u = reduce4_lanes(acc[0], acc[1], acc[2], acc[3]);
    return _mm256_castsi128_si256(
        _mm_add_epi32(_mm256_castsi256_si128(u), _mm256_extracti128_si256(u, 1)));
}

/* Totals of 8 accumulators in the 8 dwords of one vector. */
static inline __m256i reduce8(const __m256i *acc)
{
    __m256i u0 = reduce4_lanes(acc[0], acc[1], acc[2], acc[3]);
    __m256i u1 = reduce4_lanes(acc[4], acc[5], acc[6], acc[7]);
    /* low lane: outputs 0-3 from both lanes of u0; high lane: 4-7 from u1 */
    return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20),
                            _mm256_permute2x128_si256(u0, u1, 0x31));
}

/* Tail planes: the rem (< 4) words past a row's last whole vector, for NR B
 * rows, transposed so that one vector holds word w of 4 rows (rows 4h..4h+3 in
 * tp[4w + 2h], low nibbles, and tp[4w + 2h + 1], high). Against a broadcast A
 * word, one vector step then counts 4 outputs' tails (qword lane = output),
 * where a masked step would use 1 lane of 4. bt[r] points at row r's tail. */
static void pack_tail(const bnn_word *const *bt, size_t rem, __m256i *tp)
{
    const __m256i low = _mm256_set1_epi8(0x0f);
    for (size_t w = 0; w < rem; w++)
        for (int h = 0; h < 2; h++) {
            __m256i x = _mm256_setr_epi64x((long long)bt[4 * h][w], (long long)bt[4 * h + 1][w],
                                           (long long)bt[4 * h + 2][w], (long long)bt[4 * h + 3][w]);
            tp[4 * w + 2 * h] = _mm256_and_si256(x, low);
            tp[4 * w + 2 * h + 1] = _mm256_and_si256(_mm256_srli_epi16(x, 4), low);
        }
}

/* Popcounts of one A row's tail words against the tail planes, as the dwords
 * of outputs 0..nr_tile-1 (nr_tile NR or NR_SMALL). */
static inline __m256i tail_counts(const bnn_word *at, const __m256i *tp, size_t rem, int nr_tile)
{
    const __m256i lut = nibble_lut(), low = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
    __m256i t0 = zero, t1 = zero; /* rows 0-3 and 4-7, one per qword lane */
    for (size_t w = 0; w < rem; w++) {
        __m256i x = _mm256_set1_epi64x((long long)at[w]);
        __m256i xlo = _mm256_and_si256(x, low), xhi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low);
        const __m256i *p = tp + 4 * w;
        t0 = _mm256_add_epi8(t0, _mm256_shuffle_epi8(lut, _mm256_xor_si256(xlo, p[0])));
        t0 = _mm256_add_epi8(t0, _mm256_shuffle_epi8(lut, _mm256_xor_si256(xhi, p[1])));
        if (nr_tile == NR) {
            t1 = _mm256_add_epi8(t1, _mm256_shuffle_epi8(lut, _mm256_xor_si256(xlo, p[2])));
            t1 = _mm256_add_epi8(t1, _mm256_shuffle_epi8(lut, _mm256_xor_si256(xhi, p[3])));
        }
    }
    /* qwords [o0 o1 | o2 o3] and [o4 o5 | o6 o7] -> dwords [o0 o4 o1 o5 | o2 o6 o3 o7] -> in order */
    __m256i d = _mm256_or_si256(_mm256_sad_epu8(t0, zero), _mm256_slli_epi64(_mm256_sad_epu8(t1, zero), 32));
    return _mm256_permutevar8x32_epi32(d, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
}

/* The tail's share of a finished row of C, by scalar popcnt: c[r] loses 2
 * per bit that differs in the rem < 4 tail words of A (at) and of B row r
 * (bt[r]). For the direct path (up to DIRECT_MAX_M rows of A), where
 * transposed tail planes serve too few rows to pay for themselves: this runs
 * on the integer pipes, which the vector tiles leave idle (llvm-mca
 * -mcpu=znver3, K = 576: 50 -> 44 cycles per group of 8 outputs). rem is a
 * constant in each copy (see below). The tail pointers are a second array
 * rather than bp[r] + tail: derived, llvm-mca gave 47 cycles and timings
 * 4-7% less. */
static inline __attribute__((always_inline)) void subtract_tails_n(
    int32_t *c, size_t nr, const bnn_word *at, const bnn_word *const *bt, size_t rem)
{
    for (size_t r = 0; r < nr; r++) {
        int32_t s = 0;
        for (size_t w = 0; w < rem; w++)
            s += __builtin_popcountll(at[w] ^ bt[r][w]);
        c[r] -= 2 * s;
    }
}

static inline __attribute__((always_inline)) void subtract_tails(
    int32_t *c, size_t nr, const bnn_word *at, const bnn_word *const *bt, size_t rem)
{
    switch (rem) { /* a copy per tail length, so that its loops unroll */
    case 1: subtract_tails_n(c, nr, at, bt, 1); break;
    case 2: subtract_tails_n(c, nr, at, bt, 2); break;
    case 3: subtract_tails_n(c, nr, at, bt, 3); break;
    default: break;
    }
}

/* Copy rows [0, nr) of B, whole vectors [v0, v1), into the panel as nibble
 * planes: panel[2 * (v * NR + r)] low nibbles, [.. + 1] high. Rows past nr are 0. */
static void pack_panel(const bnn_word *b, size_t words, size_t nr, size_t v0, size_t v1,
                       __m256i *panel)
{
    const __m256i low = _mm256_set1_epi8(0x0f);
    for (size_t v = v0; v < v1; v++) {
        __m256i *p = panel + 2 * (v - v0) * NR;
        for (size_t r = 0; r < NR; r++) {
            __m256i x = _mm256_setzero_si256();
            if (r < nr)
                x = _mm256_loadu_si256((const __m256i *)(b + r * words + v * WORDS_PER_VEC));
            p[2 * r] = _mm256_and_si256(x, low);
            p[2 * r + 1] = _mm256_and_si256(_mm256_srli_epi16(x, 4), low);
        }
    }
}

/* One A row against a panel of nr_tile (NR or NR_SMALL) B rows over whole
 * vectors [v0, v1). Inlined with a constant nr_tile so the accumulators stay
 * in registers (8 accumulators + 2 A planes + 2 constants + 2 temporaries). */
static inline __attribute__((always_inline)) void tile_packed(
    const bnn_word *a, const __m256i *panel, size_t v0, size_t v1, int nr_tile, __m256i *acc)
{
    const __m256i lut = nibble_lut(), low = _mm256_set1_epi8(0x0f);
#pragma GCC unroll 8
    for (int r = 0; r < nr_tile; r++)
        acc[r] = _mm256_setzero_si256();
    for (size_t v = v0; v < v1; v++) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(a + v * WORDS_PER_VEC));
        __m256i alo = _mm256_and_si256(x, low);
        __m256i ahi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low);
        const __m256i *p = panel + 2 * (v - v0) * NR;
#pragma GCC unroll 8
        for (int r = 0; r < nr_tile; r++) {
            acc[r] = _mm256_add_epi8(acc[r], _mm256_shuffle_epi8(lut, _mm256_xor_si256(alo, p[2 * r])));
            acc[r] = _mm256_add_epi8(acc[r], _mm256_shuffle_epi8(lut, _mm256_xor_si256(ahi, p[2 * r + 1])));
            /* An empty asm that "changes" acc[r] ends each output's update
             * before the next one's: GCC 12 otherwise hoists all 16 XORs
             * first, runs out of the 16 ymm registers and keeps 4
             * accumulators on the stack (a load and a store each per step). */
            __asm__("" : "+x"(acc[r]));
        }
    }
}

/* One A row against NR B rows read in place over whole vectors [v0, v1);
 * bp[r] points at B row r. Step v also prefetches lines 4v..4v+3 of `next`
 * (NULL: none), 4 lines per step being words / (words / 4). */
static inline __attribute__((always_inline)) void tile_direct(
    const bnn_word *a, const bnn_word *const *bp, size_t v0, size_t v1, const char *next,
    __m256i *acc)
{
    const __m256i lut = nibble_lut(), low = _mm256_set1_epi8(0x0f);
#pragma GCC unroll 8
    for (int r = 0; r < NR; r++)
        acc[r] = _mm256_setzero_si256();
    for (size_t v = v0; v < v1; v++) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(a + v * WORDS_PER_VEC));
        if (next)
            for (int q = 0; q < 4; q++)
                _mm_prefetch(next + (4 * v + q) * 64, _MM_HINT_T0);
#pragma GCC unroll 8
        for (int r = 0; r < NR; r++) {
            __m256i y = _mm256_xor_si256(
                x, _mm256_loadu_si256((const __m256i *)(bp[r] + v * WORDS_PER_VEC)));
            acc[r] = _mm256_add_epi8(acc[r], _mm256_shuffle_epi8(lut, _mm256_and_si256(y, low)));
            acc[r] = _mm256_add_epi8(
                acc[r], _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(y, 4), low)));
            __asm__("" : "+x"(acc[r])); /* as in tile_packed */
        }
    }
}

/* Write nr outputs of one C row from popcounts `pc`: the first K chunk stores,
 * later ones add to the partial counts in C, the last turns the total into
 * k - 2 * popcount. */
static inline void write_row(int32_t *c, size_t nr, __m256i pc, int first, int last, int32_t k)
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

/* A tile writes 8 outputs of one C row, and the next tile the next row, so
 * C is written down a column strip, one line per row: with C larger than the
 * caches each store would wait on its own miss (in-order store commit), which
 * costs up to half the speed at K = 1024. Fetching the lines a few rows ahead
 * overlaps those misses with the counting. */
static inline void prefetch_c(const int32_t *c, size_t nr)
{
    _mm_prefetch((const char *)c, _MM_HINT_T0);
    _mm_prefetch((const char *)(c + nr - 1), _MM_HINT_T0); /* the strip may cross a line */
}

/* Pointers to B rows j..j+NR-1 at word offset `off`; rows past nr repeat row
 * j (real memory; their results are dropped). */
static inline void row_pointers(const bnn_word *b, size_t words, size_t nr, size_t off,
                                const bnn_word **bp)
{
    for (size_t r = 0; r < NR; r++)
        bp[r] = b + (r < nr ? r : 0) * words + off;
}

/* B rows j..j+nr-1 (a panel) against the m rows of A. Inlined with nr = NR
 * for whole panels, as direct_group below: with nr variable GCC merged the
 * 8- and 4-row tiles into one loop that zeroed accumulators through the
 * stack (at K = 576, 236 -> 173 instructions per row of A and panel;
 * llvm-mca -mcpu=znver3: 54 -> 47 cycles). */
static inline __attribute__((always_inline)) void packed_group(
    size_t m, size_t words, const bnn_word *a, const bnn_word *b, int32_t *c, size_t ldc,
    int32_t k, size_t j, size_t nr, __m256i *panel, __m256i *tail_planes)
{
    size_t full = words / WORDS_PER_VEC, rem = words % WORDS_PER_VEC, tail = full * WORDS_PER_VEC;
    int nr_tile = nr > NR_SMALL ? NR : NR_SMALL;
    const bnn_word *bt[NR];
    row_pointers(b + j * words, words, nr, tail, bt);
    pack_tail(bt, rem, tail_planes);
    /* K chunks over the whole vectors; the last one (possibly empty, when
     * words < 4) also counts the tail words */
    for (size_t v0 = 0;; v0 += KC) {
        size_t v1 = full - v0 < KC ? full : v0 + KC;
        int first = v0 == 0, last = v1 == full;
        pack_panel(b + j * words, words, nr, v0, v1, panel);
        for (size_t i = 0; i < m && i < C_PREFETCH_ROWS; i++)
            prefetch_c(c + i * ldc + j, nr);
        for (size_t i = 0; i < m; i++) {
            const bnn_word *ai = a + i * words;
            if (i + C_PREFETCH_ROWS < m)
                prefetch_c(c + (i + C_PREFETCH_ROWS) * ldc + j, nr);
            __m256i acc[NR], pc = _mm256_setzero_si256();
            if (v1 > v0) {
                if (nr_tile == NR) {
                    tile_packed(ai, panel, v0, v1, NR, acc);
                    pc = reduce8(acc);
                } else {
                    tile_packed(ai, panel, v0, v1, NR_SMALL, acc);
                    pc = reduce4(acc);
                }
            }
            if (last && rem)
                pc = _mm256_add_epi32(pc, tail_counts(ai + tail, tail_planes, rem, nr_tile));
            write_row(c + i * ldc + j, nr, pc, first, last, k);
        }
        if (last)
            break;
    }
}

static void bgemm_packed(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                         int32_t *c, size_t ldc, int32_t k)
{
    __m256i panel[2 * KC * NR], tail_planes[4 * (WORDS_PER_VEC - 1)];
    size_t j = 0;
    for (; j + NR <= n; j += NR)
        packed_group(m, words, a, b, c, ldc, k, j, NR, panel, tail_planes);
    if (j < n)
        packed_group(m, words, a, b, c, ldc, k, j, n - j, panel, tail_planes);
}

/* B rows j..j+nr-1 (a group) against the m rows of A, B read in place.
 * Inlined with nr = NR for whole groups, so the row pointers are constant
 * offsets and C is written with one store: with a variable nr, GCC built
 * the pointers with compare-and-move chains and kept them on the stack, and
 * at K = 576 a group's setup was a third of its instructions (258 -> 203 per
 * group of 8 outputs; llvm-mca -mcpu=znver3: 57 -> 50 cycles). */
static inline __attribute__((always_inline)) void direct_group(
    size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b, int32_t *c,
    size_t ldc, int32_t k, size_t j, size_t nr)
{
    size_t full = words / WORDS_PER_VEC, rem = words % WORDS_PER_VEC, tail = full * WORDS_PER_VEC;
    const bnn_word *bp[NR], *bt[NR];
    row_pointers(b + j * words, words, nr, 0, bp);
    row_pointers(b + j * words, words, nr, tail, bt);
    /* The first A row reads these NR rows of B from memory: it also
     * fetches ahead, PREFETCH_AHEAD bytes past them, as many lines
     * (`words`: NR * words * 8 bytes) as they hold, so the stream crosses
     * 4 KiB pages without waiting (hardware prefetchers stop at page
     * ends; NR rows are 4 KiB at K = 4096). */
    size_t ahead = j * words * sizeof(bnn_word) + PREFETCH_AHEAD;
    const char *next = ahead + NR * words * sizeof(bnn_word) <= n * words * sizeof(bnn_word)
                           ? (const char *)b + ahead
                           : NULL;
    for (size_t i = 0; i < m; i++) {
        const bnn_word *ai = a + i * words;
        __m256i pc = _mm256_setzero_si256();
        for (size_t v0 = 0; v0 < full; v0 += KC) {
            size_t v1 = full - v0 < KC ? full : v0 + KC;
            __m256i acc[NR];
            tile_direct(ai, bp, v0, v1, i == 0 ? next : NULL, acc);
            pc = _mm256_add_epi32(pc, reduce8(acc));
        }
        write_row(c + i * ldc + j, nr, pc, 1, 1, k);
        subtract_tails(c + i * ldc + j, nr, ai + tail, bt, rem);
    }
}

static void bgemm_direct(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                         int32_t *c, size_t ldc, int32_t k)
{
    size_t j = 0;
    for (; j + NR <= n; j += NR)
        direct_group(m, n, words, a, b, c, ldc, k, j, NR);
    if (j < n)
        direct_group(m, n, words, a, b, c, ldc, k, j, n - j);
}

void bnn_bgemm_avx2(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                    int32_t *c, size_t ldc, int32_t k)
{
    if (m <= DIRECT_MAX_M)
        bgemm_direct(m, n, words, a, b, c, ldc, k);
    else
        bgemm_packed(m, n, words, a, b, c, ldc, k);
}
