/* parallel.h - a minimal parallel-for over independent tasks (POSIX threads). */
#ifndef PYBNN_PARALLEL_H
#define PYBNN_PARALLEL_H

#include <stddef.h>

#include "bnn.h"

typedef void (*bnn_task_fn)(void *ctx, size_t task);

/* Run fn(ctx, t) for every t < n_tasks on up to `threads` threads (the caller
 * is one of them). Tasks are handed out dynamically; each runs exactly once. */
bnn_status bnn_parallel_for(size_t n_tasks, int threads, bnn_task_fn fn, void *ctx);

#endif
