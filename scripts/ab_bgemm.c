/* ab_bgemm.c - two builds of the C library timing bnn_bgemm (or, with
 * PREPARED=1, bnn_bgemm_prepared) on the same operands in one process
 * (scripts/ab_bgemm.sh builds them and runs this). Why one process: see
 * ab_models.c.
 *
 *   ab_bgemm LIB_A LIB_B ROUNDS THREADS M,N,K...
 *
 * Per shape: GMAC/s of A and B (binary MACs, M*N*K per product), median and
 * best of ROUNDS slices each, and B/A. The two libraries' products must be
 * equal (integer results: any difference is a bug): exit 1 if not. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ab_timing.h"

#define SLICE_SECONDS 0.02

typedef int (*bgemm_fn)(const uint64_t *, const uint64_t *, int32_t *, size_t, size_t, size_t,
                        int);
typedef int (*prepare_fn)(const uint64_t *, size_t, size_t, void **);
typedef int (*prepared_fn)(const uint64_t *, const void *, int32_t *, size_t, int);
typedef void (*free_fn)(void *);

typedef struct version {
    bgemm_fn bgemm;
    prepare_fn prepare;
    prepared_fn prepared;
    free_fn free_prepared;
    void *b; /* B prepared by this library, or NULL */
} version;

static uint64_t next_u64(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* rows x k random bits, rows of words_for(k) words, padding bits 0 */
static uint64_t *random_bits(size_t rows, size_t k, uint64_t *seed)
{
    size_t words = (k + 63) / 64;
    uint64_t *p = malloc(rows * words * sizeof(uint64_t));
    for (size_t i = 0; p && i < rows * words; i++)
        p[i] = next_u64(seed);
    for (size_t r = 0; p && k % 64 && r < rows; r++)
        p[r * words + words - 1] &= ((uint64_t)1 << (k % 64)) - 1;
    return p;
}

static int run(const version *v, const uint64_t *a, const uint64_t *b, int32_t *c, size_t m,
               size_t n, size_t k, int threads)
{
    return v->b ? v->prepared(a, v->b, c, m, threads) : v->bgemm(a, b, c, m, n, k, threads);
}

/* One product, by either version (ab_alternate's call). */
typedef struct product {
    const version *v;
    const uint64_t *a, *b;
    int32_t *c[2];
    size_t m, n, k;
    int threads;
} product;

static void run_product(void *ctx, int i)
{
    const product *p = ctx;
    run(&p->v[i], p->a, p->b, p->c[i], p->m, p->n, p->k, p->threads);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: ab_bgemm LIB_A LIB_B ROUNDS THREADS M,N,K...\n");
        return 2;
    }
    int prepared = getenv("PREPARED") && strcmp(getenv("PREPARED"), "1") == 0;
    version v[2];
    for (int i = 0; i < 2; i++) {
        void *h = dlopen(argv[1 + i], RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
        if (!h) {
            fprintf(stderr, "ab_bgemm: cannot load %s: %s\n", argv[1 + i], dlerror());
            return 1;
        }
        v[i].bgemm = (bgemm_fn)dlsym(h, "bnn_bgemm");
        v[i].prepare = (prepare_fn)dlsym(h, "bnn_prepare_b");
        v[i].prepared = (prepared_fn)dlsym(h, "bnn_bgemm_prepared");
        v[i].free_prepared = (free_fn)dlsym(h, "bnn_prepared_b_free");
        if (!v[i].bgemm || (prepared && (!v[i].prepare || !v[i].prepared || !v[i].free_prepared))) {
            fprintf(stderr, "ab_bgemm: %s lacks bnn_bgemm%s\n", argv[1 + i],
                    prepared ? " or bnn_prepare_b" : "");
            return 1;
        }
    }
    int rounds = atoi(argv[3]), threads = atoi(argv[4]);
    if (rounds < 1 || rounds > AB_MAX_ROUNDS) {
        fprintf(stderr, "ab_bgemm: ROUNDS must be 1..%d, got %s\n", AB_MAX_ROUNDS, argv[3]);
        return 2;
    }
    static double t[2][AB_MAX_ROUNDS];
    uint64_t seed = 1;
    for (int s = 5; s < argc; s++) {
        size_t m, n, k;
        if (sscanf(argv[s], "%zu,%zu,%zu", &m, &n, &k) != 3 || !m || !n || !k) {
            fprintf(stderr, "ab_bgemm: a shape is M,N,K of positive integers, got %s\n", argv[s]);
            return 2;
        }
        uint64_t *a = random_bits(m, k, &seed), *b = random_bits(n, k, &seed);
        int32_t *c[2] = {malloc(m * n * sizeof(int32_t)), malloc(m * n * sizeof(int32_t))};
        if (!a || !b || !c[0] || !c[1]) {
            fprintf(stderr, "ab_bgemm: out of memory for [%zu,%zu,%zu]\n", m, n, k);
            return 1;
        }
        for (int i = 0; i < 2; i++) {
            v[i].b = NULL;
            if (prepared && v[i].prepare(b, n, k, &v[i].b) != 0) {
                fprintf(stderr, "ab_bgemm: bnn_prepare_b failed for [%zu,%zu,%zu]\n", m, n, k);
                return 1;
            }
            if (run(&v[i], a, b, c[i], m, n, k, threads) != 0) {
                fprintf(stderr, "ab_bgemm: the product [%zu,%zu,%zu] failed\n", m, n, k);
                return 1;
            }
        }
        if (memcmp(c[0], c[1], m * n * sizeof(int32_t)) != 0) {
            fprintf(stderr, "ab_bgemm: [%zu,%zu,%zu]: the two libraries' products differ\n", m, n,
                    k);
            return 1;
        }
        product p = {v, a, b, {c[0], c[1]}, m, n, k, threads};
        ab_alternate(run_product, &p, rounds, SLICE_SECONDS, t);
        double macs = (double)m * (double)n * (double)k / 1e9;
        printf("[%zu,%zu,%zu]%s threads %d GMAC/s: A %.1f (best %.1f)  B %.1f (best %.1f)  B/A %.3f "
               "(best %.3f)\n",
               m, n, k, prepared ? " prepared" : "", threads, macs / t[0][rounds / 2],
               macs / t[0][0], macs / t[1][rounds / 2], macs / t[1][0],
               t[0][rounds / 2] / t[1][rounds / 2], t[0][0] / t[1][0]);
        for (int i = 0; i < 2; i++)
            if (v[i].b)
                v[i].free_prepared(v[i].b);
        free(a);
        free(b);
        free(c[0]);
        free(c[1]);
    }
    return 0;
}
