/* test_harness.h - what every per-ISA C test program (test_kernels.c,
 * test_u8gemm.c) shares: a repeatable PRNG, allocation that cannot fail,
 * the list of kernel sets under test ("ref" last) with a pass/fail tally for
 * each, and the command line (--expect-isa NAME), header and summary lines.
 *
 * Each program is one translation unit (src/Makefile builds every .c file
 * in tests/c on its own), so everything here is static. A program calls
 * harness_begin() first, sets rng_state, runs its checks with check(ok, t,
 * what) for kernel set t = 0 .. n_isas - 1, and returns harness_end(). */
#ifndef PYBNN_TEST_HARNESS_H
#define PYBNN_TEST_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bnn.h"
#include "cpu/kernels/kernels.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ISAS 8
#define SENTINEL ((int32_t)0x5a5a5a5a)

/* The kernel sets under test ("ref" last) and each one's tally. */
static const char *isas[MAX_ISAS + 1];
static int n_isas;
static int isa_passed[MAX_ISAS + 1], isa_failed[MAX_ISAS + 1];
static int total_failed;

/* Set by harness_begin: the program's name for error lines, the set that was
 * the default (restored at the end), and whether --expect-isa was not met. */
static const char *harness_prog;
static const char *harness_default_isa;
static int harness_expect_failed;

/* Deterministic data: splitmix64, so every platform sees the same values. */
static uint64_t rng_state;
static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        fprintf(stderr, "%s: out of memory (%zu bytes)\n", harness_prog, size);
        exit(2);
    }
    return p;
}

static void check(int ok, int t, const char *what)
{
    if (ok) {
        isa_passed[t]++;
        return;
    }
    isa_failed[t]++;
    if (++total_failed <= 30) /* the first few say enough */
        printf("  FAIL [%s] %s\n", isas[t], what);
}

/* A library call that is not under test but must work for the test to mean
 * anything: stop the program (exit 2) if it fails. */
static void must(bnn_status st, const char *what)
{
    if (st != BNN_OK) {
        fprintf(stderr, "%s: %s failed: %s\n", harness_prog, what, bnn_last_error());
        exit(2);
    }
}

/* Parses [--expect-isa NAME] (exit 2 on anything else), fills isas[] with
 * every set this CPU can run plus "ref" (the oracle also meets the fixed
 * answers), and prints the "default isa: ..." line. */
static void harness_begin(const char *prog, int argc, char **argv)
{
    const char *expect = NULL;
    harness_prog = prog;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--expect-isa") == 0 && i + 1 < argc) {
            expect = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--expect-isa NAME]\n", argv[0]);
            exit(2);
        }
    }
    harness_default_isa = bnn_isa();
    n_isas = bnn_available_isas(isas, MAX_ISAS);
    if (n_isas > MAX_ISAS)
        n_isas = MAX_ISAS;
    isas[n_isas++] = "ref";
    printf("default isa: %s; available:", harness_default_isa);
    for (int t = 0; t < n_isas - 1; t++)
        printf(" %s", isas[t]);
    printf(" (+ ref)\n");
    harness_expect_failed = expect && strcmp(expect, harness_default_isa) != 0;
    if (harness_expect_failed)
        printf("FAIL: expected the default kernel set to be '%s', got '%s'\n", expect,
               harness_default_isa);
}

/* Restores the default set, prints one line per set and "N passed, N failed";
 * returns main's exit status (1 on any failure). */
static int harness_end(void)
{
    must(bnn_select_isa(harness_default_isa), "restore default isa");
    int passed = 0, failed = harness_expect_failed;
    for (int t = 0; t < n_isas; t++) {
        printf("isa %-7s: %d passed, %d failed\n", isas[t], isa_passed[t], isa_failed[t]);
        passed += isa_passed[t], failed += isa_failed[t];
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#endif
