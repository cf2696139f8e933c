/* op_flatten.c - flatten (H, W, C) -> (H*W*C,) in row-major (h, w, c) order.
 * On u8 and int data, and on bits when every pixel's C bits fill whole words
 * (or there is one pixel), the layout already is that order: a no-op. Else
 * each pixel's C bits are packed right after the previous pixel's. */
#include <string.h>

#include "common/bitcopy.h"
#include "cpu/ops/ops.h"

int bnn_op_flatten_is_noop(const bnn_layer *l)
{
    return l->in.domain != BNN_DOMAIN_BITS || l->in.c % BNN_WORD_BITS == 0 ||
           l->in.h * l->in.w == 1;
}

void bnn_op_flatten_bits(const bnn_layer *l, const bnn_word *in, bnn_word *out, size_t n)
{
    size_t c = l->in.c, wc = bnn_words_for(c), pixels = l->in.h * l->in.w;
    size_t out_words = bnn_words_for(pixels * c);
    for (size_t s = 0; s < n; s++, in += pixels * wc, out += out_words) {
        memset(out, 0, out_words * sizeof *out);
        for (size_t p = 0; p < pixels; p++)
            bnn_bits_copy_or(out, p * c, in + p * wc, 0, c);
    }
}
