/* plan.c - the CPU backend's plan for a validated graph, made once at load:
 * per layer a step with its op (cpu/ops/ops.c) and the tables the op makes
 * for it (first-layer weight panels, zero-padding tap sums, threshold keys),
 * which thresholds run inside the step before them, and the largest
 * activation a run stores. */
#include <stdlib.h>

#include "common/errors.h"
#include "cpu/ops/ops.h"

/* The threshold layer that weighted layer i runs in its product's epilogue,
 * or 0 (none: layer 0 is never a threshold): the next layer, or the first
 * after a run of int maxpools (the paper's conv -> pool -> BN -> sign).
 * Those pools then run on the threshold's bits, which op_maxpool.c shows to
 * be exact. Either way no int32 sum reaches memory. */
static uint32_t fused_threshold(const bnn_graph *g, uint32_t i)
{
    uint32_t type = g->layers[i].type;
    if (type < BNN_LAYER_FIRST_DENSE || type > BNN_LAYER_DENSE)
        return 0;
    for (uint32_t t = i + 1; t < g->n_layers; t++) {
        if (g->layers[t].type == BNN_LAYER_THRESHOLD)
            return t;
        if (g->layers[t].type != BNN_LAYER_MAXPOOL)
            return 0;
    }
    return 0;
}

/* `shape` with its values as packed bits. */
static bnn_act_shape as_bits(bnn_act_shape shape)
{
    shape.domain = BNN_DOMAIN_BITS;
    return shape;
}

bnn_status bnn_plan_build(struct bnn_model *m)
{
    const bnn_graph *g = &m->graph;
    /* Sizes are checked in 64 bits: on a 32-bit board a valid model may
     * need more per-sample memory than the address space holds. */
    const uint64_t addressable = (uint64_t)SIZE_MAX / 4;
    m->steps = calloc(g->n_layers ? g->n_layers : 1, sizeof *m->steps);
    if (!m->steps)
        return bnn_fail(BNN_ERR_NOMEM, "out of memory for %u layers", g->n_layers);
    m->max_act_bytes = 0;
    uint32_t fused_to = 0; /* a threshold an earlier step runs; 0: none */
    for (uint32_t i = 0; i < g->n_layers; i++) {
        bnn_step *s = &m->steps[i];
        const bnn_layer *l = &g->layers[i];
        s->layer = l;
        s->op = bnn_op_for(l->type);
        if (!s->op) /* the reader accepts only known types */
            return bnn_fail(BNN_ERR_UNSUPPORTED, "layer %u: no CPU op for type %u", i, l->type);
        uint64_t act = (uint64_t)l->out.h * l->out.w * l->out.c * 4; /* int32: the largest */
        bnn_scratch_need need = bnn_op_scratch(s);
        if (act > addressable || need.fixed + need.per_sample > addressable)
            return bnn_fail(BNN_ERR_NOMEM, "layer %u (%s): needs %llu bytes of activations and "
                            "%llu of scratch per sample, more than this platform can address",
                            i, bnn_layer_type_name(l->type), (unsigned long long)act,
                            (unsigned long long)(need.fixed + need.per_sample));
        bnn_status st = s->op->prepare ? s->op->prepare(s, i) : BNN_OK;
        if (st != BNN_OK)
            return st;
        s->in = l->in;
        s->out = l->out;
        if (fused_to && i == fused_to) {
            s->skip = 1; /* ran in the weighted step before */
        } else if (fused_to && i < fused_to) { /* a pool between it and its threshold */
            s->in = as_bits(l->in);
            s->out = as_bits(l->out);
            st = bnn_maxpool_on_bits_prepare(s, &g->layers[fused_to], i);
            if (st != BNN_OK)
                return st;
        } else if ((fused_to = fused_threshold(g, i)) != 0) {
            s->threshold = &m->steps[fused_to];
            s->out = as_bits(l->out); /* a threshold keeps the shape */
        }
        if (s->skip)
            continue; /* stores nothing of its own */
        if (s->out.domain != BNN_DOMAIN_SCORES && bnn_act_bytes(&s->out) > m->max_act_bytes)
            m->max_act_bytes = bnn_act_bytes(&s->out);
    }
    return BNN_OK;
}

void bnn_plan_release(struct bnn_model *m)
{
    if (!m->steps)
        return;
    for (uint32_t i = 0; i < m->graph.n_layers; i++) {
        free(m->steps[i].u8_panel_alloc);
        free(m->steps[i].tap_sums);
        free(m->steps[i].thr_mask);
        free(m->steps[i].thr_key);
        free(m->steps[i].pool_flip);
    }
    free(m->steps);
    m->steps = NULL;
}
