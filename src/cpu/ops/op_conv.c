/* op_conv.c - conv: bits (H, W, C) -> int (H', W', units) as im2col + bgemm.
 *
 * Every pixel holds ceil(C/64) words with zero padding bits, so a patch is
 * kh*kw*ceil(C/64) words in (i, j, word) order: exactly a stored weight row
 * (units, kh, kw, ceil(C/64)), and K = kh*kw*C stays the true count because
 * padding bits are 0 on both sides. A kernel row of a patch is one memcpy of
 * the pixels inside the image. Taps outside the image are words of 0 bits,
 * i.e. +1: exactly pad_value `one`. For pad_value `zero` those taps must
 * contribute nothing: zero_padding.c subtracts them from the border pixels'
 * sums, tile by tile inside the product (op_gemm.c). */
#include <string.h>

#include "cpu/ops/ops.h"
#include "common/parallel.h"

static bnn_scratch_need scratch_need(const bnn_layer *l)
{
    bnn_scratch_need need = {0, bnn_align64(8 * (uint64_t)l->out.h * l->out.w * l->row_words)};
    return need;
}

/* Patches of one sample: pixel q's patch at cols + q * row_words. */
static void im2col_words(const bnn_layer *l, const bnn_word *x, bnn_word *cols)
{
    size_t h = l->in.h, w = l->in.w, wc = bnn_words_for(l->in.c);
    size_t kw = l->kw, row = l->row_words;
    for (size_t oy = 0; oy < l->out.h; oy++) {
        for (size_t ox = 0; ox < l->out.w; ox++) {
            bnn_word *dst = cols + (oy * l->out.w + ox) * row;
            ptrdiff_t x0 = (ptrdiff_t)(ox * l->sw) - (ptrdiff_t)l->pad_left;
            size_t j0, j1;
            bnn_window_clip(x0, kw, w, &j0, &j1);
            for (size_t i = 0; i < l->kh; i++, dst += kw * wc) {
                ptrdiff_t y = (ptrdiff_t)(oy * l->sh + i) - (ptrdiff_t)l->pad_top;
                if (y < 0 || y >= (ptrdiff_t)h || j0 >= j1) {
                    memset(dst, 0, kw * wc * sizeof *dst);
                    continue;
                }
                memset(dst, 0, j0 * wc * sizeof *dst);
                memcpy(dst + j0 * wc, x + ((size_t)y * w + (size_t)(x0 + (ptrdiff_t)j0)) * wc,
                       (j1 - j0) * wc * sizeof *dst);
                memset(dst + j1 * wc, 0, (kw - j1) * wc * sizeof *dst);
            }
        }
    }
}

typedef struct im2col_job {
    const bnn_layer *l;
    const bnn_word *in;
    bnn_word *cols;
} im2col_job;

static void im2col_task(void *ctx, size_t s)
{
    const im2col_job *j = ctx;
    const bnn_layer *l = j->l;
    size_t in_words = l->in.h * l->in.w * bnn_words_for(l->in.c);
    im2col_words(l, j->in + s * in_words, j->cols + s * l->out.h * l->out.w * l->row_words);
}

static bnn_status run(const bnn_step *s, const void *in, void *out, size_t n, void *scratch,
                      int threads)
{
    const bnn_layer *l = s->layer;
    size_t pixels = l->out.h * l->out.w;
    im2col_job j = {l, in, scratch};
    /* Patches of several samples are built in parallel when each thread
     * gets at least ~1 MiB of them to write. */
    size_t bytes = n * pixels * l->row_words * sizeof(bnn_word);
    int im2col_threads = bytes >> 20 < (size_t)threads ? (int)(bytes >> 20) + 1 : threads;
    bnn_status st = bnn_parallel_for(n, im2col_threads, im2col_task, &j);
    bnn_gemm g = {.step = s, .a = scratch, .rows = n * pixels, .out_int = out, .out_bits = out};
    return st == BNN_OK ? bnn_gemm_run(&g, threads) : st;
}

/* Only pad_value zero with same padding has padded taps to correct. */
static bnn_status prepare(bnn_step *s, uint32_t index)
{
    return s->layer->pad_zero && s->layer->same ? bnn_zero_padding_prepare(s, index) : BNN_OK;
}

const bnn_op bnn_op_conv = {.prepare = prepare, .scratch = scratch_need, .run = run};
