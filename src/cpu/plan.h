/* plan.h - internal: the CPU backend's model. The validated graph
 * (format/graph.h) plus, per layer, a step: the op that runs it and the
 * tables made for it at load (plan.c). bnn.h's bnn_model is this struct.
 *
 * Activations of one sample, by domain (the layout every op reads/writes):
 *   u8:   H*W*C bytes (rank 1: F bytes), channels-last.
 *   int:  H*W*C int32, channels-last.
 *   bits: H*W pixels of bnn_words_for(C) words each (rank 1: bnn_words_for(F)
 *         words), packed along C with zero padding bits (common/bitpack.h).
 *   scores: C float32.
 * A batch is the samples one after another. */
#ifndef PYBNN_CPU_PLAN_H
#define PYBNN_CPU_PLAN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "format/graph.h"

struct bnn_op;

typedef struct bnn_step {
    const bnn_layer *layer;          /* the graph's layer */
    const struct bnn_op *op;         /* cpu/ops/ops.h */
    bnn_act_shape in, out;           /* what the step reads and stores: the layer's
                                        shapes, but bits where a fused threshold
                                        makes them so (plan.c) */
    const struct bnn_step *threshold; /* weighted steps: a threshold step that runs
                                        in the product's epilogue (no int32 sum is
                                        ever stored); else NULL */
    int skip;                        /* nothing to run: fused into the previous
                                        step, or a flatten that is a plain reshape */
    /* Tables made at load by the op's prepare (owned, freed with the plan). */
    const int8_t *u8_panel;          /* first layers: the +-1 weights as a u8gemm panel
                                        (cpu/kernels/kernels.h), 64-byte aligned */
    void *u8_panel_alloc;            /* the allocation u8_panel lies in */
    int32_t *tap_sums;               /* conv with pad zero: sum of +-1 weights per tap, unit */
    int32_t *thr_mask;               /* threshold: 0 or -1 (flip), per channel */
    int32_t *thr_key;                /* threshold: t XOR mask, per channel */
    bnn_word *pool_flip;             /* maxpool run on a fused threshold's bits: one
                                        pixel's words, bit c set where channel c's
                                        threshold flips (op_maxpool.c) */
} bnn_step;

struct bnn_model {
    /* The bytes: memory-mapped (mapping != NULL) or an owned aligned copy. */
    void *mapping;
    size_t mapping_size;
    void *owned_raw;
    const unsigned char *data;
    size_t size;

    bnn_graph graph;
    bnn_step *steps;       /* one per graph layer */
    int threads;
    uint64_t workspace_limit; /* bytes a run may take; 0: the default (workspace_limit.c) */
    size_t max_act_bytes;  /* largest stored activation of one sample, in bytes */

    /* One workspace kept between runs (run.c), so repeated calls do not pay
     * for fresh pages each time. A run that finds it busy (another thread)
     * or too small allocates its own. Guarded by cache_lock. */
    pthread_mutex_t cache_lock;
    void *cache;
    size_t cache_bytes;
    int cache_busy;
};

/* Per-sample byte size of an activation shape (the layout above). */
static inline size_t bnn_act_bytes(const bnn_act_shape *s)
{
    switch (s->domain) {
    case BNN_DOMAIN_U8: return s->h * s->w * s->c;
    case BNN_DOMAIN_BITS: return s->h * s->w * bnn_words_for(s->c) * sizeof(bnn_word);
    default: return s->h * s->w * s->c * 4; /* int32 or float32 */
    }
}

/* plan.c: the steps for m->graph (ops, tables, fusions, buffer sizes). */
bnn_status bnn_plan_build(struct bnn_model *m);
void bnn_plan_release(struct bnn_model *m);

#endif
