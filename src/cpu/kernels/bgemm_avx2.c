/* bgemm_avx2.c - AVX2 binary GEMM: C[i][j] = k - 2 popcount(A_i XOR B_j).
 *
 * Popcount is the nibble lookup: vpshufb maps each 4-bit nibble to its bit
 * count, byte counters add up a K chunk, vpsadbw widens them once per output.
 *
 * From a few rows of A up, B is copied into split panels K chunk by K chunk
 * (bgemm_panel_avx2.c), where its nibbles are split once for all rows of A
 * and each output owns its byte counters. For one to three rows (and up to
 * 11 at long K) that copy would cost more than it saves, so those rows run
 * a direct 1 x NR tile that reads B rows in place and splits every XOR
 * result (the textbook 8-op form), reducing each output's counters at the
 * end (reduce8); the 1-3 words past the last whole vector of a row (K = 576
 * is 2 vectors and 1 word) go by scalar popcnt. The rows of A take B in
 * blocks that stay in L1, one row at a time: a tile with no loop around it
 * but its groups' (instructions bind at short K, not the data). */
#include "cpu/kernels/bgemm_avx2.h"
#include "cpu/kernels/kernels.h"

#define NR 8       /* B rows per micro-tile */
#define KC 31      /* vectors per K chunk: byte counters stay <= 31 * 8 = 248 */
#define WORDS_PER_VEC 4
#define BLOCK_BYTES 16384 /* B rows the rows of A take in turn: half of L1 */
#define PREFETCH_AHEAD 4096 /* bytes of B the direct path fetches ahead */
/* Rows at least this long (2048 bits) fetch ahead. Zen 3, one process, 15
 * rounds, median, % of the ALU ceiling, no prefetch -> prefetch: [1,4096,4096]
 * 52 -> 64, [1,2048,4608] 46 -> 56, [1,8192,2048] 59 -> 61, but [1,4096,1024]
 * 59 -> 53, [1,512,1152] 51 -> 48. */
#define PREFETCH_MIN_WORDS 32
/* When B is copied into panels: from PANEL_MIN_M rows of A, and from
 * PANEL_SHORT_MIN_M while rows are at most PANEL_SHORT_MAX_WORDS words.
 * Zen 3, one process alternating the two 15 times, median, % of the ALU
 * ceiling, direct -> panels: [3,1024,1152] 49 -> 45, [4,1024,576] 42 -> 45,
 * [6,1024,576] 44 -> 55, [8,1024,1152] 49 -> 61, [8,1024,2048] 62 -> 60,
 * [8,1024,4096] 65 -> 58, [12,1024,1152] 49 -> 66, [12,1024,4096] 67 -> 67,
 * [16,1024,2048] 61 -> 71. Reading B rows in place 16 at a time, transposed
 * on the fly (lanes = outputs, no reduction), lost to the direct tile for
 * one row: 0.55-0.77x. */
#define PANEL_MIN_M 12
#define PANEL_SHORT_MIN_M 4
#define PANEL_SHORT_MAX_WORDS 31

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

/* Totals of 8 accumulators in the 8 dwords of one vector. */
static inline __m256i reduce8(const __m256i *acc)
{
    __m256i u0 = reduce4_lanes(acc[0], acc[1], acc[2], acc[3]);
    __m256i u1 = reduce4_lanes(acc[4], acc[5], acc[6], acc[7]);
    /* low lane: outputs 0-3 from both lanes of u0; high lane: 4-7 from u1 */
    return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20),
                            _mm256_permute2x128_si256(u0, u1, 0x31));
}

/* One A row against NR B rows read in place over whole vectors [v0, v1);
 * bp[r] points at B row r. Step v also prefetches lines 4v..4v+3 of `next`
 * (NULL: none), 4 lines per step being words / (words / 4). */
static BNN_ALWAYS_INLINE void tile_direct(
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
            /* An empty asm that "changes" acc[r] ends each output's update
             * before the next one's: GCC 12 otherwise hoists all 8 XORs
             * first, runs out of the 16 ymm registers and keeps 4
             * accumulators on the stack (a load and a store each per step). */
            __asm__("" : "+x"(acc[r]));
        }
    }
}

/* Pointers to B rows j..j+NR-1 at word offset `off`; rows past nr repeat row
 * j (real memory; their results are dropped). */
static inline void row_pointers(const bnn_word *b, size_t words, size_t nr, size_t off,
                                const bnn_word **bp)
{
    for (size_t r = 0; r < NR; r++)
        bp[r] = b + (r < nr ? r : 0) * words + off;
}

/* The popcounts of NR outputs' tails, the rem < 4 words past the last whole
 * vector (at: A's, bt[r]: B row r's), by scalar popcnt on the integer pipes,
 * which the vector tile leaves idle; each is < 256, so the 8 reach the
 * vector as the bytes of one word (8 dword inserts would take the shuffle
 * pipes the lookups need). rem is a constant in each copy (row_group's
 * switch), so the loops unroll. The same tails as vectors (4 rows' words per
 * vector, one vpsadbw per 4 outputs) ran 0.92-0.97x of this at K = 576 and
 * 1152 (Zen 3, one process). */
