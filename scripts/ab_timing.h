/* ab_timing.h - the clock and the sort of scripts/ab_models.c and
 * ab_bgemm.c (two library versions timed in one process). */
#ifndef AB_TIMING_H
#define AB_TIMING_H
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
#endif
