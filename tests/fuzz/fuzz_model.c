/* fuzz_model.c - libFuzzer harness for the C reader and executor, through
 * the public API (bnn.h) only.
 *
 * Each input is a candidate .bnn file, loaded from memory. A refusal must
 * leave *out NULL and a message in bnn_last_error(). An accepted model must
 * keep the API's promises (rank 1 or 3, dims that multiply to input_size,
 * at least one class, a workspace for one sample) and run 1 or 2 samples,
 * drawn from the input bytes, to the same scores bit for bit on every kernel
 * set this CPU has, "ref" (the oracle) included, and with 1 and 2 threads.
 * The structure-aware mutator (fuzz_mutator.c) recomputes both CRCs so most
 * mutants get past the checksums to the validation proper.
 *
 * Build and run: scripts/fuzz.sh (ASan + UBSan, -fno-sanitize-recover). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bnn.h"

/* Models whose input or workspace exceed these are loaded and checked but
 * not run: the fuzzer's memory limit would end the run, not a bug. */
#define MAX_INPUT_BYTES ((size_t)1 << 20)
#define MAX_WORKSPACE ((uint64_t)64 << 20)
#define MAX_ISAS 8

/* A finding: print why and abort, so libFuzzer saves the reproducer. */
static void finding(const char *what)
{
    fprintf(stderr, "fuzz_model: FINDING: %s\n", what);
    abort();
}

static const char *isas[MAX_ISAS + 1];
static int n_isas;
static const char *default_isa;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    default_isa = bnn_isa();
    n_isas = bnn_available_isas(isas, MAX_ISAS);
    if (n_isas > MAX_ISAS)
        n_isas = MAX_ISAS;
    isas[n_isas++] = "ref";
    return 0;
}

/* Deterministic sample bytes from the input (so a crash reproduces). */
static void fill_samples(uint8_t *x, size_t n, const uint8_t *data, size_t size)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ size;
    for (size_t i = 0; i < size && i < 256; i++)
        h = (h ^ data[i]) * 0x100000001b3ull;
    for (size_t i = 0; i < n; i++) {
        h ^= h >> 29;
        h *= 0xbf58476d1ce4e5b9ull;
        x[i] = (uint8_t)(h >> 56);
    }
}

static void check_promises(const bnn_model *m)
{
    size_t rank = bnn_model_input_rank(m), dims[3] = {0, 0, 0};
    bnn_model_input_dims(m, dims);
    size_t product = rank == 3 ? dims[0] * dims[1] * dims[2] : dims[0];
    if (rank != 1 && rank != 3)
        finding("input rank is neither 1 nor 3");
    if (product == 0 || product != bnn_model_input_size(m))
        finding("input dims do not multiply to input_size");
    if (bnn_model_num_classes(m) == 0)
        finding("an accepted model has no classes");
    if (bnn_model_workspace_bytes(m, 1) == 0 ||
        bnn_model_workspace_bytes(m, 2) < bnn_model_workspace_bytes(m, 1))
        finding("workspace_bytes is 0 or shrinks with the batch");
}

/* Run `batch` samples with kernel set `isa`; 0 if the run was refused for
 * memory (the limit), else 1 with the scores written. */
static int run_with(bnn_model *m, const char *isa, const uint8_t *x, size_t batch, float *scores,
                    int threads)
{
    if (bnn_select_isa(isa) != BNN_OK)
        finding("an ISA listed as available cannot be selected");
    bnn_status st = bnn_model_run(m, x, batch, scores, threads);
    if (st == BNN_ERR_NOMEM)
        return 0;
    if (st != BNN_OK) {
        fprintf(stderr, "fuzz_model: run on %s: %s\n", isa, bnn_last_error());
        finding("a run of a valid model with valid input failed");
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bnn_model *m = (bnn_model *)&m; /* not NULL: the loader must clear it */
    bnn_status st = bnn_model_load_memory(data, size, &m);
    if (st != BNN_OK) {
        if (m != NULL)
            finding("a failed load left *out set");
        if (!bnn_last_error()[0])
            finding("a failed load gave no message");
        if (st != BNN_ERR_FORMAT && st != BNN_ERR_UNSUPPORTED && st != BNN_ERR_NOMEM)
            finding("a load from memory failed with a status other than format/unsupported/nomem");
        return 0;
    }
    check_promises(m);
    size_t in = bnn_model_input_size(m), classes = bnn_model_num_classes(m);
    size_t batch = 1 + (size & 1);
    bnn_model_set_workspace_limit(m, MAX_WORKSPACE);
    if (in * batch <= MAX_INPUT_BYTES && bnn_model_workspace_bytes(m, batch) <= MAX_WORKSPACE &&
        classes <= (1u << 20)) {
        uint8_t *x = malloc(in * batch);
        float *want = malloc(classes * batch * sizeof *want);
        float *got = malloc(classes * batch * sizeof *got);
        if (!x || !want || !got)
            finding("the harness is out of memory");
        fill_samples(x, in * batch, data, size);
        if (run_with(m, "ref", x, batch, want, 1)) {
            char what[96];
            for (int t = 0; t < n_isas; t++)
                for (int threads = 1; threads <= 2; threads++) {
                    memset(got, 0xa5, classes * batch * sizeof *got);
                    if (!run_with(m, isas[t], x, batch, got, threads))
                        finding("a run was refused for memory after the oracle's succeeded");
                    if (memcmp(got, want, classes * batch * sizeof *got) != 0) {
                        snprintf(what, sizeof what, "scores of kernel set %s with %d thread(s) "
                                 "differ from ref", isas[t], threads);
                        finding(what);
                    }
                }
        }
        bnn_select_isa(default_isa);
        free(x);
        free(want);
        free(got);
    }
    bnn_model_free(m);
    return 0;
}
