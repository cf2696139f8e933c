/* test_parallel.c - the thread pool (src/common/parallel.c) on its own:
 *   - every task runs exactly once, for many small regions back to back and
 *     for thread counts from 1 to twice the cores (more than the pool has);
 *   - the helpers do take tasks (a region of slow tasks sees other threads),
 *     a helper starting on a range of its own (parallel.c's home ranges);
 *   - a region started from inside a task runs inline (no deadlock);
 *   - several threads calling at once each get all their tasks run;
 *   - after fork, the child (which has no helpers) runs regions, starting
 *     its own pool, and exits; the parent's pool still works;
 *   - bnn_threads_for keeps to the rule parallel.h states.
 * Runs natively and under qemu (scripts/cross_test.sh); with --no-fork the
 * fork check is left out: qemu-user itself aborts when a process that has
 * started threads forks (an assertion in qemu's TCG), so under qemu it says
 * nothing about pybnn. Prints
 * "N passed, N failed"; exits 1 on any failure. A hang is a failure too:
 * an alarm ends the program after ALARM_SECONDS. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/parallel.h"

#define ALARM_SECONDS 120
#define MAX_TASKS 512

static int passed, failed;

static void expect(int ok, const char *what)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL: %s\n", what);
    }
}

typedef struct counts {
    int hits[MAX_TASKS];
    int nested; /* run a nested region from task 0 */
} counts;

static void count_task(void *ctx, size_t t)
{
    counts *c = ctx;
    __atomic_add_fetch(&c->hits[t], 1, __ATOMIC_RELAXED);
}

/* Task t of an outer region runs an inner region of 8 tasks inline. */
static void nested_task(void *ctx, size_t t)
{
    counts *c = ctx;
    counts inner;
    memset(&inner, 0, sizeof inner);
    bnn_parallel_for(8, 4, count_task, &inner);
    int ok = 1;
    for (int i = 0; i < 8; i++)
        ok &= inner.hits[i] == 1;
    __atomic_add_fetch(&c->hits[t], ok ? 1 : 100, __ATOMIC_RELAXED);
}

/* One region of n tasks on `threads` threads: every task exactly once. */
static int region_ok(size_t n, int threads, bnn_task_fn fn)
{
    counts c;
    memset(&c, 0, sizeof c);
    if (bnn_parallel_for(n, threads, fn, &c) != BNN_OK)
        return 0;
    for (size_t t = 0; t < MAX_TASKS; t++)
        if (c.hits[t] != (t < n))
            return 0;
    return 1;
}

/* Slow tasks that note whether a thread other than the caller ran them. */
typedef struct who {
    pthread_t caller;
    int others;
} who;

static void slow_task(void *ctx, size_t t)
{
    who *w = ctx;
    volatile unsigned spin = 0;
    for (unsigned i = 0; i < 200000; i++)
        spin += i;
    (void)spin; /* only there to take time */
    if (!pthread_equal(pthread_self(), w->caller))
        __atomic_add_fetch(&w->others, 1, __ATOMIC_RELAXED);
}

/* On a busy machine a helper may not be scheduled within one region (the
 * caller then runs every task): a few tries. */
static int helpers_take_tasks(void)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        who w = {pthread_self(), 0};
        bnn_parallel_for(200, 0, slow_task, &w);
        if (w.others > 0)
            return 1;
    }
    return 0;
}

/* Slow tasks that note the first task each helper runs in a region. */
typedef struct firsts {
    pthread_t caller;
    int region;
    size_t first[64]; /* first[f]: the first task of the f-th helper to start */
    int n_first;
} firsts;
static __thread int seen_region = -1;

static void first_task(void *ctx, size_t t)
{
    firsts *f = ctx;
    if (!pthread_equal(pthread_self(), f->caller) && seen_region != f->region) {
        seen_region = f->region;
        int i = __atomic_fetch_add(&f->n_first, 1, __ATOMIC_RELAXED);
        if (i < 64)
            f->first[i] = t;
    }
    slow_task(&(who){f->caller, 0}, t);
}

