/* model.h - internal: a loaded, validated .bnn model (docs/FORMAT.md) and
 * the per-layer data the executor and the ops use. Not part of the public API.
 *
 * Activations of one sample, by domain (the layout every op reads/writes):
 *   u8:   H*W*C bytes (rank 1: F bytes), channels-last.
 *   int:  H*W*C int32, channels-last.
 *   bits: H*W pixels of bnn_words_for(C) words each (rank 1: bnn_words_for(F)
 *         words), packed along C with zero padding bits (src/bitpack.h).
 * A batch is the samples one after another. */
#ifndef PYBNN_MODEL_H
#define PYBNN_MODEL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bitpack.h"
#include "bnn.h"

/* Layer type values: fixed forever by docs/FORMAT.md. */
enum {
    BNN_LAYER_FIRST_DENSE = 1,
    BNN_LAYER_FIRST_CONV = 2,
    BNN_LAYER_CONV = 3,
    BNN_LAYER_DENSE = 4,
    BNN_LAYER_MAXPOOL = 5,
    BNN_LAYER_THRESHOLD = 6,
    BNN_LAYER_FLATTEN = 7,
    BNN_LAYER_AFFINE = 8
};

/* Tensor dtypes (docs/FORMAT.md). */
enum { BNN_DTYPE_BITS = 1, BNN_DTYPE_I32 = 2, BNN_DTYPE_F32 = 3, BNN_DTYPE_U8 = 4 };

/* Limits a reader enforces (docs/FORMAT.md, "Limits"). */
#define BNN_MAX_LAYERS 1024u
#define BNN_MAX_TENSORS 4096u
#define BNN_MAX_DIM (1u << 24)
#define BNN_MAX_KERNEL 64u
#define BNN_MAX_UNITS (1u << 20)
#define BNN_MAX_ELEMENTS ((uint64_t)1 << 31)
#define BNN_MAX_K_BINARY ((uint64_t)1 << 30)
#define BNN_MAX_K_FIRST ((uint64_t)1 << 23)

typedef enum bnn_domain {
    BNN_DOMAIN_U8,
    BNN_DOMAIN_INT,
    BNN_DOMAIN_BITS,
    BNN_DOMAIN_SCORES
} bnn_domain;

/* One sample's activation shape. Rank 1 is stored as h = w = 1, c = F. */
typedef struct bnn_act_shape {
    bnn_domain domain;
    uint32_t rank;
    size_t h, w, c;
} bnn_act_shape;

typedef struct bnn_layer {
    uint32_t type;
    bnn_act_shape in, out;
    size_t units, kh, kw, sh, sw;
    int same;               /* padding: 0 valid, 1 same */
    int pad_zero;           /* conv pad_value: 1 = zero (needs the correction) */
    size_t pad_top, pad_left; /* computed from the geometry (same padding) */
    size_t k;               /* true products per output: F or kh*kw*C */
    size_t row_words;       /* words per weight row as the op uses it */
    const bnn_word *weights; /* (units, row_words): in the file, or `owned_weights` */
    const int32_t *thresholds;
    const uint8_t *flip;
    const float *scale, *bias;
    /* Derived at load (owned, freed with the model). */
    const int8_t *u8_panel;  /* first layers: the +-1 weights as a u8gemm panel
                                (kernels.h), K in (kh, kw, C) order, 64-byte aligned */
    void *u8_panel_alloc;    /* the allocation u8_panel lies in (what free() takes) */
    int32_t *tap_sums;       /* conv with pad zero: sum of +-1 weights per (unit, i, j) */
    int32_t *thr_mask;       /* threshold: 0 or -1 (flip), per channel */
    int32_t *thr_key;        /* threshold: t XOR mask, per channel */
    int fuses_threshold;     /* weighted layer or int maxpool whose next layer, a
                                threshold, runs inside it: its int32 output is
                                never stored */
} bnn_layer;

struct bnn_model {
    /* The bytes: memory-mapped (mapping != NULL) or an owned aligned copy. */
    void *mapping;
    size_t mapping_size;
    void *owned_raw;
    const unsigned char *data;
    size_t size;

    uint32_t n_layers;
    bnn_layer *layers;
    bnn_act_shape input;
    size_t input_size, num_classes;
    int threads;
    uint64_t workspace_limit; /* bytes a run may take; 0: the default (workspace_limit.c) */
    size_t max_act_bytes; /* largest activation of one sample, in bytes */

    /* One workspace kept between runs (model_run.c), so repeated calls do
     * not pay for fresh pages each time. A run that finds it busy (another
     * thread) or too small allocates its own. Guarded by cache_lock. */
    pthread_mutex_t cache_lock;
    void *cache;
    size_t cache_bytes;
    int cache_busy;
};

/* Per-sample byte size of an activation shape. */
size_t bnn_act_bytes(const bnn_act_shape *s);

/* model_reader.c: validate data[0, size) completely and fill `m` (layers
 * bound to tensors inside `data`, derived tables allocated). On error the
 * partially filled model is released with bnn_model_release_layers. */
bnn_status bnn_model_parse(struct bnn_model *m, const unsigned char *data, size_t size);
void bnn_model_release_layers(struct bnn_model *m);

#endif
