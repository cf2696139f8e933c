/* parallel.h - a parallel-for over independent tasks on a persistent pool of
 * POSIX threads, and the one rule for how many threads a piece of work gets. */
#ifndef PYBNN_PARALLEL_H
#define PYBNN_PARALLEL_H

#include <stddef.h>

#include "bnn.h"

typedef void (*bnn_task_fn)(void *ctx, size_t task);

/* Run fn(ctx, t) for every t < n_tasks on up to `threads` threads (the caller
 * is one of them; threads <= 0: bnn_default_threads()). Each thread starts
 * on a contiguous range of the tasks of its own (the same range in every
 * region of as many tasks, so the data a task reads stays in that core's
 * cache), then takes what is left of the others; each task runs exactly
 * once, and the call returns when all have.
 *
 * The helpers are one pool per process, started on the first call that wants
 * them and sized to the cores the process may use (sched_getaffinity), so a
 * request for more threads gets that many. One call uses the pool at a time:
 * concurrent callers queue, and a call made from inside a task runs inline on
 * its thread (never a deadlock). The pool is joined at exit and forgotten in
 * a forked child, which starts its own when it needs one. */
bnn_status bnn_parallel_for(size_t n_tasks, int threads, bnn_task_fn fn, void *ctx);

/* Threads worth using for `work` units when each thread should get at least
 * `min_per_thread` of them (below that, handing work to a helper costs more
 * than it saves): min(threads, work / min_per_thread + 1), threads <= 0
 * meaning bnn_default_threads(). Every op sizes its parallel regions here. */
int bnn_threads_for(size_t work, size_t min_per_thread, int threads);

/* Word operations (64 binary MACs each; a first layer's 16 bytes of K per
 * output count as one) a thread should get before a helper joins: about
 * 10-20 us of kernel time, some 10x what waking a spinning helper costs. */
#define BNN_MIN_WORD_OPS_PER_THREAD ((size_t)1 << 16)
/* Bytes a thread should read or write in a memory-bound op (im2col, pooling):
 * 64 KiB is a few us of copying, several times what waking a spinning helper
 * costs, and lets a batch-1 conv's patches (20-150 KiB in the paper's
 * ConvNet) be split. */
#define BNN_MIN_BYTES_PER_THREAD ((size_t)1 << 16)

/* Helper threads the pool has started (0 before the first parallel call, and
 * in a forked child until its first one). For tests. */
int bnn_pool_helpers(void);

#endif
