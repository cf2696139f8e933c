/* kernels.h - internal: the kernel signatures every ISA implements, and the
 * dispatch table that holds the chosen ones. Not part of the public API. */
#ifndef PYBNN_KERNELS_H
#define PYBNN_KERNELS_H

#include <string.h>

#include "bnn.h"
#include "common/bitpack.h"

/* C[i*ldc + j] = k - 2 * popcount(A_i XOR B_j) for i < m, j < n.
 * A rows are `words` words apart, likewise B rows. The kernel does its own
 * register blocking and cache tiling; the driver hands it one thread's block. */
typedef void (*bnn_bgemm_fn)(size_t m, size_t n, size_t words,
                             const bnn_word *a, const bnn_word *b,
                             int32_t *c, size_t ldc, int32_t k);

/* Pack `rows` rows of k values; out has rows * bnn_words_for(k) words. */
typedef void (*bnn_pack_f32_fn)(const float *x, size_t rows, size_t k, bnn_word *out);
typedef void (*bnn_pack_f64_fn)(const double *x, size_t rows, size_t k, bnn_word *out);
typedef void (*bnn_pack_i8_fn)(const int8_t *x, size_t rows, size_t k, bnn_word *out);
typedef void (*bnn_pack_i32_fn)(const int32_t *x, size_t rows, size_t k, bnn_word *out);

/* First layers: uint8 inputs times +-1 weights, exact int32 sums.
 *
 * C[i*ldc + j] = sum_{t < k} x[i*ldx + t] * w_j[t] for i < m, j < n (k >= 1),
 * where x rows are k bytes (nothing past them is read) and the weights w_j[t]
 * in {-1, +1} come as a panel, laid out once at model load (op_first_layer.c):
 *   columns in groups of BNN_U8_GROUP (16), each group bnn_u8_group_bytes(k)
 *   bytes: for each quad q of K (ceil(k/4) of them) 64 bytes, column c of the
 *   group at bytes 4c..4c+3 holding w_c[4q..4q+3] as int8. Columns past n
 *   and K positions past k are 0.
 * The panel pointer is at the first column's group (columns 0..n-1 of the
 * call are columns 0..n-1 of the panel). Why this layout: one 4-byte x quad
 * broadcast to every lane meets 4 K positions of 4 (NEON), 8 (AVX2) or 16
 * (AVX-512) columns per vector, so the sums land in one int32 lane per
 * column and no horizontal reduction is needed; each ISA reads the same
 * panel, so a model loaded once runs on any kernel set. |sum| <= 255 k fits
 * int32 for k <= 2^23 (the .bnn limit for first layers). */
#define BNN_U8_GROUP 16
#define BNN_U8_QUAD 4
typedef void (*bnn_u8gemm_fn)(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx,
                              const int8_t *w, int32_t *c, size_t ldc);

/* The `avail` (1..4) bytes of a row's K quad at p as one little-endian u32,
 * the rest 0, so nothing past a row's k bytes is read; every u8gemm kernel
 * broadcasts it. A short last quad is assembled in a register: bytes stored
 * to memory and read back as one word would stall store-to-load forwarding. */
static inline uint32_t bnn_u8_quad(const uint8_t *p, size_t avail)
{
    uint32_t v;
    if (avail == BNN_U8_QUAD) {
        memcpy(&v, p, sizeof v);
        return v;
    }
    v = p[0];
    if (avail > 1)
        v |= (uint32_t)p[1] << 8;
    if (avail > 2)
        v |= (uint32_t)p[2] << 16;
    return v;
}

/* Bytes of one panel group (16 columns) for k, and of a panel of n columns. */
static inline size_t bnn_u8_group_bytes(size_t k)
{
    return (k + BNN_U8_QUAD - 1) / BNN_U8_QUAD * (BNN_U8_GROUP * BNN_U8_QUAD);
}
static inline size_t bnn_u8_panel_bytes(size_t n, size_t k)
{
    return (n + BNN_U8_GROUP - 1) / BNN_U8_GROUP * bnn_u8_group_bytes(k);
}
/* Where weight t of column j lives in a panel for k. */
static inline size_t bnn_u8_panel_index(size_t j, size_t t, size_t k)
{
    return j / BNN_U8_GROUP * bnn_u8_group_bytes(k) +
           t / BNN_U8_QUAD * (BNN_U8_GROUP * BNN_U8_QUAD) + j % BNN_U8_GROUP * BNN_U8_QUAD +
           t % BNN_U8_QUAD;
}
/* The panel of n rows of k weights w (n x k int8, +-1, rows k apart): every
 * one of bnn_u8_panel_bytes(n, k) bytes written, padding 0 (u8gemm_ref.c). */
void bnn_u8_panel_pack(const int8_t *w, size_t n, size_t k, int8_t *panel);

