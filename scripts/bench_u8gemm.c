/* bench_u8gemm.c - the first layer's product (u8gemm: uint8 inputs times +-1
 * weights) of every kernel set this CPU runs, timed in turn in one process;
 * built and run by scripts/bench_u8gemm.sh, which says how to use it.
 *
 *   bench_u8gemm ROUNDS M,N,K...
 *
 * Per shape: each set's result checked against the reference first, then
 * ROUNDS rounds that time every set once each (about 0.1 s of products per
 * set and round), so that load from elsewhere falls on all of them alike;
 * prints G byte-MAC/s, median (best), and the ratio of medians to the avx2
 * set (the scalar set where there is no avx2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bnn.h"
#include "cpu/kernels/kernels.h"
#include "ab_timing.h"

#define MAX_SETS 8

static double median_of(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, by_value);
    return t[n / 2];
}

static int bench_shape(const char **sets, int n_sets, int rounds, size_t m, size_t n, size_t k)
{
    uint8_t *x = malloc(m * k);
    int8_t *w = malloc(n * k), *panel = malloc(bnn_u8_panel_bytes(n, k));
    int32_t *c = malloc(m * n * sizeof(int32_t)), *want = malloc(m * n * sizeof(int32_t));
    double *t = malloc((size_t)n_sets * (size_t)rounds * sizeof(double));
    if (!x || !w || !panel || !c || !want || !t) {
        fprintf(stderr, "bench_u8gemm: out of memory at [%zu,%zu,%zu]\n", m, n, k);
        return 1;
    }
    srand(1);
    for (size_t i = 0; i < m * k; i++)
        x[i] = (uint8_t)rand();
    for (size_t i = 0; i < n * k; i++)
        w[i] = rand() & 1 ? 1 : -1;
    bnn_u8_panel_pack(w, n, k, panel);
    bnn_u8gemm_ref(m, n, k, x, k, panel, want, n);
    bnn_u8gemm_fn fns[MAX_SETS];
    for (int s = 0; s < n_sets; s++) {
        bnn_select_isa(sets[s]);
        fns[s] = bnn_active_kernels()->u8gemm;
        fns[s](m, n, k, x, k, panel, c, n);
        if (memcmp(c, want, m * n * sizeof(int32_t)) != 0) {
            fprintf(stderr, "bench_u8gemm: set %s differs from the reference at [%zu,%zu,%zu]\n",
                    sets[s], m, n, k);
            return 1;
        }
    }
    double macs = (double)m * (double)n * (double)k;
    int reps = (int)(1e8 / macs) + 1; /* about 0.1 s a set and round at 1 G byte-MAC/s */
    for (int r = 0; r < rounds; r++)
        for (int s = 0; s < n_sets; s++) {
            double t0 = now();
            for (int q = 0; q < reps; q++)
                fns[s](m, n, k, x, k, panel, c, n);
            t[s * rounds + r] = (now() - t0) / reps;
        }
    double med[MAX_SETS], best[MAX_SETS];
    int base = -1;
    for (int s = 0; s < n_sets; s++) {
        med[s] = median_of(t + s * rounds, rounds);
        best[s] = t[s * rounds];
        if (strcmp(sets[s], "avx2") == 0 || (base < 0 && strcmp(sets[s], "scalar") == 0))
            base = s;
    }
    printf("[%zu,%zu,%zu] G byte-MAC/s, median (best), and x %s:\n", m, n, k, sets[base]);
    for (int s = 0; s < n_sets; s++)
        printf("  %-12s %8.1f (%7.1f)  %5.2fx\n", sets[s], macs / med[s] * 1e-9,
               macs / best[s] * 1e-9, med[base] / med[s]);
    free(x), free(w), free(panel), free(c), free(want), free(t);
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 0;
    if (argc < 3 || rounds < 1 || rounds > AB_MAX_ROUNDS) {
        fprintf(stderr, "usage: bench_u8gemm ROUNDS M,N,K...\n");
        return 2;
    }
    const char *sets[MAX_SETS];
    int n_sets = bnn_available_isas(sets, MAX_SETS);
    n_sets = n_sets < MAX_SETS ? n_sets : MAX_SETS;
    for (int i = 2; i < argc; i++) {
        size_t m, n, k;
        if (sscanf(argv[i], "%zu,%zu,%zu", &m, &n, &k) != 3 || !m || !n || !k) {
            fprintf(stderr, "bench_u8gemm: a shape is M,N,K of positive integers, got %s\n", argv[i]);
            return 2;
        }
        if (bench_shape(sets, n_sets, rounds, m, n, k))
            return 1;
    }
    return 0;
}
