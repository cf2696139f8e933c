/* ab_timing.h - the timing loop of scripts/ab_models.c and ab_bgemm.c (two
 * library versions timed in one process). */
#ifndef AB_TIMING_H
#define AB_TIMING_H
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* qsort order of doubles, ascending: [0] is the best time, [n / 2] the median */
static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define AB_MAX_ROUNDS 1000

/* Seconds per call of call(ctx, 0) (A) and call(ctx, 1) (B), alternated:
 * `rounds` slices each, A first in even rounds and B in odd ones, each slice
 * as many calls as B makes in `slice` seconds. t[v] comes back sorted: [0]
 * the best slice, [rounds / 2] the median. */
static void ab_alternate(void (*call)(void *ctx, int v), void *ctx, int rounds, double slice,
                         double t[2][AB_MAX_ROUNDS])
{
    int reps = 0;
    for (double t0 = now(); now() - t0 < slice; reps++)
        call(ctx, 1);
    for (int r = 0; r < rounds; r++)
        for (int q = 0; q < 2; q++) {
            int v = (r + q) & 1;
            double t0 = now();
            for (int x = 0; x < reps; x++)
                call(ctx, v);
            t[v][r] = (now() - t0) / reps;
        }
    for (int v = 0; v < 2; v++)
        qsort(t[v], (size_t)rounds, sizeof(double), by_value);
}
#endif
