/* bind_layers.c - the semantic half of the .bnn reader (docs/FORMAT.md):
 * walks the layers from the input, checks each record (checks.c) and
 * that the layer accepts the domain and rank its predecessor produces,
 * computes its output shape and limits, and binds its tensor slots (dtype,
 * exact dims, padding bits of packed weights, flip values; each tensor used
 * once). */
#include <stdlib.h>

#include "common/errors.h"
#include "format/records.h"

/* Bind slot `slot` to a tensor of `dtype` with exactly `dims`; returns its data. */
static bnn_status bind_tensor(const bnn_layer_ctx *c, const bnn_layer_rec *r, uint32_t slot,
                              const char *what, uint32_t dtype, uint32_t rank,
                              const uint64_t *dims, const void **out)
{
    uint32_t ti = r->tensor[slot];
    if (ti >= c->n_tensors)
        return bnn_fail(BNN_ERR_FORMAT, "layer %u (%s): tensor[%u] (%s): index %u is not "
                        "below n_tensors = %u", c->index, c->name, slot, what, ti, c->n_tensors);
    bnn_tensor_rec *t = &c->tensors[ti];
    if (t->used_by)
        return bnn_fail(BNN_ERR_FORMAT, "layer %u (%s): tensor[%u] (%s): tensor %u is already "
                        "used by layer %u (each tensor belongs to one slot)", c->index, c->name,
                        slot, what, ti, t->used_by - 1);
    char want[96], got[96];
    uint64_t got_dims[4];
    for (uint32_t i = 0; i < 4; i++)
        got_dims[i] = t->dims[i];
    int same = t->dtype == dtype && t->rank == rank;
    for (uint32_t i = 0; same && i < rank; i++)
        same = got_dims[i] == dims[i];
    if (!same) {
        bnn_format_dims(want, sizeof want, dims, rank);
        bnn_format_dims(got, sizeof got, got_dims, t->rank);
        return bnn_fail(BNN_ERR_FORMAT, "layer %u (%s): tensor %u (%s) is %s %s, expected %s %s",
                        c->index, c->name, ti, what, bnn_dtype_name(t->dtype), got,
                        bnn_dtype_name(dtype), want);
    }
    t->used_by = c->index + 1;
    *out = t->data;
    return BNN_OK;
}

/* Packed rows of `bits` valid bits in `words` words: padding bits must be 0. */
static bnn_status check_padding_bits(const bnn_layer_ctx *c, uint32_t ti, const bnn_word *w,
                                     size_t rows, size_t words, size_t bits)
{
    if (bits % BNN_WORD_BITS == 0)
        return BNN_OK;
    bnn_word pad = ~(((bnn_word)1 << (bits % BNN_WORD_BITS)) - 1);
    for (size_t r = 0; r < rows; r++)
        if (w[r * words + words - 1] & pad)
            return bnn_fail(BNN_ERR_FORMAT, "layer %u (%s): tensor %u (weights): row %zu has "
                            "padding bits set (bits %zu..%zu of the row must be 0)", c->index,
                            c->name, ti, r, bits,
                            words * BNN_WORD_BITS - 1);
    return BNN_OK;
}

/* Output size of a window along one axis; pad_before for `same`. */
static bnn_status window_axis(const bnn_layer_ctx *c, const char *axis, size_t in, uint32_t k,
                              uint32_t s, int same, size_t *out, size_t *pad_before)
{
    if (same) {
        *out = (in + s - 1) / s;
        uint64_t need = (uint64_t)(*out - 1) * s + k;
        *pad_before = need > in ? (size_t)((need - in) / 2) : 0;
        return BNN_OK;
    }
    if (k > in)
        return bnn_fail(BNN_ERR_FORMAT, "layer %u (%s): kernel_%s = %u is larger than the "
                        "input %s %zu (valid padding gives no output)", c->index, c->name,
                        axis, k, *axis == 'h' ? "height" : "width", in);
    *out = (in - k) / s + 1;
    *pad_before = 0;
    return BNN_OK;
}

static bnn_status bind_weights(const bnn_layer_ctx *c, const bnn_layer_rec *r, bnn_layer *l)
{
    int conv = r->type == BNN_LAYER_FIRST_CONV || r->type == BNN_LAYER_CONV;
    int first = r->type == BNN_LAYER_FIRST_CONV || r->type == BNN_LAYER_FIRST_DENSE;
    size_t bits = l->in.c; /* C per pixel (conv), or F (dense) */
    uint64_t words = bnn_words_for(bits);
    uint64_t dims[4] = {l->units, l->kh, l->kw, words};
    if (!conv)
        dims[1] = words;
    uint64_t k = conv ? (uint64_t)l->kh * l->kw * l->in.c : l->in.c;
    uint64_t k_max = first ? BNN_MAX_K_FIRST : BNN_MAX_K_BINARY;
    if (k > k_max)
        return bnn_fail(BNN_ERR_FORMAT, "layer %u (%s): K = %llu products per output exceeds "
                        "the limit %llu", c->index, c->name, (unsigned long long)k,
                        (unsigned long long)k_max);
    const void *data;
    bnn_status st = bind_tensor(c, r, 0, "weights", BNN_DTYPE_BITS, conv ? 4 : 2, dims, &data);
    if (st != BNN_OK)
        return st;
    l->weights = data;
    l->k = (size_t)k;
    l->row_words = conv ? (size_t)(l->kh * l->kw * words) : (size_t)words;
    size_t rows = conv ? l->units * l->kh * l->kw : l->units;
    return check_padding_bits(c, r->tensor[0], l->weights, rows, (size_t)words, bits);
}