/* B pre-packed as panels (kernel sets whose bgemm has a panel form): the rows
 * of B in groups of BNN_PANEL_ROWS, each group `words` x BNN_PANEL_ROWS words
 * with word w of its rows together (rows past n: 0); on sets with
 * panel_split (AVX2) each word of the group is its rows' low nibbles, then
 * their high nibbles (a byte per nibble: twice the words). A layer's weights
 * are packed once at load, so its products skip the per-call packing, and
 * one row of A meets 16 columns per word with no per-output reduction
 * (batch-1 dense layers). panel_pack fills bnn_kernels_panel_words(set, n,
 * words) words (counted in 64 bits: a panel can exceed what a 32-bit board
 * addresses); bgemm_panel is bgemm with B given as such a panel (for columns
 * 0..n-1 of it). */
#define BNN_PANEL_ROWS 16
static inline uint64_t bnn_panel_words(uint64_t n, uint64_t words)
{
    return (n + BNN_PANEL_ROWS - 1) / BNN_PANEL_ROWS * BNN_PANEL_ROWS * words;
}
typedef void (*bnn_panel_pack_fn)(const bnn_word *b, size_t n, size_t words, bnn_word *panel);
typedef void (*bnn_bgemm_panel_fn)(size_t m, size_t n, size_t words, const bnn_word *a,
                                   const bnn_word *panel, int32_t *c, size_t ldc, int32_t k);

/* Threshold + pack (a threshold layer: folded batch-norm + sign): for `rows`
 * rows of `count` int32 sums s (ld_s apart), the row's words_for(count)
 * packed words at out (ld_out words apart), bit c = (s[c] ^ mask[c]) <
 * key[c] (signed; cpu/ops/op_threshold.c makes mask and key), padding bits 0. */
typedef void (*bnn_threshold_fn)(const int32_t *s, size_t ld_s, size_t rows, const int32_t *mask,
                                 const int32_t *key, size_t count, bnn_word *out, size_t ld_out);

typedef struct bnn_kernels {
    const char *name;
    bnn_bgemm_fn bgemm;
    bnn_pack_f32_fn pack_f32;
    bnn_pack_f64_fn pack_f64;
    bnn_pack_i8_fn pack_i8;
    bnn_pack_i32_fn pack_i32;
    bnn_u8gemm_fn u8gemm;
    bnn_threshold_fn threshold;
    bnn_panel_pack_fn panel_pack;   /* NULL: the set has no panel form */
    bnn_bgemm_panel_fn bgemm_panel; /* NULL with it; 64-byte aligned panels */
    /* A first dense layer at batches 1-2 runs as bit-planes (ops/
     * op_first_dense.c) on panels where the set has them; this says it pays
     * on the weights as rows too (bgemm), beating the set's u8gemm. */
    int planes_on_rows;
    /* 1 where the set's panels hold B split into nibble planes (AVX2: a byte
     * per 4 bits, twice the words of B's bits), 0 where they hold its bits. */
    int panel_split;
} bnn_kernels;

/* Words of `k`'s panel of n rows of `words` words, and where column j (a
 * whole number of panel groups) starts in it. */
static inline uint64_t bnn_kernels_panel_words(const bnn_kernels *k, uint64_t n, uint64_t words)
{
    return bnn_panel_words(n, words) << k->panel_split;
}
/* Does an m-row product on `k`'s panels of B (n rows of `words` words) beat
 * one on B's rows? Split panels are twice B's bytes: one row of A streams
 * them at memory speed once they outgrow L2, where B's rows take half the
 * bytes; two rows of A use each panel byte twice, so they pay up to 4x the
 * size. 256 KiB: the L2 of the smallest AVX2 cores. Zen 3, one process
 * alternating the two 21 times, GMAC/s, rows -> panels: [1,512,2304] (288
 * KiB of panels) 296 -> 312, [1,1024,2304] (576 KiB) 273 -> 226,
 * [1,4096,4096] 273 -> 227; [2,512,4608] (576 KiB) 196 -> 249,
 * [2,4096,1024] (1 MiB) 160 -> 220, [2,2048,2048] (1 MiB) 266 -> 241,
 * [2,4096,4096] (4 MiB) 298 -> 286. With the one-row paths of both (a tile
 * with no loop around it, % of the ALU ceiling): [1,512,2304] (288 KiB)
 * 65 -> 73, [1,512,2880] (360 KiB) 62 -> 59, [1,896,2048] (448 KiB)
 * 62 -> 59, [1,512,4608] (576 KiB) 66 -> 50: on Zen 3 (512 KiB of L2) the
 * line is still near 256 KiB, half of L2. */
