/* tiles.h - internal: how a product C (m x n) is cut into tasks for the
 * thread pool, and how many threads it gets: the one place the public bgemm
 * (bgemm.c) and the layers' products (ops/op_gemm.c) take both from.
 *
 * Consecutive tasks share a tile of the larger operand while they walk the
 * other: when A has more rows than B (a conv's pixels against its units) a
 * tile of A rows meets every column tile in turn, so A, which may not fit in
 * L2 at large batches, is read from memory once while B (the weights) comes
 * from cache; otherwise (dense layers, B the larger) a column tile of B meets
 * every row tile in turn. A product with one row is thus split along N.
 * Every output is computed whole by one task, so results never depend on the
 * thread count. */
#ifndef PYBNN_TILES_H
#define PYBNN_TILES_H

#include <stddef.h>

#include "common/parallel.h"

typedef struct bnn_tiles {
    size_t m, n, tile_m, tile_n, m_tiles, n_tiles, count;
    int rows_outer; /* consecutive tasks walk N along one row tile */
} bnn_tiles;

static inline bnn_tiles bnn_tiles_of(size_t m, size_t n, size_t tile_m, size_t tile_n)
{
    bnn_tiles t = {m, n, tile_m, tile_n, (m + tile_m - 1) / tile_m, (n + tile_n - 1) / tile_n,
                   0, m > n};
    t.count = t.m_tiles * t.n_tiles;
    return t;
}

/* Rows [*i0, *i0 + *mb) and columns [*j0, *j0 + *nb) of task `task`. */
static inline void bnn_tile_at(const bnn_tiles *t, size_t task, size_t *i0, size_t *mb,
                               size_t *j0, size_t *nb)
{
    size_t row = t->rows_outer ? task / t->n_tiles : task % t->m_tiles;
    size_t col = t->rows_outer ? task % t->n_tiles : task / t->m_tiles;
    *i0 = row * t->tile_m;
    *j0 = col * t->tile_n;
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
