/* model_run.c - the executor: runs a batch through the layers in chunks of
 * samples. Each call allocates its own workspace (two ping-pong activation
 * buffers sized for the largest layer output, and the largest scratch any
 * op needs), so one model can run on several threads at once; the model
 * itself is only read. A chunk is as many samples as fit a memory budget,
 * so any batch size runs in bounded memory while large batches still give
 * the bgemm tall matrices. */
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "ops.h"

/* Workspace budget per call; a chunk is at least one sample regardless. */
#define WORKSPACE_BUDGET ((size_t)32 << 20)

bnn_scratch_need bnn_op_scratch(const bnn_layer *l)
{
    bnn_scratch_need none = {0, 0};
    switch (l->type) {
    case BNN_LAYER_FIRST_DENSE: return bnn_op_first_dense_scratch(l);
    case BNN_LAYER_FIRST_CONV: return bnn_op_first_conv_scratch(l);
    case BNN_LAYER_CONV: return bnn_op_conv_scratch(l);
    }
    return none;
}

/* Largest scratch of any layer for a chunk of n samples. */
static uint64_t scratch_bytes(const bnn_model *m, size_t n)
{
    uint64_t most = 0;
    for (uint32_t i = 0; i < m->n_layers; i++) {
        bnn_scratch_need need = bnn_op_scratch(&m->layers[i]);
        uint64_t bytes = need.fixed + need.per_sample * n;
        if (bytes > most)
            most = bytes;
    }
    return most;
}

static size_t choose_chunk(const bnn_model *m, size_t batch)
{
    uint64_t per_sample = 0;
    for (uint32_t i = 0; i < m->n_layers; i++) {
        bnn_scratch_need need = bnn_op_scratch(&m->layers[i]);
        if (need.per_sample > per_sample)
            per_sample = need.per_sample;
    }
    per_sample += 2 * bnn_align64(m->max_act_bytes);
    uint64_t n = WORKSPACE_BUDGET / per_sample;
    return n < 1 ? 1 : (n > batch ? batch : (size_t)n);
}

/* Run one chunk of n samples: input u8 rows in, score rows out. */
static bnn_status run_chunk(const bnn_model *m, const uint8_t *input, size_t n, float *scores,
                            void *act[2], void *scratch, int threads)
{
    const void *cur = input;
    for (uint32_t i = 0; i < m->n_layers; i++) {
        const bnn_layer *l = &m->layers[i];
        void *dst = cur == act[0] ? act[1] : act[0];
        bnn_status st = BNN_OK;
        switch (l->type) {
        case BNN_LAYER_FIRST_DENSE: st = bnn_op_first_dense(l, cur, dst, n, scratch, threads); break;
        case BNN_LAYER_FIRST_CONV: st = bnn_op_first_conv(l, cur, dst, n, scratch, threads); break;
        case BNN_LAYER_CONV: st = bnn_op_conv(l, cur, dst, n, scratch, threads); break;
        case BNN_LAYER_DENSE: st = bnn_op_dense(l, cur, dst, n, threads); break;
        case BNN_LAYER_MAXPOOL:
            if (l->in.domain == BNN_DOMAIN_BITS)
                bnn_op_maxpool_bits(l, cur, dst, n);
            else
                bnn_op_maxpool_int(l, cur, dst, n);
            break;
        case BNN_LAYER_THRESHOLD: bnn_op_threshold(l, cur, dst, n); break;
        case BNN_LAYER_FLATTEN:
            if (bnn_op_flatten_is_noop(l))
                continue; /* same bytes, new shape: the next layer reads cur */
            bnn_op_flatten_bits(l, cur, dst, n);
            break;
        case BNN_LAYER_AFFINE: bnn_op_affine(l, cur, scores, n); break;
        }
        if (st != BNN_OK)
            return st;
        cur = dst;
    }
    return BNN_OK;
}

static void *alloc_aligned(uint64_t bytes, void **raw)
{
    if (bytes > SIZE_MAX - 64 || !(*raw = malloc((size_t)bytes + 64)))
        return NULL;
    return (void *)(((uintptr_t)*raw + 63) & ~(uintptr_t)63);
}

bnn_status bnn_model_run(const bnn_model *m, const uint8_t *input, size_t batch, float *scores,
                         int threads)
{
    if (!m)
        return bnn_fail(BNN_ERR_ARGUMENT, "model_run: model is NULL");
    if (batch == 0)
        return BNN_OK;
    if (!input || !scores)
        return bnn_fail(BNN_ERR_ARGUMENT, "model_run: input and scores must not be NULL");
    if (threads <= 0)
        threads = m->threads > 0 ? m->threads : bnn_default_threads();
    size_t chunk = choose_chunk(m, batch);
    uint64_t act_bytes = (uint64_t)bnn_align64(m->max_act_bytes) * chunk;
    uint64_t scratch = bnn_align64(scratch_bytes(m, chunk));
    void *raw[3] = {NULL, NULL, NULL}, *act[2], *work;
    act[0] = alloc_aligned(act_bytes, &raw[0]);
    act[1] = act[0] ? alloc_aligned(act_bytes, &raw[1]) : NULL;
    work = act[1] ? alloc_aligned(scratch, &raw[2]) : NULL;
    bnn_status st = BNN_OK;
    if (!work)
        st = bnn_fail(BNN_ERR_NOMEM, "model_run: out of memory for a workspace of 2 x %llu + "
                      "%llu bytes (%zu samples per chunk)", (unsigned long long)act_bytes,
                      (unsigned long long)scratch, chunk);
    for (size_t start = 0; start < batch && st == BNN_OK; start += chunk) {
        size_t n = batch - start < chunk ? batch - start : chunk;
        st = run_chunk(m, input + start * m->input_size, n, scores + start * m->num_classes,
                       act, work, threads);
    }
    for (int i = 0; i < 3; i++)
        free(raw[i]);
    return st;
}
