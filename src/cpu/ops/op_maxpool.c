/* op_maxpool.c - maxpool (valid): on int the maximum; on bits the maximum of
 * +-1 values, which is the AND of the bits (-1 is bit 1: the max is -1 only
 * if every value is -1). Inner loops run over channels (contiguous). A pool
 * on int followed by a threshold (the paper's conv -> pool -> BN -> sign)
 * runs as one pass that never stores the pooled sums. */
#include <string.h>

#include "cpu/ops/ops.h"

/* acc[k] = max(acc[k], p[k]), in chunks of 64 so the loop has a constant
 * trip count (vectorised even at -O2). */
static void max_into(int32_t *restrict acc, const int32_t *restrict p, size_t c)
{
    size_t k = 0;
    for (; k + 64 <= c; k += 64)
        for (size_t i = 0; i < 64; i++)
            acc[k + i] = p[k + i] > acc[k + i] ? p[k + i] : acc[k + i];
    for (; k < c; k++)
        acc[k] = p[k] > acc[k] ? p[k] : acc[k];
}

static void maxpool_int(const bnn_layer *l, const int32_t *in, int32_t *out, size_t n)
{
    size_t h = l->in.h, w = l->in.w, c = l->in.c;
    for (size_t s = 0; s < n; s++) {
        const int32_t *x = in + s * h * w * c;
        for (size_t oy = 0; oy < l->out.h; oy++)
            for (size_t ox = 0; ox < l->out.w; ox++, out += c) {
                const int32_t *first = x + (oy * l->sh * w + ox * l->sw) * c;
                memcpy(out, first, c * sizeof *out);
                for (size_t i = 0; i < l->kh; i++)
                    for (size_t j = 0; j < l->kw; j++)
                        max_into(out, first + (i * w + j) * c, c);
            }
    }
}

/* Pool, then the fused threshold step `thr`, in one pass; overwrites `in`. */
static void maxpool_int_threshold(const bnn_layer *l, const bnn_step *thr, int32_t *in,
                                  bnn_word *out, size_t n)
{
    size_t h = l->in.h, w = l->in.w, c = l->in.c, wc = bnn_words_for(c);
    for (size_t s = 0; s < n; s++) {
        int32_t *x = in + s * h * w * c;
        for (size_t oy = 0; oy < l->out.h; oy++)
            for (size_t ox = 0; ox < l->out.w; ox++, out += wc) {
                /* The window's top-left pixel takes the maximum: the input
                 * is a workspace buffer nothing reads after this layer, and
                 * a window's top-left pixel lies in no window that comes
                 * later in raster order, so no later window sees it. */
                int32_t *first = x + (oy * l->sh * w + ox * l->sw) * c;
                for (size_t i = 0; i < l->kh; i++)
                    for (size_t j = 0; j < l->kw; j++)
                        if (i || j)
                            max_into(first, first + (i * w + j) * c, c);
                bnn_threshold_rows(thr, first, c, 1, 0, c, out, wc);
            }
    }
}

static void maxpool_bits(const bnn_layer *l, const bnn_word *in, bnn_word *out, size_t n)
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

static void run_samples(const bnn_step *s, const void *in, void *out, size_t n)
{
    if (s->threshold) /* in is an int workspace buffer: the op may overwrite it */
        maxpool_int_threshold(s->layer, s->threshold, (int32_t *)in, out, n);
    else if (s->layer->in.domain == BNN_DOMAIN_BITS)
        maxpool_bits(s->layer, in, out, n);
    else
        maxpool_int(s->layer, in, out, n);
}

const bnn_op bnn_op_maxpool = {.run_samples = run_samples};
