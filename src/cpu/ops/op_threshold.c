/* op_threshold.c - threshold: int (..., C) -> bits (..., C), the folded
 * batch-norm + sign. Output -1 (bit 1) where s < t (flip 0) or s > t
 * (flip 1); +1 (bit 0) otherwise, so ties go to +1.
 *
 * Branch-free: with m = 0 (flip 0) or -1 (flip 1), s > t <=> ~s < ~t, so
 * bit = (s ^ m) < (t ^ m) in both cases; prepare stores m and t ^ m, and the
 * kernel set's threshold kernel (cpu/kernels/threshold_*.c) does the rest. */
#include <string.h>

#include "cpu/ops/ops.h"

static bnn_status prepare(bnn_step *s, uint32_t index)
{
    const bnn_layer *l = s->layer;
    bnn_status st = BNN_OK;
    s->thr_mask = bnn_table_alloc(l->in.c, sizeof(int32_t), &st, index);
    s->thr_key = s->thr_mask ? bnn_table_alloc(l->in.c, sizeof(int32_t), &st, index) : NULL;
    if (!s->thr_key)
        return st;
    for (size_t c = 0; c < l->in.c; c++) {
        int32_t t;
        memcpy(&t, l->thresholds + c, sizeof t); /* in place in the file: maybe unaligned */
        s->thr_mask[c] = l->flip[c] ? -1 : 0;
        s->thr_key[c] = t ^ s->thr_mask[c];
    }
    return BNN_OK;
}

void bnn_threshold_rows(const bnn_step *t, const int32_t *s, size_t ld_s, size_t rows, size_t c0,
                        size_t count, bnn_word *out, size_t ld_out)
{
    bnn_active_kernels()->threshold(s, ld_s, rows, t->thr_mask + c0, t->thr_key + c0, count, out,
                                    ld_out);
}

static void run_samples(const bnn_step *s, const void *in, void *out, size_t n)
{
    const bnn_layer *l = s->layer;
    size_t c = l->in.c;
    bnn_threshold_rows(s, in, c, n * l->in.h * l->in.w, 0, c, out, bnn_words_for(c));
}

const bnn_op bnn_op_threshold = {.prepare = prepare, .run_samples = run_samples};