static BNN_ALWAYS_INLINE __m256i tail_counts(const bnn_word *at, const bnn_word *const *bt,
                                             size_t rem)
{
    uint64_t bytes = 0;
#pragma GCC unroll 8
    for (int r = 0; r < NR; r++) {
        uint64_t s = 0;
        for (size_t w = 0; w < rem; w++)
            s += (uint64_t)__builtin_popcountll(at[w] ^ bt[r][w]);
        bytes |= s << (8 * r);
    }
    return _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)bytes));
}

/* One row of A against B rows j..j+nr-1 (a group): c[j..j+nr-1] = k - 2
 * popcount. K goes by equal chunks of at most KC vectors; `chunked` is a
 * constant in each inlined copy, 0 where one chunk holds all of K: a chunk
 * loop around the tile, run once, made GCC keep the row pointers on the
 * stack (Zen 3, [1,512,512]: 0.8x of the same tile without it). */
static BNN_ALWAYS_INLINE void row_group(size_t words, const bnn_word *a, const bnn_word *b,
                                        int32_t *c, int32_t k, size_t j, size_t nr,
                                        const char *next, int chunked)
{
    size_t full = words / WORDS_PER_VEC, rem = words % WORDS_PER_VEC, tail = full * WORDS_PER_VEC;
    const bnn_word *bp[NR], *bt[NR];
    row_pointers(b + j * words, words, nr, 0, bp);
    row_pointers(b + j * words, words, nr, tail, bt);
    __m256i acc[NR], pc;
    if (!chunked) {
        tile_direct(a, bp, 0, full, next, acc);
        pc = reduce8(acc);
    } else {
        size_t step = equal_chunk(full, KC);
        pc = _mm256_setzero_si256();
        for (size_t v0 = 0; v0 < full; v0 += step) {
            tile_direct(a, bp, v0, full - v0 < step ? full : v0 + step, next, acc);
            pc = _mm256_add_epi32(pc, reduce8(acc));
        }
    }
    switch (rem) { /* a copy per tail length, so that its loops unroll */
    case 1: pc = _mm256_add_epi32(pc, tail_counts(a + tail, bt, 1)); break;
    case 2: pc = _mm256_add_epi32(pc, tail_counts(a + tail, bt, 2)); break;
    case 3: pc = _mm256_add_epi32(pc, tail_counts(a + tail, bt, 3)); break;
    default: break;
    }
    write_counts(c + j, nr, &pc, 1, 1, 1, k);
}

/* One row of A against B rows [j0, j1) of n, groups of NR at a time; with
 * `fetch`, each group also fetches as many lines of B as it reads,
 * PREFETCH_AHEAD bytes past them, so the stream crosses 4 KiB pages without
 * waiting (hardware prefetchers stop at page ends). */
static BNN_ALWAYS_INLINE void row_span(size_t j0, size_t j1, size_t n, size_t words,
                                       const bnn_word *a, const bnn_word *b, int32_t *c,
                                       int32_t k, int fetch, int chunked)
{
    size_t j = j0, group_bytes = NR * words * sizeof(bnn_word);
    for (; j + NR <= j1; j += NR) {
        size_t ahead = j * words * sizeof(bnn_word) + PREFETCH_AHEAD;
        const char *next = fetch && ahead + group_bytes <= n * words * sizeof(bnn_word)
                               ? (const char *)b + ahead
                               : NULL;
        row_group(words, a, b, c, k, j, NR, next, chunked);
    }
    if (j < j1)
        row_group(words, a, b, c, k, j, j1 - j, NULL, chunked);
}

static void direct_row(size_t j0, size_t j1, size_t n, size_t words, const bnn_word *a,
                       const bnn_word *b, int32_t *c, int32_t k, int fetch)
{
    if (words / WORDS_PER_VEC <= KC)
        row_span(j0, j1, n, words, a, b, c, k, fetch, 0);
    else
        row_span(j0, j1, n, words, a, b, c, k, fetch, 1);
}

void bnn_bgemm_avx2(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                    int32_t *c, size_t ldc, int32_t k)
{
    if (m >= PANEL_MIN_M || (m >= PANEL_SHORT_MIN_M && words <= PANEL_SHORT_MAX_WORDS)) {
        bnn_bgemm_by_panels_avx2(m, n, words, a, b, c, ldc, k);
        return;
    }
    /* B by blocks of rows that stay in L1 while each row of A passes (one
     * block for one row): the first reads them from further out (and
     * fetches ahead, where rows are long enough for a group to span lines
     * of several pages' streams), the others from L1. */
    size_t block = m == 1 ? n : BLOCK_BYTES / (words * sizeof(bnn_word)) / NR * NR;
    if (block < NR)
        block = NR;
    for (size_t j = 0; j < n; j += block) {
        size_t j1 = n - j < block ? n : j + block;
        for (size_t i = 0; i < m; i++)
            direct_row(j, j1, n, words, a + i * words, b, c + i * ldc, k,
                       i == 0 && words >= PREFETCH_MIN_WORDS);
    }
}
