/* op_affine.c - affine: scores_c = float32(s_c) * scale_c + bias_c in float32.
 * The product is stored through a volatile before the add so no compiler
 * fuses the two into one FMA (GCC does by default where FMA exists, e.g.
 * aarch64): two roundings, as NumPy computes it. The layer is tiny
 * (batch x classes), so the store costs nothing that matters. */
#include "cpu/ops/ops.h"

static void run_samples(const bnn_step *st, const void *vin, void *vout, size_t n)
{
    const bnn_layer *l = st->layer;
    const int32_t *in = vin;
    float *out = vout;
    size_t c = l->in.c;
    for (size_t s = 0; s < n; s++)
        for (size_t k = 0; k < c; k++) {
            volatile float product = (float)in[s * c + k] * l->scale[k];
            out[s * c + k] = product + l->bias[k];
        }
}

const bnn_op bnn_op_affine = {.run_samples = run_samples};
