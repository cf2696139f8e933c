/* op_unweighted.c - the layers without weights (maxpool, threshold, flatten
 * of bits, and maxpool fused with its threshold), run over the samples of a
 * chunk. Samples are independent and each op takes a run of them, so with
 * several threads the chunk is split into runs, one task each; small chunks
 * stay on the calling thread. */
#include "cpu/ops/ops.h"
#include "common/parallel.h"

typedef struct unweighted_job {
    const bnn_layer *l, *thr;
    const unsigned char *in;
    unsigned char *out;
    size_t in_bytes, out_bytes; /* per sample */
    size_t n, per_task;
} unweighted_job;

static void run_samples(const bnn_layer *l, const bnn_layer *thr, const void *in, void *out,
                        size_t n)
{
    switch (l->type) {
    case BNN_LAYER_MAXPOOL:
        if (thr) /* in is an int workspace buffer: the op may overwrite it */
            bnn_op_maxpool_int_threshold(l, thr, (int32_t *)in, out, n);
        else if (l->in.domain == BNN_DOMAIN_BITS)
            bnn_op_maxpool_bits(l, in, out, n);
        else
            bnn_op_maxpool_int(l, in, out, n);
        break;
    case BNN_LAYER_THRESHOLD: bnn_op_threshold(l, in, out, n); break;
    case BNN_LAYER_FLATTEN: bnn_op_flatten_bits(l, in, out, n); break;
    }
}

static void unweighted_task(void *ctx, size_t task)
{
    const unweighted_job *j = ctx;
    size_t s0 = task * j->per_task;
    size_t count = j->n - s0 < j->per_task ? j->n - s0 : j->per_task;
    run_samples(j->l, j->thr, j->in + s0 * j->in_bytes, j->out + s0 * j->out_bytes, count);
}

bnn_status bnn_op_unweighted(const bnn_layer *l, const bnn_layer *thr, const void *in, void *out,
                             size_t n, int threads)
{
    unweighted_job j = {l, thr, in, out, bnn_act_bytes(&l->in),
                        bnn_act_bytes(thr ? &thr->out : &l->out), n, n};
    size_t tasks = (size_t)bnn_threads_for(j.in_bytes * n, BNN_MIN_BYTES_PER_THREAD, threads);
    tasks = tasks < n ? tasks : n;
    if (tasks <= 1) {
        run_samples(l, thr, in, out, n);
        return BNN_OK;
    }
    j.per_task = (n + tasks - 1) / tasks;
    return bnn_parallel_for((n + j.per_task - 1) / j.per_task, (int)tasks, unweighted_task, &j);
}
