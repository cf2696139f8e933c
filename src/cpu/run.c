/* run.c - the CPU executor: runs a batch through the layers in chunks of
 * samples. Each call has its own workspace (two ping-pong activation buffers
 * sized for the largest layer output, and the largest scratch any op needs),
 * so one model can run on several threads at once; the model itself is only
 * read, but for one cached workspace taken under a lock. A chunk is as many
 * samples as fit a memory budget, so any batch size runs in bounded memory
 * while large batches still give the bgemm tall matrices. */
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "cpu/ops/ops.h"

/* Workspace budget per call; a chunk is at least one sample regardless. */
#define WORKSPACE_BUDGET ((size_t)32 << 20)

/* Largest scratch of any layer for a chunk of n samples. */
static uint64_t scratch_bytes(const bnn_model *m, size_t n)
{
    uint64_t most = 0;
    for (uint32_t i = 0; i < m->graph.n_layers; i++) {
        bnn_scratch_need need = bnn_op_scratch(&m->steps[i]);
        uint64_t bytes = need.fixed + need.per_sample * n;
        if (bytes > most)
            most = bytes;
    }
    return most;
}

static size_t choose_chunk(const bnn_model *m, size_t batch)
{
    uint64_t per_sample = 0;
    for (uint32_t i = 0; i < m->graph.n_layers; i++) {
        bnn_scratch_need need = bnn_op_scratch(&m->steps[i]);
        if (need.per_sample > per_sample)
            per_sample = need.per_sample;
    }
    per_sample += 2 * bnn_align64(m->max_act_bytes);
    uint64_t n = WORKSPACE_BUDGET / per_sample;
    return n < 1 ? 1 : (n > batch ? batch : (size_t)n);
}

/* The workspace of a run of `batch` samples, in bytes: one block holding two
 * activation buffers and the scratch, each 64-byte aligned, plus the slack
 * to align the block. *chunk: samples per chunk; *act_bytes: one buffer. */
static uint64_t plan_workspace(const bnn_model *m, size_t batch, size_t *chunk,
                               uint64_t *act_bytes)
{
    *chunk = choose_chunk(m, batch);
    *act_bytes = bnn_align64((uint64_t)bnn_align64(m->max_act_bytes) * *chunk);
    return 2 * *act_bytes + bnn_align64(scratch_bytes(m, *chunk)) + 64;
}

uint64_t bnn_model_workspace_bytes(const bnn_model *m, size_t batch)
{
    size_t chunk;
    uint64_t act_bytes;
    return m && batch ? plan_workspace(m, batch, &chunk, &act_bytes) : 0;
}

/* Run one chunk of n samples: input u8 rows in, score rows out. */
static bnn_status run_chunk(const bnn_model *m, const uint8_t *input, size_t n, float *scores,
                            void *act[2], void *scratch, int threads)
{
    const void *cur = input;
    for (uint32_t i = 0; i < m->graph.n_layers; i++) {
        const bnn_step *s = &m->steps[i];
        if (s->skip)
            continue; /* ran inside the step before, or a reshape: the next reads cur */
        void *dst = i + 1 == m->graph.n_layers ? (void *)scores
                                               : (cur == act[0] ? act[1] : act[0]);
        bnn_status st = bnn_op_run(s, cur, dst, n, scratch, threads);
        if (st != BNN_OK)
            return st;
        cur = dst;
    }
    return BNN_OK;
}

/* A workspace of `bytes`: the model's cached one if it is free and large
 * enough, else a new allocation. *cached says which. The model is shared
 * read-only between threads except for this cache, which the lock guards. */
static void *take_workspace(const bnn_model *cm, size_t bytes, int *cached)
{
    bnn_model *m = (bnn_model *)cm;
    void *ws = NULL;
    pthread_mutex_lock(&m->cache_lock);
    if (!m->cache_busy && m->cache && m->cache_bytes >= bytes) {
        m->cache_busy = 1;
        ws = m->cache;
    }
    pthread_mutex_unlock(&m->cache_lock);
    *cached = ws != NULL;
    return ws ? ws : malloc(bytes);
}

/* Give a workspace back: it becomes the cache if that is free and smaller. */
static void give_workspace(const bnn_model *cm, void *ws, size_t bytes, int cached)
{
    bnn_model *m = (bnn_model *)cm;
    void *drop = ws;
    pthread_mutex_lock(&m->cache_lock);
    if (cached) {
        m->cache_busy = 0;
        drop = NULL;
    } else if (!m->cache_busy && bytes > m->cache_bytes) {
        drop = m->cache;
        m->cache = ws;
        m->cache_bytes = bytes;
    }
    pthread_mutex_unlock(&m->cache_lock);
    free(drop);
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
    if (batch > SIZE_MAX / m->graph.input_size ||
        batch > SIZE_MAX / sizeof(float) / m->graph.num_classes)
        return bnn_fail(BNN_ERR_ARGUMENT, "model_run: batch %zu is too large for this platform",
                        batch);
    if (threads <= 0)
        threads = m->threads > 0 ? m->threads : bnn_default_threads();
    size_t chunk;
    uint64_t act_bytes, total = plan_workspace(m, batch, &chunk, &act_bytes), limit;
    bnn_status st = bnn_model_workspace_limit(m, &limit);
    if (st != BNN_OK)
        return st;
    if (total > limit)
        return bnn_fail(BNN_ERR_NOMEM, "model_run: a batch of %zu needs a workspace of %llu bytes "
                        "(%.1f MiB, %zu samples per chunk); the limit is %llu bytes (%.1f MiB): "
                        "use a smaller batch or input, or raise the limit (PYBNN_WORKSPACE_LIMIT, "
                        "or the model's own)",
                        batch, (unsigned long long)total, total / 1048576.0, chunk,
                        (unsigned long long)limit, limit / 1048576.0);
    if (total > SIZE_MAX)
        return bnn_fail(BNN_ERR_NOMEM, "model_run: a workspace of %llu bytes is not addressable",
                        (unsigned long long)total);
    int cached;
    void *raw = take_workspace(m, (size_t)total, &cached);
    if (!raw)
        return bnn_fail(BNN_ERR_NOMEM, "model_run: out of memory for a workspace of %llu bytes "
                        "(%zu samples per chunk)", (unsigned long long)total, chunk);
    char *base = bnn_on_line(raw);
    void *act[2] = {base, base + act_bytes};
    void *work = base + 2 * act_bytes;
    for (size_t start = 0; start < batch && st == BNN_OK; start += chunk) {
        size_t n = batch - start < chunk ? batch - start : chunk;
        st = run_chunk(m, input + start * m->graph.input_size, n,
                       scores + start * m->graph.num_classes,
                       act, work, threads);
    }
    give_workspace(m, raw, (size_t)total, cached);
    return st;
}
