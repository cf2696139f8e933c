/* tiles.h - internal: how a product C (m x n) is cut into tasks for the
 * thread pool, and how many threads it gets: the one place the public bgemm
 * (bgemm.c) and the layers' products (ops/op_gemm.c) take both from.
 *
 * Tasks run down M first, then along N, so that a product with one row
 * (batch-1 dense layers) is split along N. Every output is computed whole by
 * one task, so results never depend on the thread count. */
#ifndef PYBNN_TILES_H
#define PYBNN_TILES_H

#include <stddef.h>

#include "common/parallel.h"

typedef struct bnn_tiles {
    size_t m, n, tile_m, tile_n, m_tiles, count;
} bnn_tiles;

static inline bnn_tiles bnn_tiles_of(size_t m, size_t n, size_t tile_m, size_t tile_n)
{
    bnn_tiles t = {m, n, tile_m, tile_n, (m + tile_m - 1) / tile_m, 0};
    t.count = t.m_tiles * ((n + tile_n - 1) / tile_n);
    return t;
}

/* Rows [*i0, *i0 + *mb) and columns [*j0, *j0 + *nb) of task `task`. */
static inline void bnn_tile_at(const bnn_tiles *t, size_t task, size_t *i0, size_t *mb,
                               size_t *j0, size_t *nb)
{
    *i0 = task % t->m_tiles * t->tile_m;
    *j0 = task / t->m_tiles * t->tile_n;
    *mb = t->m - *i0 < t->tile_m ? t->m - *i0 : t->tile_m;
    *nb = t->n - *j0 < t->tile_n ? t->n - *j0 : t->tile_n;
}

/* Threads for the product: `per_output` word operations per output
 * (parallel.h's BNN_MIN_WORD_OPS_PER_THREAD sets how many a thread needs). */
static inline int bnn_tiles_threads(const bnn_tiles *t, size_t per_output, int threads)
{
    size_t work = t->m * t->n * (per_output ? per_output : 1);
    return bnn_threads_for(work, BNN_MIN_WORD_OPS_PER_THREAD, threads);
}

#endif
