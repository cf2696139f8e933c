/* model_prepare.c - what the executor needs beyond the file, computed once
 * at load: first-layer weights as int8 panels (op_first_layer.c),
 * zero-padding tap sums for conv, threshold keys, and the per-sample
 * workspace sizes. */
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "format/records.h"
#include "cpu/ops/ops.h"

static int32_t popcount_row(const bnn_word *w, size_t words)
{
    int32_t count = 0;
    for (size_t i = 0; i < words; i++) {
        bnn_word x = w[i];
        while (x) {
            x &= x - 1;
            count++;
        }
    }
    return count;
}

static void *alloc_array(size_t count, size_t item, bnn_status *st, uint32_t index)
{
    void *p = count <= SIZE_MAX / item ? calloc(count ? count : 1, item) : NULL;
    if (!p)
        *st = bnn_fail(BNN_ERR_NOMEM, "layer %u: out of memory for %zu x %zu bytes of tables",
                       index, count, item);
    return p;
}

/* tap_sums[(i*kw + j)*units + u] = sum_c w[u][i][j][c] = C - 2 popcount. */
static bnn_status prepare_zero_padding(bnn_layer *l, uint32_t index)
{
    bnn_status st = BNN_OK;
    size_t taps = l->kh * l->kw, wc = bnn_words_for(l->in.c);
    l->tap_sums = alloc_array(taps * l->units, sizeof(int32_t), &st, index);
    if (!l->tap_sums)
        return st;
    for (size_t u = 0; u < l->units; u++)
        for (size_t t = 0; t < taps; t++)
            l->tap_sums[t * l->units + u] =
                (int32_t)l->in.c - 2 * popcount_row(l->weights + (u * taps + t) * wc, wc);
    return BNN_OK;
}

static bnn_status prepare_threshold(bnn_layer *l, uint32_t index)
{
    bnn_status st = BNN_OK;
    l->thr_mask = alloc_array(l->in.c, sizeof(int32_t), &st, index);
    l->thr_key = l->thr_mask ? alloc_array(l->in.c, sizeof(int32_t), &st, index) : NULL;
    if (!l->thr_key)
        return st;
    for (size_t c = 0; c < l->in.c; c++) {
        int32_t t;
        memcpy(&t, l->thresholds + c, sizeof t);
        l->thr_mask[c] = l->flip[c] ? -1 : 0;
        l->thr_key[c] = t ^ l->thr_mask[c];
    }
    return BNN_OK;
}

size_t bnn_act_bytes(const bnn_act_shape *s)
{
    switch (s->domain) {
    case BNN_DOMAIN_U8: return s->h * s->w * s->c;
    case BNN_DOMAIN_BITS: return s->h * s->w * bnn_words_for(s->c) * sizeof(bnn_word);
    default: return s->h * s->w * s->c * 4;
    }
}

bnn_status bnn_model_prepare(struct bnn_model *m)
{
    /* Sizes are checked in 64 bits: on a 32-bit board a valid model may
     * need more per-sample memory than the address space holds. */
    const uint64_t addressable = (uint64_t)SIZE_MAX / 4;
    m->max_act_bytes = 0;
    for (uint32_t i = 0; i < m->n_layers; i++) {
        bnn_layer *l = &m->layers[i];
        bnn_status st = BNN_OK;
        uint64_t act = (uint64_t)l->out.h * l->out.w * l->out.c * 4; /* int32: the largest */
        bnn_scratch_need need = bnn_op_scratch(l);
        if (act > addressable || need.fixed + need.per_sample > addressable)
            return bnn_fail(BNN_ERR_NOMEM, "layer %u (%s): needs %llu bytes of activations and "
                            "%llu of scratch per sample, more than this platform can address",
                            i, bnn_layer_type_name(l->type), (unsigned long long)act,
                            (unsigned long long)(need.fixed + need.per_sample));
        if (l->type == BNN_LAYER_FIRST_DENSE || l->type == BNN_LAYER_FIRST_CONV)
            st = bnn_first_layer_prepare(l, i);
        else if (l->type == BNN_LAYER_CONV && l->pad_zero && l->same)
            st = prepare_zero_padding(l, i);
        else if (l->type == BNN_LAYER_THRESHOLD)
            st = prepare_threshold(l, i);
        if (st != BNN_OK)
            return st;
        int weighted = l->type >= BNN_LAYER_FIRST_DENSE && l->type <= BNN_LAYER_DENSE;
        int int_pool = l->type == BNN_LAYER_MAXPOOL && l->in.domain == BNN_DOMAIN_INT;
        l->fuses_threshold = (weighted || int_pool) && i + 1 < m->n_layers &&
                             m->layers[i + 1].type == BNN_LAYER_THRESHOLD;
        if (l->fuses_threshold)
            continue; /* its output is never stored */
        if (l->out.domain != BNN_DOMAIN_SCORES && bnn_act_bytes(&l->out) > m->max_act_bytes)
            m->max_act_bytes = bnn_act_bytes(&l->out);
    }
    return BNN_OK;
}
