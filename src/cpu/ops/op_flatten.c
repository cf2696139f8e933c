/* op_flatten.c - flatten (H, W, C) -> (H*W*C,) in row-major (h, w, c) order.
 * On u8 and int data, and on bits when every pixel's C bits fill whole words
 * (or there is one pixel), the layout already is that order: a no-op. Else
 * each pixel's C bits are packed right after the previous pixel's. */
#include <string.h>

#include "common/bitcopy.h"
#include "cpu/ops/ops.h"

/* A plain reshape needs no step at run time: the next one reads the same bytes. */
static bnn_status prepare(bnn_step *s, uint32_t index)
{
    const bnn_layer *l = s->layer;
    (void)index;
    s->skip = l->in.domain != BNN_DOMAIN_BITS || l->in.c % BNN_WORD_BITS == 0 ||
              l->in.h * l->in.w == 1;
    return BNN_OK;
}

static void run_samples(const bnn_step *st, const void *vin, void *vout, size_t n)
{
    const bnn_layer *l = st->layer;
    const bnn_word *in = vin;
    bnn_word *out = vout;
    size_t c = l->in.c, wc = bnn_words_for(c), pixels = l->in.h * l->in.w;
    size_t out_words = bnn_words_for(pixels * c);
    for (size_t s = 0; s < n; s++, in += pixels * wc, out += out_words) {
        memset(out, 0, out_words * sizeof *out);
        for (size_t p = 0; p < pixels; p++)
            bnn_bits_copy_or(out, p * c, in + p * wc, 0, c);
    }
}

const bnn_op bnn_op_flatten = {.prepare = prepare, .run_samples = run_samples};
