/* checks.c - the per-record checks of the .bnn reader's semantic half
 * (docs/FORMAT.md): which fields each layer type uses and their ranges,
 * whether a layer accepts its input's domain and rank, and the names and
 * shapes its messages print. bind_layers.c walks the layers with these. */
#include <stdio.h>

#include "common/errors.h"
#include "format/records.h"

const char *bnn_layer_type_name(uint32_t type)
{
    static const char *names[] = {"unknown", "first_dense", "first_conv", "conv", "dense",
                                  "maxpool", "threshold",   "flatten",    "affine"};
    return type <= BNN_LAYER_AFFINE ? names[type] : names[0];
}

static const char *domain_name(bnn_domain d)
{
    switch (d) {
    case BNN_DOMAIN_U8: return "u8";
    case BNN_DOMAIN_INT: return "int";
    case BNN_DOMAIN_BITS: return "bits";
    case BNN_DOMAIN_SCORES: return "scores";
    }
    return "?";
}

const char *bnn_dtype_name(uint32_t dtype)
{
    static const char *names[] = {"?", "bits", "i32", "f32", "u8"};
    return dtype <= BNN_DTYPE_U8 ? names[dtype] : names[0];
}

/* "(a, b, c)" for messages. */
void bnn_format_dims(char *buf, size_t len, const uint64_t *dims, uint32_t rank)
{
    int n = snprintf(buf, len, "(");
    for (uint32_t i = 0; i < rank && n > 0 && (size_t)n < len; i++)
        n += snprintf(buf + n, len - n, i ? ", %llu" : "%llu", (unsigned long long)dims[i]);
    if (n > 0 && (size_t)n < len)
        snprintf(buf + n, len - n, rank == 1 ? ",)" : ")");
}

static void format_shape(char *buf, size_t len, const bnn_act_shape *s)
{
    uint64_t dims[3] = {s->h, s->w, s->c};
    int n = snprintf(buf, len, "%s ", domain_name(s->domain));
    if (s->rank == 1)
        bnn_format_dims(buf + n, len - n, &dims[2], 1);
    else
        bnn_format_dims(buf + n, len - n, dims, 3);
}

/* How many tensor slots each type uses (docs/FORMAT.md, table of types). */
uint32_t bnn_layer_slots(uint32_t type)
{
    switch (type) {
    case BNN_LAYER_FIRST_DENSE: case BNN_LAYER_FIRST_CONV: case BNN_LAYER_CONV:
    case BNN_LAYER_DENSE: return 1;
    case BNN_LAYER_THRESHOLD: case BNN_LAYER_AFFINE: return 2;
    }
    return 0;
}

static bnn_status field_zero(const bnn_layer_ctx *c, const char *field, uint32_t value)
{
    if (value != 0)
        return bnn_fail(BNN_ERR_FORMAT, "layer %u (%s): %s: unused by this type, must be 0, "
                        "got %u", c->index, c->name, field, value);
    return BNN_OK;
}

static bnn_status field_range(const bnn_layer_ctx *c, const char *field, uint32_t value,
                              uint32_t lo, uint32_t hi)
{
    if (value < lo || value > hi)
        return bnn_fail(BNN_ERR_FORMAT, "layer %u (%s): %s: expected %u..%u, got %u", c->index,
                        c->name, field, lo, hi, value);
    return BNN_OK;
}

/* The fields each type uses are in range; the others are 0; unused tensor
 * slots hold BNN_NO_TENSOR. */
bnn_status bnn_check_layer_fields(const bnn_layer_ctx *c, const bnn_layer_rec *r)
{
    uint32_t t = r->type;
    int has_units = t >= BNN_LAYER_FIRST_DENSE && t <= BNN_LAYER_DENSE;
    int has_window = t == BNN_LAYER_FIRST_CONV || t == BNN_LAYER_CONV || t == BNN_LAYER_MAXPOOL;
    int has_padding = t == BNN_LAYER_FIRST_CONV || t == BNN_LAYER_CONV;
    bnn_status st = has_units ? field_range(c, "units", r->units, 1, BNN_MAX_UNITS)
                              : field_zero(c, "units", r->units);
    const char *names[4] = {"kernel_h", "kernel_w", "stride_h", "stride_w"};
    uint32_t values[4] = {r->kernel_h, r->kernel_w, r->stride_h, r->stride_w};
    for (int i = 0; i < 4 && st == BNN_OK; i++)
        st = has_window ? field_range(c, names[i], values[i], 1, BNN_MAX_KERNEL)
                        : field_zero(c, names[i], values[i]);
    if (st == BNN_OK)
        st = has_padding ? field_range(c, "padding (0 valid, 1 same)", r->padding, 0, 1)
                         : field_zero(c, "padding", r->padding);
    if (st == BNN_OK)
        st = t == BNN_LAYER_CONV ? field_range(c, "pad_value (0 one, 1 zero)", r->pad_value, 0, 1)
                                 : field_zero(c, "pad_value", r->pad_value);
    for (uint32_t s = bnn_layer_slots(t); s < 4 && st == BNN_OK; s++)
        if (r->tensor[s] != BNN_NO_TENSOR)
            st = bnn_fail(BNN_ERR_FORMAT, "layer %u (%s): tensor[%u]: this type uses %u "
                          "slot(s), unused slots must be 0xFFFFFFFF, got %u", c->index, c->name,
                          s, bnn_layer_slots(t), r->tensor[s]);
    return st;
}

/* Does the layer accept its input's domain and rank? */
bnn_status bnn_check_layer_input(const bnn_layer_ctx *c, const bnn_layer_rec *r,
                                 const bnn_act_shape *in)
{
    int ok;
    const char *want;
    switch (r->type) {
    case BNN_LAYER_FIRST_DENSE: ok = in->domain == BNN_DOMAIN_U8 && in->rank == 1;
        want = "u8 of rank 1"; break;
    case BNN_LAYER_FIRST_CONV: ok = in->domain == BNN_DOMAIN_U8 && in->rank == 3;
        want = "u8 of rank 3"; break;
    case BNN_LAYER_CONV: ok = in->domain == BNN_DOMAIN_BITS && in->rank == 3;
        want = "bits of rank 3"; break;
    case BNN_LAYER_DENSE: ok = in->domain == BNN_DOMAIN_BITS && in->rank == 1;
        want = "bits of rank 1"; break;
    case BNN_LAYER_MAXPOOL:
        ok = (in->domain == BNN_DOMAIN_INT || in->domain == BNN_DOMAIN_BITS) && in->rank == 3;
        want = "int or bits of rank 3"; break;
    case BNN_LAYER_THRESHOLD: ok = in->domain == BNN_DOMAIN_INT;
        want = "int"; break;
    case BNN_LAYER_FLATTEN: ok = in->domain != BNN_DOMAIN_SCORES && in->rank == 3;
        want = "u8, int or bits of rank 3"; break;
    default: ok = in->domain == BNN_DOMAIN_INT && in->rank == 1;
        want = "int of rank 1"; break;
    }
    if (ok)
        return BNN_OK;
    char got[96];
    format_shape(got, sizeof got, in);
    return bnn_fail(BNN_ERR_FORMAT, "layer %u (%s): expects %s as input, but %s gives %s",
                    c->index, c->name, want, c->index ? "the previous layer" : "the model input",
                    got);
}
