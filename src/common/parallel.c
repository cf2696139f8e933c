/* parallel.c - the thread pool behind bnn_parallel_for (parallel.h).
 *
 * Why persistent: a model runs one parallel region per layer, some of them
 * 10-50 us long at batch 1; starting and joining threads per region costs
 * 30-300 us, more than the region. Helpers started once and kept waiting
 * make small regions scale.
 *
 * How a region runs: the caller takes the `submit` lock (one region at a
 * time), publishes the job and opens it under a new generation in `state`;
 * a helper that sees the new generation joins by raising the count in
 * `state` while the region is still open, takes tasks (from its home range
 * first: task_range below), and leaves. The caller runs tasks too; when
 * none are left it closes the region and waits only for the helpers that
 * joined. A helper that the OS has not scheduled (a busy machine) never
 * delays the caller: it finds the region closed and does nothing. A helper spins for a while (about
 * 0.1-0.3 ms) before it sleeps on a condition variable, so back-to-back
 * layers reach it without a system call.
 *
 * Exit and fork: an atexit handler stops and joins the helpers; pthread_atfork
 * holds `submit` across fork (no region is half published), and in the child,
 * where the helpers do not exist, resets the pool to "not started". */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/parallel.h"

#define MAX_HELPERS 255
/* Polls of `generation` (each with a pause) before a helper goes to sleep. */
#define SPIN_POLLS (1 << 14)

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH >= 7)
    __asm__ volatile("yield");
#endif
}

/* state: generation << 9 | OPEN | helpers inside the region (at most
 * MAX_HELPERS = 255: 8 bits). 32 bits, so every target has the atomics
 * natively (ARMv6, Raspberry Pi OS's default target, has no 64-bit ones
 * without libatomic). The generation wraps after 2^23 regions; helpers only
 * compare it for equality, and one that slept through exactly 2^23 regions
 * would merely skip a region, which the caller runs anyway. */
typedef uint32_t pool_state;
#define STATE_OPEN ((pool_state)1 << 8)
#define STATE_INSIDE ((pool_state)0xff)
#define STATE_GENERATION(v) ((pool_state)(v) >> 9)

#define CACHE_LINE 64

typedef struct pool {
    pthread_mutex_t submit; /* held by the caller of a region for its whole length */
    pthread_mutex_t lock;   /* guards the sleeps and wakes below */
    pthread_cond_t wake;    /* helpers sleep here between regions */
    pthread_cond_t done;    /* the caller sleeps here until the helpers inside left */
    pthread_t ids[MAX_HELPERS];
    int helpers;            /* started */
    int started;            /* start attempted (once per process, and per forked child) */
    int stop;
    /* On a line of its own: helpers join and leave by atomic operations on
     * it. Sharing a line with what the caller reads while it runs its tasks
     * (fn, ctx, ranges), it cost the caller a transfer from the helper's
     * core per region (0.1-0.2 us in a VM guest). */
    pool_state state __attribute__((aligned(CACHE_LINE)));
    /* The current region, on the next line: written only while it is closed
     * with no helper inside, read by every thread in it. */
    bnn_task_fn fn __attribute__((aligned(CACHE_LINE)));
    void *ctx;
    int ranges;             /* the region's tasks in this many home ranges */
    pool_state max_inside;  /* helpers the caller asked for; atomic: a helper
                               holding a stale open state may read it while the
                               caller sets up the next region (its join then
                               fails, but the read must not be a data race) */
} pool;

/* A region's tasks are cut into one contiguous range per thread it may run
 * on; the caller starts on range 0 and helper k on range 1 + k (mod the
 * helpers asked for), each taking tasks from the front of a range with its
 * own atomic counter, then from the other ranges in turn. So every task
 * runs once, any thread may finish any range (a helper the OS has not
 * scheduled delays nothing), and back-to-back regions of the same shape
 * give a thread the same tasks: a layer's weights, or a one-row product's
 * B, stay in that core's cache from call to call, where one shared counter
 * handed them out at random (Sapphire Rapids, [1,4096,1024] on 2 threads:
 * no faster than on 1). Each range's counter has a cache line to itself. */
#define TASK_RANGE_BYTES CACHE_LINE
typedef struct {
    size_t next, end; /* next: the range's next task, taken atomically */
    char pad[TASK_RANGE_BYTES - 2 * sizeof(size_t)];
} task_range;
static task_range ranges[MAX_HELPERS + 1] __attribute__((aligned(TASK_RANGE_BYTES)));

