/* dispatch.c - the one place that picks kernels: best ISA first, scalar last.
 *
 * Chosen once (thread-safe), honouring PYBNN_DISABLE_CPU_FEATURES, a comma
 * separated list of kernel set names ("avx512,avx2"; case-insensitive). A test
 * or benchmark may force a set with bnn_select_isa(). */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_features.h"
#include "common/errors.h"
#include "cpu/kernels/kernels.h"

/* ref takes the bit-plane first layer on rows, as neon does, so that path
 * runs in the tests of every machine (they hold ref to the NumPy model). */
static const bnn_kernels kernels_ref = {
    "ref", bnn_bgemm_ref, bnn_pack_f32_ref, bnn_pack_f64_ref, bnn_pack_i8_ref, bnn_pack_i32_ref,
    bnn_u8gemm_ref, bnn_threshold_ref, NULL, NULL, .planes_on_rows = 1,
};
static const bnn_kernels kernels_scalar = {
    "scalar", bnn_bgemm_scalar, bnn_pack_f32_scalar, bnn_pack_f64_scalar, bnn_pack_i8_scalar,
    bnn_pack_i32_scalar, bnn_u8gemm_scalar, bnn_threshold_scalar, NULL, NULL, 0, 0,
};
#ifdef BNN_ARCH_X86
/* avx512 with the VNNI first layer (u8gemm_avx512vnni.c) */
static const bnn_kernels kernels_avx512vnni = {
    "avx512vnni", bnn_bgemm_avx512, bnn_pack_f32_avx512, bnn_pack_f64_scalar, bnn_pack_i8_avx512,
    bnn_pack_i32_scalar, bnn_u8gemm_avx512vnni, bnn_threshold_avx512,
    bnn_panel_pack_avx512, bnn_bgemm_panel_avx512, 0, 0,
};
static const bnn_kernels kernels_avx512 = {
    "avx512", bnn_bgemm_avx512, bnn_pack_f32_avx512, bnn_pack_f64_scalar, bnn_pack_i8_avx512,
    bnn_pack_i32_scalar, bnn_u8gemm_avx512, bnn_threshold_avx512,
    bnn_panel_pack_avx512, bnn_bgemm_panel_avx512, 0, 0,
};
/* avx2 with a 256-bit VNNI first layer (u8gemm_vnni256.h): AVX-VNNI's VEX
 * vpdpbusd where the CPU has it, else, on AVX-512 VNNI CPUs, the same code
 * built with the EVEX encoding (never their default; it lets the set's code
 * run in tests where no CPU or emulator has AVX-VNNI). */
#ifdef BNN_WITH_AVXVNNI
static const bnn_kernels kernels_avxvnni = {
    "avxvnni", bnn_bgemm_avx2, bnn_pack_f32_avx2, bnn_pack_f64_scalar, bnn_pack_i8_avx2,
    bnn_pack_i32_scalar, bnn_u8gemm_avxvnni, bnn_threshold_avx2, bnn_panel_pack_avx2,
    bnn_bgemm_panel_avx2, 0, .panel_split = 1,
};
#endif
static const bnn_kernels kernels_avxvnni_evex = {
    "avxvnni", bnn_bgemm_avx2, bnn_pack_f32_avx2, bnn_pack_f64_scalar, bnn_pack_i8_avx2,
    bnn_pack_i32_scalar, bnn_u8gemm_avxvnni_evex, bnn_threshold_avx2, bnn_panel_pack_avx2,
    bnn_bgemm_panel_avx2, 0, .panel_split = 1,
};
static const bnn_kernels kernels_avx2 = {
    "avx2", bnn_bgemm_avx2, bnn_pack_f32_avx2, bnn_pack_f64_scalar, bnn_pack_i8_avx2,
    bnn_pack_i32_scalar, bnn_u8gemm_avx2, bnn_threshold_avx2, bnn_panel_pack_avx2,
    bnn_bgemm_panel_avx2, 0, .panel_split = 1,
};
#endif
#if defined(__aarch64__)
/* neon with the udot first layer (u8gemm_neondot.c) */
static const bnn_kernels kernels_neondot = {
    "neondot", bnn_bgemm_neon, bnn_pack_f32_neon, bnn_pack_f64_scalar, bnn_pack_i8_neon,
    bnn_pack_i32_scalar, bnn_u8gemm_neondot, bnn_threshold_neon, NULL, NULL, 0, 0,
};
#endif
#ifdef BNN_ARCH_NEON
/* neon's first dense layer at batches 1-2 as bit-planes on the weights'
 * rows. By llvm-mca (scripts/arm_mca.sh, steady-state loops) the two forms
 * compute about alike: 8 binary MACs of its bgemm cost 0.8-1.1x one byte
 * MAC of its u8gemm (A53, A72, A76, armv7). What decides is memory: the
 * planes read the weights' bits, the u8gemm an int8 panel 8x larger, which
 * at batch 1 a Pi streams from DRAM per call (784 x 4096: 3.2 MB against a
 * 0.5-1 MB L2 and 4-10 GB/s). An estimate, not measured on a Pi. neondot's
 * udot computes 2.5x faster than the planes and keeps its u8gemm. */
