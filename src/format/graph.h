/* graph.h - internal: a .bnn model as the format layer yields it, validated
 * and backend-neutral: layers with their shapes and tensors (in place in
 * the file's bytes). Not part of the public API; backends plan from it. */
#ifndef PYBNN_GRAPH_H
#define PYBNN_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "bnn.h"
#include "common/bitpack.h"

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

/* One validated layer: the file's fields given meaning, its input and
 * output shapes, and its tensors in place in the file's bytes. Backends
 * (src/cpu/, pybnn/backends/) build what they run from this; nothing here
 * belongs to any of them. */
typedef struct bnn_layer {
    uint32_t type;
    bnn_act_shape in, out;
    size_t units, kh, kw, sh, sw;
    int same;               /* padding: 0 valid, 1 same */
    int pad_zero;           /* conv pad_value: 1 = zero (needs the correction) */
    size_t pad_top, pad_left; /* computed from the geometry (same padding) */
    size_t k;               /* true products per output: F or kh*kw*C */
    size_t row_words;       /* words per packed weight row: ceil(F/64) or kh*kw*ceil(C/64) */
    const bnn_word *weights; /* (units, row_words), in the file */
    const int32_t *thresholds;
    const uint8_t *flip;
    const float *scale, *bias;
} bnn_layer;

/* A validated model: the input, then the layers in order. */
typedef struct bnn_graph {
    uint32_t n_layers;
    bnn_layer *layers;      /* owned; tensors point into the bytes read */
    bnn_act_shape input;
    size_t input_size, num_classes;
} bnn_graph;

/* reader.c: validate data[0, size) completely (docs/FORMAT.md) and fill `g`,
 * its tensors pointing into `data` (which must outlive it). On error `g` is
 * left released. */
bnn_status bnn_graph_read(bnn_graph *g, const unsigned char *data, size_t size);
void bnn_graph_release(bnn_graph *g);

/* Printable name of a layer type (for messages), "unknown" otherwise. */
const char *bnn_layer_type_name(uint32_t type);

#endif