/* The generation helper k has seen when it is created (written before);
 * k, its place in the array, gives its home range. */
static uint64_t helper_seen[MAX_HELPERS];

static pool the_pool = {.submit = PTHREAD_MUTEX_INITIALIZER, .lock = PTHREAD_MUTEX_INITIALIZER,
                        .wake = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static int default_threads_read; /* bnn_default_threads's answer; 0: not read yet */
static __thread int inside_task; /* this thread is running a task: nested calls run inline */

static void run_tasks(pool *p, int home)
{
    inside_task = 1;
    for (int i = 0; i < p->ranges; i++) {
        task_range *r = &ranges[(home + i) % p->ranges];
        /* a look before each take: taking from a range that is done would
         * write its line, which its owner then fetches back (a transfer
         * between cores in the path of both) */
        while (__atomic_load_n(&r->next, __ATOMIC_RELAXED) < r->end) {
            size_t t = __atomic_fetch_add(&r->next, 1, __ATOMIC_RELAXED);
            if (t >= r->end)
                break;
            p->fn(p->ctx, t);
        }
    }
    inside_task = 0;
}

/* Join the region of generation g if it is still open and wants another
 * helper. */
static int try_join(pool *p, uint64_t g)
{
    pool_state v = __atomic_load_n(&p->state, __ATOMIC_ACQUIRE);
    while (STATE_GENERATION(v) == g && (v & STATE_OPEN) &&
           (v & STATE_INSIDE) < __atomic_load_n(&p->max_inside, __ATOMIC_RELAXED))
        if (__atomic_compare_exchange_n(&p->state, &v, v + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return 1;
    return 0;
}

static void *helper_main(void *arg)
{
    pool *p = &the_pool;
    const uint64_t *start = arg;
    const int index = (int)(start - helper_seen);
    uint64_t seen = *start; /* the generation when this helper started */
    for (;;) {
        uint64_t g = STATE_GENERATION(__atomic_load_n(&p->state, __ATOMIC_ACQUIRE));
        for (int i = 0; g == seen && i < SPIN_POLLS; i++) {
            cpu_relax();
            g = STATE_GENERATION(__atomic_load_n(&p->state, __ATOMIC_ACQUIRE));
        }
        if (g == seen) {
            pthread_mutex_lock(&p->lock);
            /* `stop` is written atomically without the lock (pool_shutdown):
             * read it atomically too (a plain read races, as TSan reports). */
            while ((g = STATE_GENERATION(__atomic_load_n(&p->state, __ATOMIC_ACQUIRE))) == seen &&
                   !__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
                pthread_cond_wait(&p->wake, &p->lock);
            pthread_mutex_unlock(&p->lock);
        }
        if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
            return NULL;
        seen = g;
        if (!try_join(p, g))
            continue;
        run_tasks(p, 1 + index % (p->ranges - 1));
        pool_state v = __atomic_sub_fetch(&p->state, 1, __ATOMIC_ACQ_REL);
        if ((v & STATE_INSIDE) == 0 && !(v & STATE_OPEN)) { /* the caller may be waiting */
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
    }
}

/* Publish a closed, empty region of the next generation (wakes every helper). */
static void next_generation(pool *p, pool_state flags)
{
    pthread_mutex_lock(&p->lock);
    pool_state g = STATE_GENERATION(__atomic_load_n(&p->state, __ATOMIC_RELAXED)) + 1;
    __atomic_store_n(&p->state, (pool_state)(g << 9) | flags, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

/* atexit: stop and join the helpers. If a region is running on another
 * thread (the process is exiting under it), leave them: exit ends them. */
static void pool_shutdown(void)
{
    pool *p = &the_pool;
    if (pthread_mutex_trylock(&p->submit) != 0)
        return;
    __atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
    next_generation(p, 0);
    for (int i = 0; i < p->helpers; i++)
        pthread_join(p->ids[i], NULL);
    p->helpers = 0;
    pthread_mutex_unlock(&p->submit);
}

static void before_fork(void) { pthread_mutex_lock(&the_pool.submit); }
static void after_fork_parent(void) { pthread_mutex_unlock(&the_pool.submit); }

/* The child has only the forking thread: no helpers, and the locks and
 * condition variables may be in any state they were in elsewhere. */
static void after_fork_child(void)
{
    pool *p = &the_pool;
    pthread_mutex_init(&p->submit, NULL);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->helpers = 0;
    p->started = 0;
    p->stop = 0;
    p->state = 0;
    default_threads_read = 0;
}

static void register_atfork(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

/* Start the helpers (under `submit`, once per process). On failure to
 * start some, the pool has fewer: every task still runs. */
static void pool_start(pool *p)
{
    p->started = 1;
    int want = bnn_default_threads() - 1;
    if (want > MAX_HELPERS)
        want = MAX_HELPERS;
    __atomic_store_n(&p->stop, 0, __ATOMIC_RELEASE);
    uint64_t g = STATE_GENERATION(__atomic_load_n(&p->state, __ATOMIC_ACQUIRE));
    for (; p->helpers < want; p->helpers++) {
        helper_seen[p->helpers] = g;
        if (pthread_create(&p->ids[p->helpers], NULL, helper_main, &helper_seen[p->helpers]) != 0)
            break;
    }
    static int exit_registered;
    if (!exit_registered && p->helpers > 0)
        exit_registered = atexit(pool_shutdown) == 0;
}

bnn_status bnn_parallel_for(size_t n_tasks, int threads, bnn_task_fn fn, void *ctx)
{
    pool *p = &the_pool;
    if (threads <= 0)
        threads = bnn_default_threads();
    if ((size_t)threads > n_tasks)
        threads = (int)n_tasks;
    if (threads <= 1 || inside_task) {
        for (size_t t = 0; t < n_tasks; t++)
            fn(ctx, t);
        return BNN_OK;
    }
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&p->submit);
    if (!p->started)
        pool_start(p);
    p->fn = fn;
    p->ctx = ctx;
    p->ranges = threads;
    for (int i = 0; i < threads; i++) {
        ranges[i].next = (size_t)((uint64_t)n_tasks * (uint64_t)i / (uint64_t)threads);
        ranges[i].end = (size_t)((uint64_t)n_tasks * (uint64_t)(i + 1) / (uint64_t)threads);
    }
    __atomic_store_n(&p->max_inside, (pool_state)(threads - 1), __ATOMIC_RELAXED);
    if (p->helpers > 0)
        next_generation(p, STATE_OPEN);
    run_tasks(p, 0);
    /* close: no helper joins from now on; wait for those inside */
    pool_state v = __atomic_and_fetch(&p->state, (pool_state)~STATE_OPEN, __ATOMIC_ACQ_REL);
    for (int i = 0; (v & STATE_INSIDE) != 0 && i < SPIN_POLLS; i++) {
        cpu_relax();
        v = __atomic_load_n(&p->state, __ATOMIC_ACQUIRE);
    }
    if ((v & STATE_INSIDE) != 0) {
        pthread_mutex_lock(&p->lock);
        while ((__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) & STATE_INSIDE) != 0)
            pthread_cond_wait(&p->done, &p->lock);
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_unlock(&p->submit);
    return BNN_OK;
}

int bnn_threads_for(size_t work, size_t min_per_thread, int threads)
{
    if (threads <= 0)
        threads = bnn_default_threads();
    size_t most = work / (min_per_thread ? min_per_thread : 1) + 1;
    return most < (size_t)threads ? (int)most : threads;
}

int bnn_pool_helpers(void)
{
    pthread_mutex_lock(&the_pool.submit);
    int n = the_pool.helpers;
    pthread_mutex_unlock(&the_pool.submit);
    return n;
}

/* Read once (a forked child reads it again): sched_getaffinity is a system
 * call, some 0.4 us in a VM guest, which a small bgemm with the default
 * thread count paid on every call ([1,128,512]: 0.23 us of kernel, 0.62 us
 * in all). The pool is sized once too, so later affinity changes could not
 * give a call more threads anyway. */
int bnn_default_threads(void)
{
    int n = __atomic_load_n(&default_threads_read, __ATOMIC_RELAXED);
    if (n > 0)
        return n;
    n = 0;
#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
#endif
    if (n <= 0) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        n = online > 0 ? (int)online : 1;
    }
    __atomic_store_n(&default_threads_read, n, __ATOMIC_RELAXED);
    return n;
}