static const bnn_kernels kernels_neon = {
    "neon", bnn_bgemm_neon, bnn_pack_f32_neon, bnn_pack_f64_scalar, bnn_pack_i8_neon,
    bnn_pack_i32_scalar, bnn_u8gemm_neon, bnn_threshold_neon, NULL, NULL, .planes_on_rows = 1,
};
#endif

/* Every set this build has, best first, with whether the CPU can run it. */
typedef struct candidate {
    const bnn_kernels *kernels;
    int usable;
} candidate;

static candidate candidates[8];
static int n_candidates;
static const bnn_kernels *active;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* Is `name` an entry of the comma separated list (case-insensitive)? */
static int list_contains(const char *list, const char *name)
{
    size_t len = strlen(name);
    const char *p = list;
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        const char *start = p;
        while (*p && *p != ',' && !isspace((unsigned char)*p))
            p++;
        if ((size_t)(p - start) == len) {
            size_t i = 0;
            while (i < len && tolower((unsigned char)start[i]) == name[i])
                i++;
            if (i == len)
                return 1;
        }
    }
    return 0;
}

static void add_candidate(const bnn_kernels *k, int cpu_has_it, const char *disabled)
{
    candidates[n_candidates].kernels = k;
    candidates[n_candidates].usable = cpu_has_it && !(disabled && list_contains(disabled, k->name));
    n_candidates++;
}

static void init_dispatch(void)
{
    bnn_cpu_features f = bnn_detect_cpu_features();
    const char *disabled = getenv("PYBNN_DISABLE_CPU_FEATURES");
    (void)f;
#ifdef BNN_ARCH_X86
    /* a set built on avx512 is off when avx512 is: disabling a set disables
     * everything that uses its instructions */
    int avx512_on = f.avx512 && !(disabled && list_contains(disabled, "avx512"));
    add_candidate(&kernels_avx512vnni, avx512_on && f.avx512vnni, disabled);
    add_candidate(&kernels_avx512, f.avx512, disabled);
    int avx2_on = f.avx2 && !(disabled && list_contains(disabled, "avx2"));
#ifdef BNN_WITH_AVXVNNI
    if (f.avxvnni)
        add_candidate(&kernels_avxvnni, avx2_on, disabled);
    else
#endif
        add_candidate(&kernels_avxvnni_evex, avx2_on && avx512_on && f.avx512vnni, disabled);
    add_candidate(&kernels_avx2, f.avx2, disabled);
#endif
#if defined(__aarch64__)
    int neon_on = f.neon && !(disabled && list_contains(disabled, "neon"));
    add_candidate(&kernels_neondot, neon_on && f.neondot, disabled);
#endif
#ifdef BNN_ARCH_NEON
    add_candidate(&kernels_neon, f.neon, disabled);
#endif
    add_candidate(&kernels_scalar, 1, NULL); /* scalar can never be disabled */
    for (int i = 0; i < n_candidates; i++) {
        if (candidates[i].usable) {
            active = candidates[i].kernels;
            break;
        }
    }
}

const bnn_kernels *bnn_active_kernels(void)
{
    pthread_once(&init_once, init_dispatch);
    return active;
}

const char *bnn_isa(void) { return bnn_active_kernels()->name; }

int bnn_available_isas(const char **names, int max_names)
{
    pthread_once(&init_once, init_dispatch);
    int count = 0;
    for (int i = 0; i < n_candidates; i++)
        if (candidates[i].usable) {
            if (names && count < max_names)
                names[count] = candidates[i].kernels->name;
            count++;
        }
    return count;
}

bnn_status bnn_select_isa(const char *name)
{
    pthread_once(&init_once, init_dispatch);
    if (!name)
        return bnn_fail(BNN_ERR_ARGUMENT, "kernel set name is NULL");
    if (strcmp(name, "ref") == 0) {
        active = &kernels_ref;
        return BNN_OK;
    }
    for (int i = 0; i < n_candidates; i++) {
        if (strcmp(candidates[i].kernels->name, name) == 0) {
            if (!candidates[i].usable)
                return bnn_fail(BNN_ERR_UNSUPPORTED,
                                "kernel set '%s' is not usable on this CPU (or disabled by "
                                "PYBNN_DISABLE_CPU_FEATURES)", name);
            active = candidates[i].kernels;
            return BNN_OK;
        }
    }
    return bnn_fail(BNN_ERR_UNSUPPORTED, "kernel set '%s' is not in this build", name);
}
