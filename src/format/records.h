/* model_records.h - internal: the layer and tensor records of a .bnn file as
 * decoded by model_reader.c (structurally valid) and given meaning by
 * model_layers.c. */
#ifndef PYBNN_MODEL_RECORDS_H
#define PYBNN_MODEL_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "format/model.h"

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

/* model_layers.c: check each layer against its input and bind it to its
 * tensors (marking them used); fills m->layers, m->num_classes. */
bnn_status bnn_model_bind_layers(struct bnn_model *m, const bnn_layer_rec *layers,
                                 bnn_tensor_rec *tensors, uint32_t n_tensors);

/* model_prepare.c: the tables derived at load (repacked first-conv weights,
 * weight popcounts, zero-padding tap sums, threshold keys) and the
 * per-sample workspace sizes. */
bnn_status bnn_model_prepare(struct bnn_model *m);

/* Printable name of a layer type (for messages), "unknown" otherwise. */
const char *bnn_layer_type_name(uint32_t type);
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

/* model_checks.c: fields in range for the type, unused ones zero, unused
 * slots empty; and the input's domain and rank accepted. */
bnn_status bnn_check_layer_fields(const bnn_layer_ctx *c, const bnn_layer_rec *r);
bnn_status bnn_check_layer_input(const bnn_layer_ctx *c, const bnn_layer_rec *r,
                                 const bnn_act_shape *in);

#endif
