/* test_threads.c - one model run from several threads at once, each run
 * itself split over the library's thread pool, must give the scores of a
 * single-threaded run, bit for bit. Public API only (bnn.h). Written for
 * ThreadSanitizer (scripts/sanitize.sh): it exercises the shared workspace
 * cache (its lock), the thread pool's task counter and the lazy, once-only
 * initialisation (dispatch, CRC tables, the workspace limit) from many
 * threads at once.
 *
 *   test_threads MODEL.bnn INPUT.u8 N [THREADS] [ROUNDS]
 *
 * INPUT.u8: N samples of input_size bytes (as bnn_classify). THREADS
 * callers (default 4) each run ROUNDS (default 20) batches of 1..N samples,
 * with 1 or 2 pool threads. Exit status 0 when every result matched. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bnn.h"

#define MAX_CALLERS 64

typedef struct shared {
    const char *path;
    bnn_model *model;
    const uint8_t *input;
    const float *want; /* N x classes, from one thread */
    size_t n, in, classes;
    int rounds;
} shared;

typedef struct caller {
    const shared *s;
    int id;
    int mismatches, errors;
} caller;

static void *run_caller(void *arg)
{
    caller *c = arg;
    const shared *s = c->s;
    float *got = malloc(s->n * s->classes * sizeof *got);
    if (!got) {
        c->errors++;
        return NULL;
    }
    for (int r = 0; r < c->s->rounds; r++) {
        size_t start = (size_t)(c->id + r) % s->n;
        size_t batch = 1 + (size_t)(c->id * 7 + r * 3) % (s->n - start);
        int pool = 1 + (c->id + r) % 2;
        if (bnn_model_run(s->model, s->input + start * s->in, batch, got, pool) != BNN_OK) {
            fprintf(stderr, "test_threads: caller %d: %s\n", c->id, bnn_last_error());
            c->errors++;
            continue;
        }
        if (memcmp(got, s->want + start * s->classes, batch * s->classes * sizeof *got) != 0)
            c->mismatches++;
        if (r % 5 == 0) { /* a load from the same file by each caller, meanwhile */
            bnn_model *mine = NULL;
            if (bnn_model_load_file(s->path, &mine) != BNN_OK)
                c->errors++;
            bnn_model_free(mine);
        }
    }
    free(got);
    return NULL;
}

static uint8_t *read_file(const char *path, size_t size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = malloc(size ? size : 1);
    if (!f || !data || fread(data, 1, size, f) != size) {
        fprintf(stderr, "test_threads: cannot read %zu bytes from '%s'\n", size, path);
        exit(2);
    }
    fclose(f);
    return data;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: test_threads MODEL.bnn INPUT.u8 N [THREADS] [ROUNDS]\n");
        return 2;
    }
    shared s = {argv[1], NULL, NULL, NULL, (size_t)strtoul(argv[3], NULL, 10), 0, 0,
                argc > 5 ? atoi(argv[5]) : 20};
    int callers = argc > 4 ? atoi(argv[4]) : 4;
    if (s.n < 1 || callers < 1 || callers > MAX_CALLERS || s.rounds < 1) {
        fprintf(stderr, "test_threads: N >= 1, 1 <= THREADS <= %d and ROUNDS >= 1\n",
                MAX_CALLERS);
        return 2;
    }
    if (bnn_model_load_file(s.path, &s.model) != BNN_OK) {
        fprintf(stderr, "test_threads: %s\n", bnn_last_error());
        return 1;
    }
    s.in = bnn_model_input_size(s.model);
    s.classes = bnn_model_num_classes(s.model);
    s.input = read_file(argv[2], s.n * s.in);
    float *want = malloc(s.n * s.classes * sizeof *want);
    if (!want || bnn_model_run(s.model, s.input, s.n, want, 1) != BNN_OK) {
        fprintf(stderr, "test_threads: the single-threaded run failed: %s\n", bnn_last_error());
        return 1;
    }
    s.want = want;

    pthread_t ids[MAX_CALLERS];
    caller cs[MAX_CALLERS];
    for (int i = 0; i < callers; i++) {
        cs[i] = (caller){&s, i, 0, 0};
        if (pthread_create(&ids[i], NULL, run_caller, &cs[i]) != 0) {
            fprintf(stderr, "test_threads: cannot start thread %d\n", i);
            return 1;
        }
    }
    int mismatches = 0, errors = 0;
    for (int i = 0; i < callers; i++) {
        pthread_join(ids[i], NULL);
        mismatches += cs[i].mismatches;
        errors += cs[i].errors;
    }
    printf("test_threads: %d callers x %d runs on one model (%s): %d mismatches, %d errors\n",
           callers, s.rounds, bnn_isa(), mismatches, errors);
    free(want);
    free((void *)s.input);
    bnn_model_free(s.model);
    return mismatches || errors ? 1 : 0;
}
