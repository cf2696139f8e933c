/* parallel.c - threads are started per call: the kernels that use this run
 * for far longer than a thread start (tens of microseconds), and small calls
 * stay on the calling thread. No global state, so every call is reentrant. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/parallel.h"

#define BNN_MAX_THREADS 256

typedef struct job {
    bnn_task_fn fn;
    void *ctx;
    size_t n_tasks;
    size_t next; /* next task to hand out, taken atomically */
} job;

static void *worker(void *arg)
{
    job *j = arg;
    for (;;) {
        size_t t = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
        if (t >= j->n_tasks)
            break;
        j->fn(j->ctx, t);
    }
    return NULL;
}

bnn_status bnn_parallel_for(size_t n_tasks, int threads, bnn_task_fn fn, void *ctx)
{
    job j = {fn, ctx, n_tasks, 0};
    if (threads <= 0)
        threads = bnn_default_threads();
    if ((size_t)threads > n_tasks)
        threads = (int)n_tasks;
    if (threads > BNN_MAX_THREADS)
        threads = BNN_MAX_THREADS;
    pthread_t ids[BNN_MAX_THREADS];
    int started = 0;
    for (; started < threads - 1; started++)
        if (pthread_create(&ids[started], NULL, worker, &j) != 0)
            break; /* run with fewer threads; the tasks still all run */
    worker(&j);
    for (int i = 0; i < started; i++)
        pthread_join(ids[i], NULL);
    return BNN_OK;
}

int bnn_default_threads(void)
{
#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
