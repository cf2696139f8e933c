/* bgemm_avx512.c - AVX-512 binary GEMM (VPOPCNTDQ, VBMI) on B as rows:
 * C[i][j] = k - 2 popcount(A_i XOR B_j).
 *
 * The loop nest and the 1 x NR micro-tile of bgemm_avx2.c, with vpopcntq doing
 * the counting: per output and 512 bits, xor + popcount + add into 64-bit
 * counters (which cannot overflow, so K chunks only serve the cache).
 *
 * B rows are read in place: the AVX2 kernel copies B into a panel to hoist its
 * nibble split out of the tile, and there is no split here. K is still cut into
 * chunks of KC vectors, so that the NR rows of B a tile reads (8 x 1 KiB) stay
 * in L1 while every A row of the block passes over them; between chunks the
 * partial popcounts live in C itself.
 *
 * The 1-7 words past a row's last whole vector (K = 576 is 1 vector + 1 word)
 * are counted from transposed tail vectors: word w of NR B rows in one vector,
 * XORed with A's word w broadcast, gives NR outputs' tail counts in one step,
 * already in output order, where a masked step would use 1 lane of 8.
 *
 * With 16 rows of A or more (4-15 at short K) the product runs on B copied
 * into panels instead (bgemm_panel_avx512.c), where no output needs a
 * reduction. 1-3 rows go row by row (one_row: B straight through, a masked
 * tail), at short K with counts narrowed to bytes (one_row_short). */
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels/kernels.h"

#define NR 8           /* B rows per micro-tile */
#define NR_SMALL 4     /* tile for the last 1-4 rows of B, so a thin edge wastes less */
#define KC 16          /* 512-bit vectors per K chunk */
#define WORDS_PER_VEC 8
#define C_PREFETCH_ROWS 8   /* rows of C fetched ahead of the tile that writes them */
#define PREFETCH_AHEAD 4096 /* bytes of B the first A row fetches ahead */
#define ONE_ROW_AHEAD 2     /* groups of NR B rows one_row fetches ahead */
#define ONE_ROW_PREFETCH_MIN (64 * 1024) /* B bytes past any L1 (32-48 KiB) */

/* Totals of 8 accumulators of 8 qwords: qword r of the result = sum of acc[r].
 * Adjacent pairs are folded with unpack (per 128-bit lane), then lanes with
 * two rounds of shuffle_i64x2: 21 ops for 8 outputs. */
