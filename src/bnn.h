/* bnn.h - the public C API of pybnn's runtime. Portable C99, no Python.
 *
 * Every function returns a bnn_status; the library never aborts. On error,
 * bnn_last_error() gives a message naming what was expected and what came
 * (thread-local, valid until the next call on the same thread).
 */
#ifndef PYBNN_BNN_H
#define PYBNN_BNN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Values are part of the ABI: never renumber, only append. */
typedef enum bnn_status {
    BNN_OK = 0,
    BNN_ERR_ARGUMENT = 1,    /* a bad argument: NULL, zero or absurd size */
    BNN_ERR_NOMEM = 2,       /* an allocation failed */
    BNN_ERR_FORMAT = 3,      /* a .bnn file is malformed */
    BNN_ERR_IO = 4,          /* a file could not be read */
    BNN_ERR_SHAPE = 5,       /* input shape does not match the model */
    BNN_ERR_UNSUPPORTED = 6, /* a valid request this build cannot serve */
    BNN_ERR_THREAD = 7       /* a worker thread could not be started */
} bnn_status;

const char *bnn_status_string(bnn_status status);
const char *bnn_last_error(void);

/* ---- kernels ---------------------------------------------------------- */

/* C[i*n + j] = sum_t A[i,t] * B[j,t] over k values in +-1 arithmetic.
 * a: m rows, b: n rows, each bnn_words_for(k) words with zero padding.
 * threads <= 0 means bnn_default_threads(). Results do not depend on threads. */
bnn_status bnn_bgemm(const uint64_t *a, const uint64_t *b, int32_t *c,
                     size_t m, size_t n, size_t k, int threads);

/* B prepared once for many products (a layer's weights, the same B against
 * many A): bnn_prepare_b copies b's n rows of k values and, where the kernel
 * set in use has one (AVX-512), lays them out in its panel form, which every
 * bnn_bgemm_prepared call then reads as it is, where bnn_bgemm lays B out
 * per call (or, with one row of A, reduces each output across vector lanes).
 * Results equal bnn_bgemm's on b, for every kernel set and thread count.
 * *out is NULL on error; free with bnn_prepared_b_free (NULL is a no-op). */
typedef struct bnn_prepared_b bnn_prepared_b;
bnn_status bnn_prepare_b(const uint64_t *b, size_t n, size_t k, bnn_prepared_b **out);
/* C (m x n, n = the prepared rows) = A . B^T as bnn_bgemm, A with m rows. */
bnn_status bnn_bgemm_prepared(const uint64_t *a, const bnn_prepared_b *b, int32_t *c, size_t m,
                              int threads);
void bnn_prepared_b_free(bnn_prepared_b *b);

/* Threads a bnn_bgemm or bnn_bgemm_prepared of this shape runs on when
 * given `threads` (<= 0: bnn_default_threads()): fewer for small products,
 * where a helper thread would cost more than it saves (at least 2^16
 * 64-bit word operations each). */
int bnn_bgemm_threads(size_t m, size_t n, size_t k, int threads);

/* Pack rows x rows of k values into rows x bnn_words_for(k) words (bit 1 where x < 0). */
bnn_status bnn_pack_f32(const float *x, size_t rows, size_t k, uint64_t *out);
bnn_status bnn_pack_f64(const double *x, size_t rows, size_t k, uint64_t *out);
bnn_status bnn_pack_i8(const int8_t *x, size_t rows, size_t k, uint64_t *out);
bnn_status bnn_pack_i32(const int32_t *x, size_t rows, size_t k, uint64_t *out);
/* Unpack to +-1 int8; padding bits are ignored. */
bnn_status bnn_unpack_i8(const uint64_t *p, size_t rows, size_t k, int8_t *out);

/* ---- kernel selection and introspection ------------------------------- */

/* Name of the kernel set in use: "avx512", "avx2", "neon", "scalar". */
const char *bnn_isa(void);
/* Names of the kernel sets this CPU can run, best first; returns the count. */
int bnn_available_isas(const char **names, int max_names);
/* Force a kernel set (tests and benchmarks); BNN_ERR_UNSUPPORTED if this CPU
 * cannot run it. "ref" selects the reference oracle kernels. */
bnn_status bnn_select_isa(const char *name);
/* Threads used when a call asks for threads <= 0: the CPUs this process may
 * use, read on first use (and again in a forked child). */
int bnn_default_threads(void);

/* ---- models (.bnn, docs/FORMAT.md) ------------------------------------ */

typedef struct bnn_model bnn_model;

/* Load and fully validate a model. From a file: the file is memory-mapped
 * (tensors are used in place). From memory: the bytes are copied, so the
 * caller may free `data` afterwards. On error *out is NULL and
 * bnn_last_error() names the offending field. */
bnn_status bnn_model_load_file(const char *path, bnn_model **out);
bnn_status bnn_model_load_memory(const void *data, size_t size, bnn_model **out);
void bnn_model_free(bnn_model *model);

/* Input: uint8, rank 1 (features,) or 3 (H, W, C); dims[] gets `rank` values. */
size_t bnn_model_input_rank(const bnn_model *model);
void bnn_model_input_dims(const bnn_model *model, size_t dims[3]);
size_t bnn_model_input_size(const bnn_model *model); /* values per sample */
size_t bnn_model_num_classes(const bnn_model *model);

/* Default thread count for runs that pass threads <= 0 (0 = all CPUs). */
void bnn_model_set_threads(bnn_model *model, int threads);

/* Bytes of working memory a run of `batch` samples allocates (besides the
 * caller's input and scores): activations and scratch of one chunk of
 * samples. Grows with batch up to a cap, and is large for big inputs with
 * few channels (a 64-bit word per pixel). 0 when model is NULL. */
uint64_t bnn_model_workspace_bytes(const bnn_model *model, size_t batch);
/* A run that needs more than the limit fails with BNN_ERR_NOMEM, naming the
 * need and the limit, before it allocates. bytes = 0 restores the default:
 * PYBNN_WORKSPACE_LIMIT (bytes, or with a K, M or G suffix; read once) if
 * set, else half of physical memory. */
void bnn_model_set_workspace_limit(bnn_model *model, uint64_t bytes);
/* The limit in force. BNN_ERR_ARGUMENT if PYBNN_WORKSPACE_LIMIT is set but
 * is not a size (*out is then the built-in default). */
bnn_status bnn_model_workspace_limit(const bnn_model *model, uint64_t *out);

/* scores[batch][num_classes] = model(input[batch][input_size]).
 * Thread-safe: each call allocates its own workspace, so one model can be
 * run from several threads at once. threads <= 0: the model's default. */
bnn_status bnn_model_run(const bnn_model *model, const uint8_t *input, size_t batch,
                         float *scores, int threads);

#ifdef __cplusplus
}
#endif
#endif
