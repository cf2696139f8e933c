/* records.h - internal to the format layer: the layer and tensor records of
 * a .bnn file as decoded by reader.c (structurally valid) and given meaning
 * by bind_layers.c (checked against their inputs, bound to their tensors). */
#ifndef PYBNN_FORMAT_RECORDS_H
#define PYBNN_FORMAT_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "format/graph.h"

#define BNN_NO_TENSOR 0xFFFFFFFFu

typedef struct bnn_tensor_rec {
    uint32_t dtype, rank, dims[4];
    uint64_t offset, size; /* offset from the start of the payload */
    const unsigned char *data;
    uint32_t used_by;      /* layer index + 1; 0 while unused */
} bnn_tensor_rec;

typedef struct bnn_layer_rec {
    uint32_t type, units, kernel_h, kernel_w, stride_h, stride_w, padding, pad_value;
    uint32_t tensor[4];
} bnn_layer_rec;

/* bind_layers.c: check each layer against its input and bind it to its
 * tensors (marking them used); fills g->layers, g->num_classes. */
bnn_status bnn_graph_bind_layers(bnn_graph *g, const bnn_layer_rec *layers,
                                 bnn_tensor_rec *tensors, uint32_t n_tensors);

const char *bnn_dtype_name(uint32_t dtype);
/* "(a, b, c)" into buf, for messages. */
void bnn_format_dims(char *buf, size_t len, const uint64_t *dims, uint32_t rank);
/* How many tensor slots a layer type uses. */
uint32_t bnn_layer_slots(uint32_t type);

/* The layer being checked, for messages and tensor binding. */
typedef struct bnn_layer_ctx {
    uint32_t index;
    const char *name;
    bnn_tensor_rec *tensors;
    uint32_t n_tensors;
} bnn_layer_ctx;

/* checks.c: fields in range for the type, unused ones zero, unused
 * slots empty; and the input's domain and rank accepted. */
bnn_status bnn_check_layer_fields(const bnn_layer_ctx *c, const bnn_layer_rec *r);
bnn_status bnn_check_layer_input(const bnn_layer_ctx *c, const bnn_layer_rec *r,
                                 const bnn_act_shape *in);

#endif
