/* ops.c - the op table (one entry per layer type) and running a step.
 * Ops with `run_samples` (the layers without weights: maxpool, threshold,
 * flatten, affine) take any stretch of samples, which are independent, so
 * with several threads the batch is split into stretches, one task each;
 * small batches stay on the calling thread. */
#include "common/errors.h"
#include "common/parallel.h"
#include "cpu/ops/ops.h"

const bnn_op *bnn_op_for(uint32_t type)
{
    switch (type) {
    case BNN_LAYER_FIRST_DENSE: return &bnn_op_first_dense;
    case BNN_LAYER_FIRST_CONV: return &bnn_op_first_conv;
    case BNN_LAYER_CONV: return &bnn_op_conv;
    case BNN_LAYER_DENSE: return &bnn_op_dense;
    case BNN_LAYER_MAXPOOL: return &bnn_op_maxpool;
    case BNN_LAYER_THRESHOLD: return &bnn_op_threshold;
    case BNN_LAYER_FLATTEN: return &bnn_op_flatten;
    case BNN_LAYER_AFFINE: return &bnn_op_affine;
    }
    return NULL;
}

bnn_scratch_need bnn_op_scratch(const bnn_step *s)
{
    bnn_scratch_need none = {0, 0};
    return s->op->scratch ? s->op->scratch(s->layer) : none;
}

typedef struct samples_job {
    const bnn_step *s;
    const unsigned char *in;
    unsigned char *out;
    size_t in_bytes, out_bytes; /* per sample */
    size_t n, per_task;
} samples_job;

static void samples_task(void *ctx, size_t task)
{
    const samples_job *j = ctx;
    size_t s0 = task * j->per_task;
    size_t count = j->n - s0 < j->per_task ? j->n - s0 : j->per_task;
    j->s->op->run_samples(j->s, j->in + s0 * j->in_bytes, j->out + s0 * j->out_bytes, count);
}

bnn_status bnn_op_run(const bnn_step *s, const void *in, void *out, size_t n, void *scratch,
                      int threads)
{
    if (s->op->run)
        return s->op->run(s, in, out, n, scratch, threads);
    samples_job j = {s, in, out, bnn_act_bytes(&s->in), bnn_act_bytes(&s->out), n, n};
    size_t tasks = (size_t)bnn_threads_for(j.in_bytes * n, BNN_MIN_BYTES_PER_THREAD, threads);
    tasks = tasks < n ? tasks : n;
    if (tasks <= 1) {
        s->op->run_samples(s, in, out, n);
        return BNN_OK;
    }
    j.per_task = (n + tasks - 1) / tasks;
    return bnn_parallel_for((n + j.per_task - 1) / j.per_task, (int)tasks, samples_task, &j);
}