#define BNN_SPLIT_PANEL_STREAM_MAX_BYTES (256u * 1024)
static inline int bnn_panel_pays(const bnn_kernels *k, size_t m, size_t n, size_t words)
{
    uint64_t bytes = bnn_kernels_panel_words(k, n, words) * sizeof(bnn_word);
    return !k->panel_split || m > 2 ||
           bytes <= (uint64_t)BNN_SPLIT_PANEL_STREAM_MAX_BYTES * (m == 2 ? 4 : 1);
}
static inline const bnn_word *bnn_panel_column(const bnn_kernels *k, const bnn_word *panel,
                                               size_t j, size_t words)
{
    return panel + ((j * words) << k->panel_split);
}

/* The kernels in use (chosen once, on first call). Never NULL. */
const bnn_kernels *bnn_active_kernels(void);

/* Reference (oracle) kernels: plain, obviously right, never optimised. */
void bnn_bgemm_ref(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                   int32_t *c, size_t ldc, int32_t k);
void bnn_pack_f32_ref(const float *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_f64_ref(const double *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_i8_ref(const int8_t *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_i32_ref(const int32_t *x, size_t rows, size_t k, bnn_word *out);
void bnn_u8gemm_ref(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx, const int8_t *w,
                    int32_t *c, size_t ldc);
void bnn_threshold_ref(const int32_t *s, size_t ld_s, size_t rows, const int32_t *mask,
                       const int32_t *key, size_t count, bnn_word *out, size_t ld_out);

/* Portable scalar kernels: blocked, with the compiler's popcount. */
void bnn_bgemm_scalar(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                      int32_t *c, size_t ldc, int32_t k);
void bnn_pack_f32_scalar(const float *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_f64_scalar(const double *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_i8_scalar(const int8_t *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_i32_scalar(const int32_t *x, size_t rows, size_t k, bnn_word *out);
void bnn_u8gemm_scalar(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx,
                       const int8_t *w, int32_t *c, size_t ldc);
void bnn_threshold_scalar(const int32_t *s, size_t ld_s, size_t rows, const int32_t *mask,
                          const int32_t *key, size_t count, bnn_word *out, size_t ld_out);

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define BNN_ARCH_X86 1
void bnn_bgemm_avx2(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                    int32_t *c, size_t ldc, int32_t k);
void bnn_panel_pack_avx2(const bnn_word *b, size_t n, size_t words, bnn_word *panel);
void bnn_bgemm_panel_avx2(size_t m, size_t n, size_t words, const bnn_word *a,
                          const bnn_word *panel, int32_t *c, size_t ldc, int32_t k);
/* bnn_bgemm_avx2's product on B as rows, copied into panels chunk by chunk
 * (bgemm_panel_avx2.c; it pays for more than a few rows of A). */
void bnn_bgemm_by_panels_avx2(size_t m, size_t n, size_t words, const bnn_word *a,
                              const bnn_word *b, int32_t *c, size_t ldc, int32_t k);
void bnn_pack_f32_avx2(const float *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_i8_avx2(const int8_t *x, size_t rows, size_t k, bnn_word *out);
void bnn_u8gemm_avx2(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx, const int8_t *w,
                     int32_t *c, size_t ldc);
void bnn_threshold_avx2(const int32_t *s, size_t ld_s, size_t rows, const int32_t *mask,
                        const int32_t *key, size_t count, bnn_word *out, size_t ld_out);
void bnn_bgemm_avx512(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                      int32_t *c, size_t ldc, int32_t k);
void bnn_pack_f32_avx512(const float *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_i8_avx512(const int8_t *x, size_t rows, size_t k, bnn_word *out);
void bnn_u8gemm_avx512(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx,
                       const int8_t *w, int32_t *c, size_t ldc);
void bnn_u8gemm_avx512vnni(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx,
                           const int8_t *w, int32_t *c, size_t ldc);
/* The avxvnni set's first layer (u8gemm_vnni256.h): AVX-VNNI, where the
 * compiler has it (BNN_WITH_AVXVNNI), and the same code in EVEX form. */
void bnn_u8gemm_avxvnni(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx,
                        const int8_t *w, int32_t *c, size_t ldc);
void bnn_u8gemm_avxvnni_evex(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx,
                             const int8_t *w, int32_t *c, size_t ldc);
void bnn_threshold_avx512(const int32_t *s, size_t ld_s, size_t rows, const int32_t *mask,
                          const int32_t *key, size_t count, bnn_word *out, size_t ld_out);
void bnn_panel_pack_avx512(const bnn_word *b, size_t n, size_t words, bnn_word *panel);
void bnn_bgemm_panel_avx512(size_t m, size_t n, size_t words, const bnn_word *a,
                            const bnn_word *panel, int32_t *c, size_t ldc, int32_t k);
/* bnn_bgemm_avx512's product on B as rows, copied into panels per call,
 * when that pays for this m and K (bgemm_panel_avx512.c); returns whether
 * it ran it. */
int bnn_bgemm_by_panels_avx512(size_t m, size_t n, size_t words, const bnn_word *a,
                               const bnn_word *b, int32_t *c, size_t ldc, int32_t k);
#endif

/* Benchmark only (scripts/bench_bgemm.py, scripts/ceiling.py): the streaming
 * rate, XOR + popcount + accumulate over two arrays of `words` words (a
 * multiple of BNN_ROOFLINE_WORDS_MULTIPLE), `reps` times, sized by the caller
 * for L1 or L2. A GEMM reuses its loads and may beat it; the ceiling it cannot
 * beat is the ALU one below. The dispatcher takes a usable kernel set's name
 * ("ref" runs the scalar one) and stores the total popcount in *count
 * (returned, so the work cannot be optimised away). */
#define BNN_ROOFLINE_WORDS_MULTIPLE 64
bnn_status bnn_roofline_xor_popcount(const char *isa, const bnn_word *a, const bnn_word *b,
                                     size_t words, size_t reps, uint64_t *count);
uint64_t bnn_roofline_xor_popcount_scalar(const bnn_word *a, const bnn_word *b, size_t words,
                                          size_t reps);

/* ALU ceiling forms (bgemm_roofline.c): run(reps) does reps * ops_per_rep
 * operations on registers only and returns a total that depends on all of
 * them. bnn_roofline_alu_forms: XOR + popcount + accumulate, ops being bit
 * operations (binary MACs). bnn_roofline_int8_forms: byte multiply-adds
 * into 32 bits, ops being int8 MACs (the ceiling of an int8 network on the
 * same core). Each sets *forms to the table of a usable kernel set ("ref"
 * gets the scalar binary one) and returns its length (0: none). */
typedef struct bnn_roofline_form {
    const char *name;
    uint64_t (*run)(size_t reps);
    uint64_t ops_per_rep;
} bnn_roofline_form;
int bnn_roofline_alu_forms(const char *isa, const bnn_roofline_form **forms);
int bnn_roofline_int8_forms(const char *isa, const bnn_roofline_form **forms);
#ifdef BNN_ARCH_X86
extern const bnn_roofline_form bnn_roofline_alu_avx2[];   /* NULL-terminated */
extern const bnn_roofline_form bnn_roofline_alu_avx512[]; /* NULL-terminated */
extern const bnn_roofline_form bnn_roofline_int8_avx2[];       /* NULL-terminated */
extern const bnn_roofline_form bnn_roofline_int8_avx512[];     /* NULL-terminated */
extern const bnn_roofline_form bnn_roofline_int8_avx512vnni[]; /* NULL-terminated */
#ifdef BNN_WITH_AVXVNNI
extern const bnn_roofline_form bnn_roofline_int8_avxvnni[]; /* NULL-terminated */
#endif
uint64_t bnn_roofline_xor_popcount_avx2(const bnn_word *a, const bnn_word *b, size_t words,
                                        size_t reps);
uint64_t bnn_roofline_xor_popcount_avx512(const bnn_word *a, const bnn_word *b, size_t words,
                                          size_t reps);
#endif

/* NEON files are built for aarch64 always, for 32-bit ARM when the build adds
 * them with -mfpu=neon and defines BNN_WITH_NEON (this file may not see
 * __ARM_NEON itself: only the NEON files get the flag). */
#if defined(__aarch64__) || (defined(__arm__) && defined(BNN_WITH_NEON))
#define BNN_ARCH_NEON 1
void bnn_bgemm_neon(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                    int32_t *c, size_t ldc, int32_t k);
void bnn_pack_f32_neon(const float *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_i8_neon(const int8_t *x, size_t rows, size_t k, bnn_word *out);
void bnn_u8gemm_neon(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx, const int8_t *w,
                     int32_t *c, size_t ldc);
void bnn_threshold_neon(const int32_t *s, size_t ld_s, size_t rows, const int32_t *mask,
                        const int32_t *key, size_t count, bnn_word *out, size_t ld_out);
extern const bnn_roofline_form bnn_roofline_alu_neon[]; /* NULL-terminated */
/* The streaming rate from memory (bgemm_stream_roofline_neon.c), as for x86. */
uint64_t bnn_roofline_xor_popcount_neon(const bnn_word *a, const bnn_word *b, size_t words,
                                        size_t reps);
#endif
#if defined(__aarch64__)
/* ARMv8.2 dot product (HWCAP_ASIMDDP); built with +dotprod */
void bnn_u8gemm_neondot(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx,
                        const int8_t *w, int32_t *c, size_t ldc);
extern const bnn_roofline_form bnn_roofline_int8_neondot[]; /* NULL-terminated */
#endif

#endif