static inline __m512i reduce8(const __m512i *acc)
{
    __m512i t[4];
    for (int p = 0; p < 4; p++) /* lane L of t[p]: partial sums of outputs 2p, 2p+1 */
        t[p] = _mm512_add_epi64(_mm512_unpacklo_epi64(acc[2 * p], acc[2 * p + 1]),
                                _mm512_unpackhi_epi64(acc[2 * p], acc[2 * p + 1]));
    /* lanes of v0: (o0,o1) half, (o0,o1) other half, (o2,o3) half, (o2,o3) other half */
    __m512i v0 = _mm512_add_epi64(_mm512_shuffle_i64x2(t[0], t[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                  _mm512_shuffle_i64x2(t[0], t[1], _MM_SHUFFLE(3, 1, 3, 1)));
    __m512i v1 = _mm512_add_epi64(_mm512_shuffle_i64x2(t[2], t[3], _MM_SHUFFLE(2, 0, 2, 0)),
                                  _mm512_shuffle_i64x2(t[2], t[3], _MM_SHUFFLE(3, 1, 3, 1)));
    /* lanes: (o0,o1), (o2,o3), (o4,o5), (o6,o7) */
    return _mm512_add_epi64(_mm512_shuffle_i64x2(v0, v1, _MM_SHUFFLE(2, 0, 2, 0)),
                            _mm512_shuffle_i64x2(v0, v1, _MM_SHUFFLE(3, 1, 3, 1)));
}

/* Tail vectors: tp[w] holds word w of the rem words past the last whole
 * vector, of B rows 0..NR-1 (qword r = row r). bt[r] points at row r's tail. */
static void pack_tail(const bnn_word *const *bt, size_t rem, __m512i *tp)
{
    for (size_t w = 0; w < rem; w++) {
        bnn_word col[NR];
        for (int r = 0; r < NR; r++)
            col[r] = bt[r][w];
        tp[w] = _mm512_loadu_si512(col);
    }
}

/* Tail popcounts of one A row: qword r = output r. */
static inline __m512i tail_counts(const bnn_word *at, const __m512i *tp, size_t rem)
{
    __m512i t = _mm512_setzero_si512();
    for (size_t w = 0; w < rem; w++)
        t = _mm512_add_epi64(t, _mm512_popcnt_epi64(_mm512_xor_si512(
                                    _mm512_set1_epi64((long long)at[w]), tp[w])));
    return t;
}

/* One A row against nr_tile (NR or NR_SMALL) B rows over whole vectors
 * [v0, v1); bp[r] points at B row r. Inlined with a constant nr_tile so the
 * accumulators stay in registers; those past nr_tile are 0. Step v also
 * prefetches lines 8v..8v+7 of `next` (NULL: none), 8 lines per step being
 * words / (words / 8). */
static inline __attribute__((always_inline)) void tile(
    const bnn_word *a, const bnn_word *const *bp, size_t v0, size_t v1, const char *next,
    int nr_tile, __m512i *acc)
{
#pragma GCC unroll 8
    for (int r = 0; r < NR; r++)
        acc[r] = _mm512_setzero_si512();
    for (size_t v = v0; v < v1; v++) {
        __m512i x = _mm512_loadu_si512(a + v * WORDS_PER_VEC);
        if (next)
            for (int q = 0; q < 8; q++)
                _mm_prefetch(next + (8 * v + q) * 64, _MM_HINT_T0);
#pragma GCC unroll 8
        for (int r = 0; r < nr_tile; r++)
            acc[r] = _mm512_add_epi64(acc[r], _mm512_popcnt_epi64(_mm512_xor_si512(
                                                  x, _mm512_loadu_si512(bp[r] + v * WORDS_PER_VEC))));
    }
}

/* Write nr outputs of one C row from 64-bit popcounts `pc`: the first K chunk
 * stores, later ones add to the partial counts in C, the last turns the total
 * into k - 2 * popcount. Counts fit in int32 (k <= INT32_MAX / 2). */
static inline void write_row(int32_t *c, size_t nr, __m512i pc, int first, int last, int32_t k)
{
    int32_t tmp[NR] = {0};
    __m256i out = _mm512_cvtepi64_epi32(pc);
    if (!first) {
        memcpy(tmp, c, nr * sizeof(int32_t));
        out = _mm256_add_epi32(out, _mm256_loadu_si256((const __m256i *)tmp));
    }
    if (last)
        out = _mm256_sub_epi32(_mm256_set1_epi32(k), _mm256_slli_epi32(out, 1));
    if (nr == NR) {
        _mm256_storeu_si256((__m256i *)c, out);
    } else {
        _mm256_storeu_si256((__m256i *)tmp, out);
        memcpy(c, tmp, nr * sizeof(int32_t));
    }
}

/* C is written down a column strip, one line per row: fetching the lines a
 * few rows ahead overlaps their misses with the counting (see bgemm_avx2.c). */
static inline void prefetch_c(const int32_t *c, size_t nr)
{
    _mm_prefetch((const char *)c, _MM_HINT_T0);
    _mm_prefetch((const char *)(c + nr - 1), _MM_HINT_T0); /* the strip may cross a line */
}

/* Pointers to B rows 0..NR-1 at word offset `off`; rows past nr repeat row 0
 * (real memory; their results are dropped). */
static inline void row_pointers(const bnn_word *b, size_t words, size_t nr, size_t off,
                                const bnn_word **bp)
{
    for (size_t r = 0; r < NR; r++)
        bp[r] = b + (r < nr ? r : 0) * words + off;
}

/* One row of A at short K (1-2 whole vectors, 8-23 words: K = 512..1472):
 * the reduction of 8 accumulators (21 ops for 8 outputs) is most of the
 * work there, so the counts go narrow. A lane's count from the whole
 * vectors is at most 2 x 64 (+ 64 from a masked tail vector) < 256: the 8
 * rows' counts are packed as the bytes of one vector (row r in byte r of
 * each qword: a shift and an or per row), vpermb transposes them (qword r:
 * row r's 8 lane counts) and one vpsadbw adds each row's 8: 17 ops for 8
 * outputs in all. Against the 21-op reduction (Zen 4, 1 thread):
 * [1,512,576] 285 -> 425, [1,4096,1024] 520 -> 665, [1,512,1152] 430 ->
 * 490-590 GMAC/s.
 *
 * The 1-3 words past the whole vectors (K = 576, 640, 1152, ...) are
 * counted by scalar popcounts, on ports the 512-bit ops leave idle, packed
 * as the bytes of one word (at most 3 x 64) and added once per group after
 * the vpsadbw; a masked tail vector per row cost 3 vector ops a row for 1-3
 * words of data. 4-7 words still ride in each row's count as one masked
 * vector (more scalar popcounts than the vector ports take cycles).
 * Sapphire Rapids, in one process (scripts/ab_bgemm.sh), masked vector ->
 * scalar: [1,512,1152] 1.11x, [2,512,1152] 1.15x, [3,512,1152] 1.17x,
 * [1,128,640] 1.14x, [1,128,1216] 1.05x, even at 3 words beside one vector
 * ([1,128,704] 0.99x). (The single tail word had come in transposed, 8
 * masked loads into one vector: scalar counts were 8% faster.)
 *
 * The 8 B rows of a group are one running pointer; `full` (1 or 2 whole
 * vectors) and `tail` (0..SCALAR_TAIL_MAX scalar words, or TAIL_VEC) are
 * constants in each of ten functions (one_row_short picks one), so their
 * loops test nothing about K. Where K's shape was tested per row and each
 * group clamped 8 row pointers, GCC kept the pointers on the stack and
 * branched around every row's steps: [1,512,576] 1.24-1.46x, [2,512,576]
 * 1.29-1.42x, [3,512,1088] 1.30x from that. */
#define SCALAR_TAIL_MAX 3 /* tail words counted by scalar popcounts; more: a masked vector */
#define TAIL_VEC (SCALAR_TAIL_MAX + 1)

typedef struct {
    __m512i a0, a1, a_tail, transpose;
    bnn_word a_words[SCALAR_TAIL_MAX]; /* A's tail words (scalar tails) */
    __mmask8 tail_mask;
} short_row_a;

/* Popcounts of A's row against the 8 B rows at g (stride `words`), qword r =
 * row r. `tail`: the words past the whole vectors, 0..SCALAR_TAIL_MAX counted
 * by scalar popcounts, or TAIL_VEC (a masked vector per row). */
static inline __attribute__((always_inline)) __m512i short_group(
    const short_row_a *s, const bnn_word *g, size_t words, int full, int tail)
{
    const __m512i a0 = s->a0, a1 = s->a1, a_tail = s->a_tail;
    const size_t tail_at = (size_t)full * WORDS_PER_VEC; /* the tail's first word in a row */
    /* one running row pointer (a scalar add per row, off the vector ports),
     * where 8 row offsets took 8 registers and spilled */
    __m512i packed = _mm512_setzero_si512();
    uint64_t tails = 0;
    const bnn_word *row = g;
#pragma GCC unroll 8
    for (int r = 0; r < NR; r++, row += words) {
        __m512i count = _mm512_popcnt_epi64(_mm512_xor_si512(a0, _mm512_loadu_si512(row)));
        if (full == 2)
            count = _mm512_add_epi64(count, _mm512_popcnt_epi64(_mm512_xor_si512(
                                                a1, _mm512_loadu_si512(row + WORDS_PER_VEC))));
        if (tail == TAIL_VEC)
            count = _mm512_add_epi64(count, _mm512_popcnt_epi64(_mm512_xor_si512(
                                                a_tail, _mm512_maskz_loadu_epi64(s->tail_mask, row + tail_at))));
        packed = r == 0 ? count : _mm512_or_si512(packed, _mm512_slli_epi64(count, 8 * r));
        if (tail < TAIL_VEC) {
            uint64_t t = 0;
            for (int w = 0; w < tail; w++)
                t += (uint64_t)__builtin_popcountll(row[tail_at + w] ^ s->a_words[w]);
            tails |= t << (8 * r); /* <= 3 x 64: a byte */
        }
    }
    __m512i counts = _mm512_sad_epu8(_mm512_permutexvar_epi8(s->transpose, packed),
                                     _mm512_setzero_si512());
    if (tail > 0 && tail < TAIL_VEC) /* byte r of `tails` is row r's */
        counts = _mm512_add_epi64(counts, _mm512_cvtepu8_epi64(_mm_cvtsi64_si128((long long)tails)));
    return counts;
}

/* All n outputs: whole groups of 8 in place; the last 1-7 rows copied into
 * a zeroed group on the stack (rows past n are not there to read). */
static inline __attribute__((always_inline)) void short_rows(
    const short_row_a *s, size_t n, size_t words, const bnn_word *b, int32_t *c, int32_t k,
    int full, int tail)
{
    size_t j = 0;
    for (; j + NR <= n; j += NR)
        write_row(c + j, NR, short_group(s, b + j * words, words, full, tail), 1, 1, k);
    if (j < n) {
        bnn_word rows[NR * 3 * WORDS_PER_VEC]; /* words < 3 vectors */
        memcpy(rows, b + j * words, (n - j) * words * sizeof(bnn_word));
        memset(rows + (n - j) * words, 0, (NR - (n - j)) * words * sizeof(bnn_word));
        write_row(c + j, n - j, short_group(s, rows, words, full, tail), 1, 1, k);
    }
}

/* One function per shape, each its own register allocation: inlined into
 * one, the copies shared the caller's registers and spilled. */
#define SHORT_ROWS(full, tail)                                                                    \
    static __attribute__((noinline)) void short_rows_##full##_##tail(                             \
        const short_row_a *s, size_t n, size_t words, const bnn_word *b, int32_t *c, int32_t k)   \
    {                                                                                             \
        short_rows(s, n, words, b, c, k, full, tail);                                             \
    }
/* tails 0-3: scalar words; 4: TAIL_VEC (a literal, for the names) */
SHORT_ROWS(1, 0)
SHORT_ROWS(1, 1)
SHORT_ROWS(1, 2)
SHORT_ROWS(1, 3)
SHORT_ROWS(1, 4)
SHORT_ROWS(2, 0)
SHORT_ROWS(2, 1)
SHORT_ROWS(2, 2)
SHORT_ROWS(2, 3)
SHORT_ROWS(2, 4)

static void one_row_short(size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                          int32_t *c, int32_t k)
{
    /* byte 8r + l of the transposed counts = byte 8l + r of the packed ones */
    static const int8_t order[64] = {0, 8,  16, 24, 32, 40, 48, 56, 1, 9,  17, 25, 33, 41, 49, 57,
                                     2, 10, 18, 26, 34, 42, 50, 58, 3, 11, 19, 27, 35, 43, 51, 59,
                                     4, 12, 20, 28, 36, 44, 52, 60, 5, 13, 21, 29, 37, 45, 53, 61,
                                     6, 14, 22, 30, 38, 46, 54, 62, 7, 15, 23, 31, 39, 47, 55, 63};
    static void (*const by_shape[2][TAIL_VEC + 1])(const short_row_a *, size_t, size_t,
                                                   const bnn_word *, int32_t *, int32_t) = {
        {short_rows_1_0, short_rows_1_1, short_rows_1_2, short_rows_1_3, short_rows_1_4},
        {short_rows_2_0, short_rows_2_1, short_rows_2_2, short_rows_2_3, short_rows_2_4}};
    _Static_assert(TAIL_VEC == 4, "by_shape lists tails 0..TAIL_VEC");
    size_t full = words / WORDS_PER_VEC, rem = words % WORDS_PER_VEC;
    size_t tail_at = full * WORDS_PER_VEC;
    short_row_a s;
    s.tail_mask = (__mmask8)((1u << rem) - 1);
    s.a0 = _mm512_loadu_si512(a);
    s.a1 = full > 1 ? _mm512_loadu_si512(a + WORDS_PER_VEC) : _mm512_setzero_si512();
    s.a_tail = _mm512_maskz_loadu_epi64(s.tail_mask, a + tail_at);
    for (size_t w = 0; w < SCALAR_TAIL_MAX; w++)
        s.a_words[w] = w < rem ? a[tail_at + w] : 0;
    s.transpose = _mm512_loadu_si512(order);
    by_shape[full - 1][rem <= SCALAR_TAIL_MAX ? rem : TAIL_VEC](&s, n, words, b, c, k);
}

#define ONE_ROW_MAX_WORDS 64 /* 2-3 rows of A go row by row (one_row) up to this K */

/* A single row of A (pybnn.bgemm on a vector): each group of NR B rows is
 * read once, straight through K. Nothing of the general path below pays
 * here: with no other A row to reuse them, K chunks that keep B rows in L1
 * are pointless, and the 1-7 words past the last whole vector come in as
 * one masked vector per row, counted before the reduction, where transposed
 * tails cost a copy through memory per group. 1.2-1.9x the general path at
 * [1,512,576..4608] and [1,4096,1024] (B in L1/L2); about even where B
 * streams from L3, whose rate bounds both. */
static void one_row(size_t n, size_t words, const bnn_word *a, const bnn_word *b, int32_t *c,
                    int32_t k)
{
    if (words >= WORDS_PER_VEC && words < 3 * WORDS_PER_VEC) {
        one_row_short(n, words, a, b, c, k);
        return;
    }
    size_t full = words / WORDS_PER_VEC, tail = full * WORDS_PER_VEC;
    __mmask8 tail_mask = (__mmask8)((1u << (words % WORDS_PER_VEC)) - 1);
    __m512i a_tail = _mm512_maskz_loadu_epi64(tail_mask, a + tail);
    /* B past L1 comes from L2 (or further) group by group: fetching the
     * group ONE_ROW_AHEAD ahead into L1 while this one is counted, 8 lines
     * per vector step (a group is `words` lines), overlaps the two. In one
     * process (ab_bgemm.sh), Sapphire Rapids: [1,512,2304] 1.06-1.10x,
     * [1,512,4608] 1.19x, [1,4096,2048] 1.20x, [1,4096,4096] (B the size of
     * L2) 1.25x, [1,4096,8192] (B from L3) 1.12x; with B in L1 the
     * prefetches cost 6-7% ([1,128,2304]), so smaller B goes without. */
    int prefetch = n * words * sizeof(bnn_word) >= ONE_ROW_PREFETCH_MIN;
    for (size_t j = 0; j < n; j += NR) {
        size_t nr = n - j < NR ? n - j : NR;
        const bnn_word *bp[NR];
        __m512i acc[NR];
        row_pointers(b + j * words, words, nr, 0, bp);
        const char *next = prefetch && j + (ONE_ROW_AHEAD + 1) * NR <= n
                               ? (const char *)(b + (j + ONE_ROW_AHEAD * NR) * words)
                               : NULL;
        tile(a, bp, 0, full, next, NR, acc);
        if (tail_mask)
#pragma GCC unroll 8
            for (int r = 0; r < NR; r++)
                acc[r] = _mm512_add_epi64(acc[r], _mm512_popcnt_epi64(_mm512_xor_si512(
                                                      a_tail, _mm512_maskz_loadu_epi64(tail_mask, bp[r] + tail))));
        write_row(c + j, nr, reduce8(acc), 1, 1, k);
    }
}

void bnn_bgemm_avx512(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                      int32_t *c, size_t ldc, int32_t k)
{
    if (bnn_bgemm_by_panels_avx512(m, n, words, a, b, c, ldc, k))
        return;
    /* 1-3 rows: each through one_row, B read once per row. Up to K = 4096,
     * 1.1-1.35x the K-chunked 1 x NR path below ([2,512,576] 290 -> 316,
     * [3,512,1152] 384 -> 444, [2,4096,1024] 390 -> 527 GMAC/s; even at
     * [2,4096,4096]); at K = 8192 (B streams from L3 once per row) 5-10% slower. */
    if (m == 1 || (m < 4 && words <= ONE_ROW_MAX_WORDS)) {
        for (size_t i = 0; i < m; i++)
            one_row(n, words, a + i * words, b, c + i * ldc, k);
        return;
    }
    size_t full = words / WORDS_PER_VEC, rem = words % WORDS_PER_VEC, tail = full * WORDS_PER_VEC;
    __m512i tail_vecs[WORDS_PER_VEC - 1];
    for (size_t j = 0; j < n; j += NR) {
        size_t nr = n - j < NR ? n - j : NR;
        const bnn_word *bp[NR], *bt[NR];
        row_pointers(b + j * words, words, nr, 0, bp);
        row_pointers(b + j * words, words, nr, tail, bt);
        pack_tail(bt, rem, tail_vecs);
        /* The first A row reads these NR rows of B from memory: it also fetches
         * ahead, PREFETCH_AHEAD bytes past them, as many lines (`words`: NR *
         * words * 8 bytes) as they hold, so the stream crosses 4 KiB pages
         * without waiting (hardware prefetchers stop at page ends). */
        size_t ahead = j * words * sizeof(bnn_word) + PREFETCH_AHEAD;
        const char *next = ahead + NR * words * sizeof(bnn_word) <= n * words * sizeof(bnn_word)
                               ? (const char *)b + ahead
                               : NULL;
        /* K chunks over the whole vectors; the last one (possibly empty, when
         * words < 8) also counts the tail words */
        for (size_t v0 = 0;; v0 += KC) {
            size_t v1 = full - v0 < KC ? full : v0 + KC;
            int first = v0 == 0, last = v1 == full;
            for (size_t i = 0; i < m && i < C_PREFETCH_ROWS; i++)
                prefetch_c(c + i * ldc + j, nr);
            for (size_t i = 0; i < m; i++) {
                const bnn_word *ai = a + i * words;
                __m512i acc[NR], pc = _mm512_setzero_si512();
                if (i + C_PREFETCH_ROWS < m)
                    prefetch_c(c + (i + C_PREFETCH_ROWS) * ldc + j, nr);
                if (v1 > v0) {
                    const char *pf = i == 0 ? next : NULL;
                    if (nr > NR_SMALL)
                        tile(ai, bp, v0, v1, pf, NR, acc);
                    else
                        tile(ai, bp, v0, v1, pf, NR_SMALL, acc);
                    pc = reduce8(acc);
                }
                if (last && rem)
                    pc = _mm512_add_epi64(pc, tail_counts(ai + tail, tail_vecs, rem));
                write_row(c + i * ldc + j, nr, pc, first, last, k);
            }
            if (last)
                break;
        }
    }
}
