/* op_maxpool.c - maxpool (valid): on int the maximum; on bits the maximum of
 * +-1 values, which is the AND of the bits (-1 is bit 1: the max is -1 only
 * if every value is -1). Inner loops run over channels (contiguous).
 *
 * Int pools followed by a threshold (the paper's conv -> pool -> BN -> sign)
 * run on bits: the weighted layer before them runs the threshold (plan.c),
 * and the pools run on its bits. That is exact because a threshold is
 * monotone per channel: with flip 0 the bit is 1 iff s < t, falling in s, so
 * the bit of the window's maximum is the AND of the window's bits; with
 * flip 1 (s > t, rising) it is their OR, i.e. AND on inverted bits,
 * inverted back. So: AND over the window of (bits XOR flip), XOR flip. */
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

/* flip: one pixel's words of channels to pool with OR (see the top), or NULL. */
static void maxpool_bits(const bnn_layer *l, const bnn_word *in, bnn_word *out, size_t n,
                         const bnn_word *flip)
{
    size_t h = l->in.h, w = l->in.w, wc = bnn_words_for(l->in.c);
    for (size_t s = 0; s < n; s++) {
        const bnn_word *x = in + s * h * w * wc;
        for (size_t oy = 0; oy < l->out.h; oy++)
            for (size_t ox = 0; ox < l->out.w; ox++, out += wc) {
                const bnn_word *first = x + (oy * l->sh * w + ox * l->sw) * wc;
                for (size_t k = 0; k < wc; k++)
                    out[k] = ~(bnn_word)0;
                for (size_t i = 0; i < l->kh; i++)
                    for (size_t j = 0; j < l->kw; j++) {
                        const bnn_word *p = first + (i * w + j) * wc;
                        for (size_t k = 0; k < wc; k++)
                            out[k] &= p[k] ^ (flip ? flip[k] : 0);
                    }
                for (size_t k = 0; k < wc && flip; k++)
                    out[k] ^= flip[k];
            }
    }
}

bnn_status bnn_maxpool_on_bits_prepare(bnn_step *s, const bnn_layer *thr, uint32_t index)
{
    bnn_status st = BNN_OK;
    size_t c = thr->in.c;
    s->pool_flip = bnn_table_alloc(bnn_words_for(c), sizeof(bnn_word), &st, index);
    for (size_t k = 0; s->pool_flip && k < c; k++)
        s->pool_flip[k / BNN_WORD_BITS] |= (bnn_word)(thr->flip[k] != 0) << (k % BNN_WORD_BITS);
    return st;
}

static void run_samples(const bnn_step *s, const void *in, void *out, size_t n)
{
    if (s->in.domain == BNN_DOMAIN_BITS)
        maxpool_bits(s->layer, in, out, n, s->pool_flip);
    else
        maxpool_int(s->layer, in, out, n);
}

const bnn_op bnn_op_maxpool = {.run_samples = run_samples};