/* Whether a helper began a region at the start of a range other than the
 * caller's (task n * i / threads, i >= 1), as parallel.c's home ranges
 * have it; with one shared counter a helper's first task is the one after
 * the caller's. A few tries: a helper the OS schedules late starts where
 * the caller left off. */
static int helpers_start_on_their_ranges(int threads)
{
    const size_t n = 64;
    for (int attempt = 0; attempt < 20; attempt++) {
        firsts f;
        memset(&f, 0, sizeof f);
        f.caller = pthread_self();
        f.region = attempt;
        bnn_parallel_for(n, threads, first_task, &f);
        for (int h = 0; h < f.n_first && h < 64; h++)
            for (int i = 1; i < threads; i++)
                if (f.first[h] == n * (size_t)i / (size_t)threads)
                    return 1;
    }
    return 0;
}

static void *caller_main(void *arg)
{
    int ok = 1;
    for (int r = 0; r < 300; r++)
        ok &= region_ok((size_t)(r % 37) + 1, 0, count_task);
    *(int *)arg = ok;
    return NULL;
}

int main(int argc, char **argv)
{
    char what[128];
    int with_fork = !(argc > 1 && strcmp(argv[1], "--no-fork") == 0);
    if (argc > 1 && with_fork) {
        fprintf(stderr, "usage: %s [--no-fork]\n", argv[0]);
        return 2;
    }
    alarm(ALARM_SECONDS);
    int cores = bnn_default_threads();
    expect(cores >= 1, "bnn_default_threads() >= 1");
    expect(bnn_pool_helpers() == 0, "no helper threads before the first parallel region");

    /* many small regions, every thread count */
    for (int threads = 0; threads <= 2 * cores + 1; threads++) {
        int ok = 1;
        for (int r = 0; r < 300; r++)
            ok &= region_ok((size_t)(r % 67), threads, count_task);
        snprintf(what, sizeof what, "300 small regions on %d thread(s)", threads);
        expect(ok, what);
    }
    expect(region_ok(MAX_TASKS, 0, count_task), "a region of 512 tasks");
    snprintf(what, sizeof what, "pool has %d helper(s) after a region (cores - 1)", cores - 1);
    expect(bnn_pool_helpers() == cores - 1, what);

    if (cores > 1) {
        expect(helpers_take_tasks(), "helper threads take tasks");
        expect(helpers_start_on_their_ranges(cores), "a helper starts on a range of its own");
    }
    expect(region_ok(16, 0, nested_task), "nested regions run inline");

    /* several callers at once */
    pthread_t ids[3];
    int oks[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++)
        pthread_create(&ids[i], NULL, caller_main, &oks[i]);
    for (int i = 0; i < 3; i++)
        pthread_join(ids[i], NULL);
    expect(oks[0] && oks[1] && oks[2], "3 threads calling bnn_parallel_for at once");

    /* fork: the child has no helpers, starts its own, and exits cleanly */
    fflush(NULL);
    pid_t pid = with_fork ? fork() : -1;
    if (with_fork && pid == 0) {
        int ok = bnn_pool_helpers() == 0;
        for (int r = 0; r < 500; r++)
            ok &= region_ok((size_t)(r % 67) + 1, 0, count_task);
        ok &= bnn_pool_helpers() == cores - 1;
        exit(ok ? 0 : 3);
    }
    int status = 0;
    if (with_fork)
        expect(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
               WEXITSTATUS(status) == 0,
               "a forked child runs regions (its own pool) and exits with 0");
    expect(region_ok(100, 0, count_task), "the parent's pool works after fork");

    expect(bnn_threads_for(0, 100, 4) == 1, "threads_for: no work gets 1 thread");
    expect(bnn_threads_for(250, 100, 4) == 3, "threads_for: 250 units at 100 per thread get 3");
    expect(bnn_threads_for(1000000, 100, 4) == 4, "threads_for: capped at the request");
    expect(bnn_threads_for(1000000, 100, 0) == cores, "threads_for: 0 means all cores");

    printf("test_parallel: %d cores%s: %d passed, %d failed\n", cores, with_fork ? "" : " (fork left out)", passed,
           failed);
    return failed ? 1 : 0;
}