static bnn_status bind_per_channel(const bnn_layer_ctx *c, const bnn_layer_rec *r, bnn_layer *l)
{
    uint64_t dims[1] = {l->in.c};
    const void *a, *b;
    int thr = r->type == BNN_LAYER_THRESHOLD;
    bnn_status st = bind_tensor(c, r, 0, thr ? "thresholds" : "scale",
                                thr ? BNN_DTYPE_I32 : BNN_DTYPE_F32, 1, dims, &a);
    if (st == BNN_OK)
        st = bind_tensor(c, r, 1, thr ? "flip" : "bias", thr ? BNN_DTYPE_U8 : BNN_DTYPE_F32, 1,
                         dims, &b);
    if (st != BNN_OK)
        return st;
    if (!thr) {
        l->scale = a;
        l->bias = b;
        return BNN_OK;
    }
    l->thresholds = a;
    l->flip = b;
    for (size_t i = 0; i < l->in.c; i++)
        if (l->flip[i] > 1)
            return bnn_fail(BNN_ERR_FORMAT, "layer %u (threshold): tensor %u (flip): "
                            "flip[%zu] = %u, expected 0 or 1", c->index, r->tensor[1], i,
                            l->flip[i]);
    return BNN_OK;
}

/* Fill l (fields, geometry, tensors) from r given its input shape. */
static bnn_status bind_layer(const bnn_layer_ctx *c, const bnn_layer_rec *r, bnn_layer *l)
{
    bnn_status st = bnn_check_layer_fields(c, r);
    if (st == BNN_OK)
        st = bnn_check_layer_input(c, r, &l->in);
    if (st != BNN_OK)
        return st;
    l->type = r->type;
    l->units = r->units;
    l->kh = r->kernel_h;
    l->kw = r->kernel_w;
    l->sh = r->stride_h;
    l->sw = r->stride_w;
    l->same = r->padding == 1;
    l->pad_zero = r->pad_value == 1;
    l->out = l->in;
    switch (r->type) {
    case BNN_LAYER_FIRST_CONV: case BNN_LAYER_CONV: case BNN_LAYER_MAXPOOL:
        st = window_axis(c, "h", l->in.h, r->kernel_h, r->stride_h, l->same, &l->out.h,
                         &l->pad_top);
        if (st == BNN_OK)
            st = window_axis(c, "w", l->in.w, r->kernel_w, r->stride_w, l->same, &l->out.w,
                             &l->pad_left);
        if (r->type != BNN_LAYER_MAXPOOL) {
            l->out.domain = BNN_DOMAIN_INT;
            l->out.c = l->units;
        }
        break;
    case BNN_LAYER_FIRST_DENSE: case BNN_LAYER_DENSE:
        l->out.domain = BNN_DOMAIN_INT;
        l->out.c = l->units;
        break;
    case BNN_LAYER_THRESHOLD: l->out.domain = BNN_DOMAIN_BITS; break;
    case BNN_LAYER_FLATTEN:
        l->out.rank = 1;
        l->out.h = l->out.w = 1;
        l->out.c = l->in.h * l->in.w * l->in.c;
        break;
    case BNN_LAYER_AFFINE: l->out.domain = BNN_DOMAIN_SCORES; break;
    }
    if (st == BNN_OK && (uint64_t)l->out.h * l->out.w * l->out.c > BNN_MAX_ELEMENTS)
        st = bnn_fail(BNN_ERR_FORMAT, "layer %u (%s): output of %zu x %zu x %zu elements per "
                      "sample exceeds the limit 2^31", c->index, c->name, l->out.h, l->out.w,
                      l->out.c);
    if (st != BNN_OK)
        return st;
    if (bnn_layer_slots(r->type) == 1)
        return bind_weights(c, r, l);
    if (bnn_layer_slots(r->type) == 2)
        return bind_per_channel(c, r, l);
    return BNN_OK;
}

bnn_status bnn_graph_bind_layers(bnn_graph *m, const bnn_layer_rec *recs,
                                 bnn_tensor_rec *tensors, uint32_t n_tensors)
{
    m->layers = calloc(m->n_layers, sizeof *m->layers);
    if (!m->layers)
        return bnn_fail(BNN_ERR_NOMEM, "out of memory for %u layers", m->n_layers);
    bnn_act_shape cur = m->input;
    for (uint32_t i = 0; i < m->n_layers; i++) {
        bnn_layer_ctx c = {i, bnn_layer_type_name(recs[i].type), tensors, n_tensors};
        if (recs[i].type < BNN_LAYER_FIRST_DENSE || recs[i].type > BNN_LAYER_AFFINE)
            return bnn_fail(BNN_ERR_FORMAT, "layer %u: type: expected 1..8 (first_dense, "
                            "first_conv, conv, dense, maxpool, threshold, flatten, affine), "
                            "got %u", i, recs[i].type);
        int last = i + 1 == m->n_layers;
        if ((recs[i].type == BNN_LAYER_AFFINE) != last)
            return bnn_fail(BNN_ERR_FORMAT, last ? "layer %u (%s): the last layer must be "
                            "affine (the scores)" : "layer %u (%s): affine may only be the "
                            "last layer", i, c.name);
        m->layers[i].in = cur;
        bnn_status st = bind_layer(&c, &recs[i], &m->layers[i]);
        if (st != BNN_OK)
            return st;
        cur = m->layers[i].out;
    }
    m->num_classes = cur.c;
    return BNN_OK;
}
