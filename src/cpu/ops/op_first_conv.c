/* op_first_conv.c - first_conv: uint8 (H, W, C) -> int (H', W', units) as
 * im2col + u8gemm. A patch is K = kh*kw*C bytes in (i, j, c) order, the K
 * order of the weight panel (op_first_layer.c); a kernel row's part inside
 * the image is one run of contiguous bytes of an image row (channels-last),
 * copied in one memcpy. Out-of-image taps are bytes 0: pixel value 0, which
 * contributes nothing, as `same` padding of the first layer requires. Then
 * the product, tile by tile (op_gemm.c). */
#include <string.h>

#include "cpu/ops/ops.h"
#include "common/parallel.h"

static bnn_scratch_need scratch_need(const bnn_layer *l)
{
    bnn_scratch_need need = {0, bnn_align64((uint64_t)l->out.h * l->out.w * l->k)};
    return need;
}

/* Patches of one sample: pixel q's patch at cols + q * k. */
static void im2col_bytes(const bnn_layer *l, const uint8_t *x, uint8_t *cols)
{
    size_t h = l->in.h, w = l->in.w, c = l->in.c, kw = l->kw, row = kw * c;
    for (size_t oy = 0; oy < l->out.h; oy++) {
        for (size_t ox = 0; ox < l->out.w; ox++) {
            uint8_t *dst = cols + (oy * l->out.w + ox) * l->k;
            ptrdiff_t x0 = (ptrdiff_t)(ox * l->sw) - (ptrdiff_t)l->pad_left;
            size_t j0, j1;
            bnn_window_clip(x0, kw, w, &j0, &j1);
            for (size_t i = 0; i < l->kh; i++, dst += row) {
                ptrdiff_t y = (ptrdiff_t)(oy * l->sh + i) - (ptrdiff_t)l->pad_top;
                if (y < 0 || y >= (ptrdiff_t)h || j0 >= j1) {
                    memset(dst, 0, row);
                    continue;
                }
                const uint8_t *src = x + ((size_t)y * w + (size_t)(x0 + (ptrdiff_t)j0)) * c;
                if (j0 == 0 && j1 == kw) { /* the common case: no column outside */
                    memcpy(dst, src, row);
                    continue;
                }
                memset(dst, 0, j0 * c);
                memcpy(dst + j0 * c, src, (j1 - j0) * c);
                memset(dst + j1 * c, 0, (kw - j1) * c);
            }
        }
    }
}

typedef struct im2col_job {
    const bnn_layer *l;
    const uint8_t *in;
    uint8_t *cols;
} im2col_job;

static void im2col_task(void *ctx, size_t s)
{
    const im2col_job *j = ctx;
    const bnn_layer *l = j->l;
    im2col_bytes(l, j->in + s * l->in.h * l->in.w * l->in.c,
                 j->cols + s * l->out.h * l->out.w * l->k);
}

static bnn_status run(const bnn_step *s, const void *in, void *out, size_t n, void *scratch,
                      int threads)
{
    const bnn_layer *l = s->layer;
    size_t rows = n * l->out.h * l->out.w;
    im2col_job j = {l, in, scratch};
    /* Patches of several samples are built in parallel when each thread
     * gets at least ~1 MiB of them to write (as op_conv.c). */
    size_t bytes = rows * l->k;
    int im2col_threads = bytes >> 20 < (size_t)threads ? (int)(bytes >> 20) + 1 : threads;
    bnn_status st = bnn_parallel_for(n, im2col_threads, im2col_task, &j);
    if (st != BNN_OK)
        return st;
    bnn_gemm g = {.step = s, .x = scratch, .ldx = l->k, .rows = rows, .out_int = out,
                  .out_bits = out};
    return bnn_gemm_run(&g, threads);
}

const bnn_op bnn_op_first_conv = {.prepare = bnn_first_layer_prepare, .scratch = scratch_need,
                                  .run = run};
