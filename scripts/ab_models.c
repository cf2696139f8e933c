/* ab_models.c - two builds of the C library timed on the same model in one
 * process (scripts/ab_models.sh builds them and runs this).
 *
 * On a shared machine the load from elsewhere moves a timing by 20-50%
 * within a minute, so "before" and "after" timed in separate processes
 * differ by the minute they ran in. Here both libraries are loaded side by
 * side (dlopen, each with its own symbols) and run alternately in short
 * slices, so both meet the same load: the ratio of their medians is steady
 * to a few percent (the same library against itself: 0.99-1.00).
 *
 *   ab_models LIB_A LIB_B MODEL ROUNDS THREADS BATCH...
 *
 * Prints per batch: ms per image of A and B, median and best of ROUNDS
 * slices each, and B/A. Exit 1 if a library or the model cannot be loaded;
 * scores that differ between A and B are reported, not fatal (two versions
 * may legitimately change a float path). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ab_timing.h"

#define SLICE_SECONDS 0.03 /* one version's turn: long enough to time, short enough to alternate often */

typedef int (*load_fn)(const char *, void **);
typedef int (*run_fn)(const void *, const uint8_t *, size_t, float *, int);
typedef size_t (*size_fn)(const void *);
typedef const char *(*error_fn)(void);

typedef struct version {
    const char *path;
    void *model;
    run_fn run;
    size_t input_size, classes;
} version;

static int open_version(version *v, const char *lib, const char *model_path)
{
    /* RTLD_DEEPBIND: each library resolves its own symbols first, so the two
     * builds never call into each other */
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!h) {
        fprintf(stderr, "ab_models: cannot load %s: %s\n", lib, dlerror());
        return 0;
    }
    load_fn load = (load_fn)dlsym(h, "bnn_model_load_file");
    error_fn last_error = (error_fn)dlsym(h, "bnn_last_error");
    v->run = (run_fn)dlsym(h, "bnn_model_run");
    size_fn input_size = (size_fn)dlsym(h, "bnn_model_input_size");
    size_fn classes = (size_fn)dlsym(h, "bnn_model_num_classes");
    if (!load || !v->run || !input_size || !classes) {
        fprintf(stderr, "ab_models: %s is not a pybnn C library (bnn_model_* missing)\n", lib);
        return 0;
    }
    if (load(model_path, &v->model) != 0) {
        fprintf(stderr, "ab_models: %s cannot load %s: %s\n", lib, model_path,
                last_error ? last_error() : "(no message)");
        return 0;
    }
    v->path = lib;
    v->input_size = input_size(v->model);
    v->classes = classes(v->model);
    return 1;
}

/* One batch, run by either version (ab_alternate's call). */
typedef struct batch_run {
    const version *v;
    const uint8_t *x;
    size_t batch;
    float *scores[2];
    int threads;
} batch_run;

static void run_batch(void *ctx, int i)
{
    const batch_run *r = ctx;
    r->v[i].run(r->v[i].model, r->x, r->batch, r->scores[i], r->threads);
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: ab_models LIB_A LIB_B MODEL ROUNDS THREADS BATCH...\n");
        return 2;
    }
    version v[2];
    for (int i = 0; i < 2; i++)
        if (!open_version(&v[i], argv[1 + i], argv[3]))
            return 1;
    int rounds = atoi(argv[4]), threads = atoi(argv[5]);
    if (rounds < 1 || rounds > AB_MAX_ROUNDS) {
        fprintf(stderr, "ab_models: ROUNDS must be 1..%d, got %s\n", AB_MAX_ROUNDS, argv[4]);
        return 2;
    }
    if (v[0].input_size != v[1].input_size || v[0].classes != v[1].classes) {
        fprintf(stderr, "ab_models: the two libraries read %s differently\n", argv[3]);
        return 1;
    }
    static double t[2][AB_MAX_ROUNDS];
    for (int a = 6; a < argc; a++) {
        size_t batch = strtoul(argv[a], NULL, 10);
        if (batch == 0) {
            fprintf(stderr, "ab_models: batch must be a positive integer, got %s\n", argv[a]);
            return 2;
        }
        uint8_t *x = malloc(batch * v[0].input_size);
        float *s[2] = {malloc(batch * v[0].classes * sizeof(float)),
                       malloc(batch * v[0].classes * sizeof(float))};
        if (!x || !s[0] || !s[1]) {
            fprintf(stderr, "ab_models: out of memory for batch %zu\n", batch);
            return 1;
        }
        for (size_t i = 0; i < batch * v[0].input_size; i++)
            x[i] = (uint8_t)rand();
        for (int i = 0; i < 2; i++)
            if (v[i].run(v[i].model, x, batch, s[i], threads) != 0) {
                fprintf(stderr, "ab_models: %s failed to run batch %zu\n", v[i].path, batch);
                return 1;
            }
        if (memcmp(s[0], s[1], batch * v[0].classes * sizeof(float)) != 0)
            printf("note: batch %zu: the two libraries' scores differ\n", batch);
        batch_run run = {v, x, batch, {s[0], s[1]}, threads};
        ab_alternate(run_batch, &run, rounds, SLICE_SECONDS, t);
        for (int i = 0; i < 2; i++)
            for (int r = 0; r < rounds; r++)
                t[i][r] *= 1e3 / (double)batch; /* ms per image */
        printf("threads %d batch %4zu ms/image: A %.3f (best %.3f)  B %.3f (best %.3f)  B/A %.3f "
               "(best %.3f)\n",
               threads, batch, t[0][rounds / 2], t[0][0], t[1][rounds / 2], t[1][0],
               t[1][rounds / 2] / t[0][rounds / 2], t[1][0] / t[0][0]);
        free(x);
        free(s[0]);
        free(s[1]);
    }
    return 0;
}
