/* kernels.h - internal: the kernel signatures every ISA implements, and the
 * dispatch table that holds the chosen ones. Not part of the public API. */
#ifndef PYBNN_KERNELS_H
#define PYBNN_KERNELS_H

#include "bitpack.h"

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

typedef struct bnn_kernels {
    const char *name;
    bnn_bgemm_fn bgemm;
    bnn_pack_f32_fn pack_f32;
    bnn_pack_f64_fn pack_f64;
    bnn_pack_i8_fn pack_i8;
    bnn_pack_i32_fn pack_i32;
} bnn_kernels;

/* bnn_bgemm for rows of `words` words holding k true bits with zero padding
 * anywhere (not only at the end): e.g. conv patches of kh*kw pixels, each
 * padded to whole words. The ops of the model executor use this. */
#include "bnn.h"
bnn_status bnn_bgemm_rows(const bnn_word *a, const bnn_word *b, int32_t *c, size_t m, size_t n,
                          size_t words, size_t k, int threads);

/* The kernels in use (chosen once, on first call). Never NULL. */
const bnn_kernels *bnn_active_kernels(void);

/* Reference (oracle) kernels: plain, obviously right, never optimised. */
void bnn_bgemm_ref(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                   int32_t *c, size_t ldc, int32_t k);
void bnn_pack_f32_ref(const float *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_f64_ref(const double *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_i8_ref(const int8_t *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_i32_ref(const int32_t *x, size_t rows, size_t k, bnn_word *out);

/* Portable scalar kernels: blocked, with the compiler's popcount. */
void bnn_bgemm_scalar(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                      int32_t *c, size_t ldc, int32_t k);
void bnn_pack_f32_scalar(const float *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_f64_scalar(const double *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_i8_scalar(const int8_t *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_i32_scalar(const int32_t *x, size_t rows, size_t k, bnn_word *out);

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define BNN_ARCH_X86 1
void bnn_bgemm_avx2(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                    int32_t *c, size_t ldc, int32_t k);
void bnn_pack_f32_avx2(const float *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_i8_avx2(const int8_t *x, size_t rows, size_t k, bnn_word *out);
void bnn_bgemm_avx512(size_t m, size_t n, size_t words, const bnn_word *a, const bnn_word *b,
                      int32_t *c, size_t ldc, int32_t k);
void bnn_pack_f32_avx512(const float *x, size_t rows, size_t k, bnn_word *out);
void bnn_pack_i8_avx512(const int8_t *x, size_t rows, size_t k, bnn_word *out);
#endif

/* Benchmark only (scripts/bench_bgemm.py): XOR + popcount + accumulate over
 * two arrays of `words` words (a multiple of BNN_ROOFLINE_WORDS_MULTIPLE),
 * `reps` times. Sized to sit in L1, they measure the XOR + popcount ceiling a
 * bgemm kernel of the same ISA works under. The dispatcher takes a usable
 * kernel set's name ("ref" runs the scalar one) and stores the total popcount
 * in *count (returned, so the work cannot be optimised away). */
#define BNN_ROOFLINE_WORDS_MULTIPLE 64
bnn_status bnn_roofline_xor_popcount(const char *isa, const bnn_word *a, const bnn_word *b,
                                     size_t words, size_t reps, uint64_t *count);
uint64_t bnn_roofline_xor_popcount_scalar(const bnn_word *a, const bnn_word *b, size_t words,
                                          size_t reps);
#ifdef BNN_ARCH_X86
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
#endif

#endif
