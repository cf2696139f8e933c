/* im2col.c - the patches of a conv layer, for its product: one patch row per
 * output pixel, holding the kh x kw input pixels under the window in (i, j)
 * order, each pixel's bytes as stored: C bytes (first_conv on uint8) or
 * ceil(C/64) words (conv on bits). A kernel row's part inside the image is
 * one run of contiguous pixels, copied in one memcpy; taps outside the image
 * are zero bytes: pixel value 0 for first_conv (contributes nothing, as its
 * `same` padding requires), and words of 0 bits, i.e. +1, for conv: pad_value
 * `one` (`zero` is corrected inside the product: zero_padding.c).
 *
 * The products build a tile's patches themselves, into a buffer of their own,
 * where they fit one (op_gemm.c): the patches then never leave the cache and
 * a layer is one parallel region. Else the whole batch's patches are built
 * first, one task per output row of a sample, so even one sample's patches
 * are built by every thread the work is worth. */
#include <string.h>

#include "common/parallel.h"
#include "cpu/ops/ops.h"

/* Patch rows [row0, row0 + rows) of the batch's n x H' x W' (a patch per
 * output pixel, in raster order, samples one after another) at dst. */
void bnn_im2col_rows(const bnn_layer *l, const void *in, size_t pixel, size_t row0, size_t rows,
                     void *out)
{
    size_t per_sample = l->out.h * l->out.w, row = l->kw * pixel;
    size_t s = row0 / per_sample, oy = row0 % per_sample / l->out.w, ox = row0 % l->out.w;
    unsigned char *dst = out;
    for (size_t q = 0; q < rows; q++) {
        const unsigned char *x = (const unsigned char *)in + s * l->in.h * l->in.w * pixel;
        ptrdiff_t x0 = (ptrdiff_t)(ox * l->sw) - (ptrdiff_t)l->pad_left;
        size_t j0, j1;
        bnn_window_clip(x0, l->kw, l->in.w, &j0, &j1);
        for (size_t i = 0; i < l->kh; i++, dst += row) {
            ptrdiff_t y = (ptrdiff_t)(oy * l->sh + i) - (ptrdiff_t)l->pad_top;
            if (y < 0 || y >= (ptrdiff_t)l->in.h || j0 >= j1) {
                memset(dst, 0, row);
                continue;
            }
            const unsigned char *src =
                x + ((size_t)y * l->in.w + (size_t)(x0 + (ptrdiff_t)j0)) * pixel;
            if (j0 == 0 && j1 == l->kw) { /* the common case: no column outside */
                memcpy(dst, src, row);
                continue;
            }
            memset(dst, 0, j0 * pixel);
            memcpy(dst + j0 * pixel, src, (j1 - j0) * pixel);
            memset(dst + j1 * pixel, 0, (l->kw - j1) * pixel);
        }
        if (++ox == l->out.w) { /* the next output row, or the next sample */
            ox = 0;
            if (++oy == l->out.h) {
                oy = 0;
                s++;
            }
        }
    }
}

typedef struct im2col_job {
    const bnn_layer *l;
    const void *in;
    unsigned char *cols;
    size_t pixel; /* bytes per input pixel */
} im2col_job;

static void im2col_row(void *ctx, size_t task)
{
    const im2col_job *j = ctx;
    const bnn_layer *l = j->l;
    size_t first = task * l->out.w;
    bnn_im2col_rows(l, j->in, j->pixel, first, l->out.w,
                    j->cols + first * l->kh * l->kw * j->pixel);
}

bnn_status bnn_im2col(const bnn_layer *l, const void *in, size_t pixel_bytes, size_t n,
                      void *cols, int threads)
{
    im2col_job j = {l, in, cols, pixel_bytes};
    size_t bytes = n * l->out.h * l->out.w * l->kh * l->kw * pixel_bytes;
    return bnn_parallel_for(n * l->out.h,
                            bnn_threads_for(bytes, BNN_MIN_BYTES_PER_THREAD, threads),
                            im2col_row, &j);
}
