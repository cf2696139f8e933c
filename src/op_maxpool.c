/* op_maxpool.c - maxpool (valid): on int the maximum; on bits the maximum of
 * +-1 values, which is the AND of the bits (-1 is bit 1: the max is -1 only
 * if every value is -1). Inner loops run over channels (contiguous). */
#include <string.h>

#include "ops.h"

void bnn_op_maxpool_int(const bnn_layer *l, const int32_t *in, int32_t *out, size_t n)
{
    size_t h = l->in.h, w = l->in.w, c = l->in.c;
    for (size_t s = 0; s < n; s++) {
        const int32_t *x = in + s * h * w * c;
        for (size_t oy = 0; oy < l->out.h; oy++)
            for (size_t ox = 0; ox < l->out.w; ox++, out += c) {
                const int32_t *first = x + (oy * l->sh * w + ox * l->sw) * c;
                memcpy(out, first, c * sizeof *out);
                for (size_t i = 0; i < l->kh; i++)
                    for (size_t j = 0; j < l->kw; j++) {
                        const int32_t *p = first + (i * w + j) * c;
                        for (size_t k = 0; k < c; k++)
                            out[k] = p[k] > out[k] ? p[k] : out[k];
                    }
            }
    }
}

void bnn_op_maxpool_bits(const bnn_layer *l, const bnn_word *in, bnn_word *out, size_t n)
{
    size_t h = l->in.h, w = l->in.w, wc = bnn_words_for(l->in.c);
    for (size_t s = 0; s < n; s++) {
        const bnn_word *x = in + s * h * w * wc;
        for (size_t oy = 0; oy < l->out.h; oy++)
            for (size_t ox = 0; ox < l->out.w; ox++, out += wc) {
                const bnn_word *first = x + (oy * l->sh * w + ox * l->sw) * wc;
                memcpy(out, first, wc * sizeof *out);
                for (size_t i = 0; i < l->kh; i++)
                    for (size_t j = 0; j < l->kw; j++) {
                        const bnn_word *p = first + (i * w + j) * wc;
                        for (size_t k = 0; k < wc; k++)
                            out[k] &= p[k];
                    }
            }
    }
}
