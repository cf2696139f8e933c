/* op_first_conv.c - first_conv: uint8 (H, W, C) -> int (H', W', units) by
 * bit-planes. For each sample the 8 planes of every image row are packed
 * (row y of plane p: the W*C bits of x[y][.][.] in channels-last order), so
 * the part of a kernel row inside the image is one run of contiguous bits,
 * copied into the patch at its place; out-of-image taps stay 0 (pixel value
 * 0 in every plane, contributing nothing, as `same` padding requires).
 * Patches are dense: K = kh*kw*C bits, matching the weights that
 * model_prepare.c repacked the same way. Then the planes' product with the
 * weights (op_first_layer.c, op_gemm.c). */
#include <string.h>

#include "bitcopy.h"
#include "errors.h"
#include "ops.h"

bnn_scratch_need bnn_op_first_conv_scratch(const bnn_layer *l)
{
    uint64_t row_words = bnn_words_for(l->in.w * l->in.c);
    uint64_t pixels = (uint64_t)l->out.h * l->out.w;
    bnn_scratch_need need;
    need.fixed = bnn_align64(8 * 8 * (uint64_t)l->in.h * row_words); /* one sample's planes */
    need.per_sample = 8 * 8 * pixels * l->row_words; /* patches, all planes */
    return need;
}

/* Patches of one sample into cols (plane p's patch of pixel q at
 * cols + (p * plane_rows + q) * words), from the packed image planes. */
static void im2col_planes(const bnn_layer *l, const bnn_word *img, size_t row_words,
                          bnn_word *cols, size_t plane_rows)
{
    size_t h = l->in.h, w = l->in.w, c = l->in.c, words = l->row_words;
    size_t plane_words = h * row_words;
    for (size_t oy = 0; oy < l->out.h; oy++) {
        for (size_t ox = 0; ox < l->out.w; ox++) {
            size_t q = oy * l->out.w + ox;
            /* Columns of the window, clipped to the image: taps j0..j1-1. */
            ptrdiff_t x0 = (ptrdiff_t)(ox * l->sw) - (ptrdiff_t)l->pad_left;
            size_t j0, j1;
            bnn_window_clip(x0, l->kw, w, &j0, &j1);
            for (int p = 0; p < 8; p++)
                memset(cols + (p * plane_rows + q) * words, 0, words * sizeof(bnn_word));
            if (j0 >= j1)
                continue;
            for (size_t i = 0; i < l->kh; i++) {
                ptrdiff_t y = (ptrdiff_t)(oy * l->sh + i) - (ptrdiff_t)l->pad_top;
                if (y < 0 || y >= (ptrdiff_t)h)
                    continue;
                size_t src_bit = (size_t)(x0 + (ptrdiff_t)j0) * c, dst_bit = (i * l->kw + j0) * c;
                size_t bits = (j1 - j0) * c;
                for (int p = 0; p < 8; p++)
                    bnn_bits_copy_or(cols + (p * plane_rows + q) * words, dst_bit,
                                     img + p * plane_words + (size_t)y * row_words, src_bit, bits);
            }
        }
    }
}

bnn_status bnn_op_first_conv(const bnn_layer *l, const bnn_layer *thr, const uint8_t *in,
                             void *out, size_t n, void *scratch, int threads)
{
    size_t h = l->in.h, w = l->in.w, c = l->in.c, words = l->row_words;
    size_t row_words = bnn_words_for(w * c), pixels = l->out.h * l->out.w;
    size_t rows = n * pixels; /* rows per plane */
    bnn_word *img = scratch;
    bnn_word *cols = (bnn_word *)((char *)img + bnn_align64(8 * 8 * (uint64_t)h * row_words));
    for (size_t s = 0; s < n; s++) {
        const uint8_t *x = in + s * h * w * c;
        for (size_t y = 0; y < h; y++)
            bnn_bitplanes_u8(x + y * w * c, w * c, img + y * row_words, h * row_words);
        im2col_planes(l, img, row_words, cols + s * pixels * words, rows);
    }
    bnn_gemm g = {l, cols, rows, 8, out, thr, out};
    return bnn_gemm_run(&g, threads);
}
