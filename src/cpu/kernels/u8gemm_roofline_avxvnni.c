/* u8gemm_roofline_avxvnni.c - benchmark only: the int8 ALU ceiling of
 * AVX-VNNI (see bnn_roofline_int8_forms in bgemm_roofline.c): the VEX
 * vpdpbusd on 256-bit vectors, 1 op per 32 MACs. Built where the compiler
 * knows -mavxvnni (BNN_WITH_AVXVNNI). */
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels/kernels.h"

#define FORM_NAME vnni_ymm12
#define FORM_VEC __m256i
#define FORM_SET1_8(v) _mm256_set1_epi8(v)
#define FORM_ZERO() _mm256_setzero_si256()
#define FORM_MAC _mm256_dpbusd_avx_epi32
#define FORM_ADD32 _mm256_add_epi32
#define FORM_LANES 8
#include "cpu/kernels/u8gemm_roofline_form.h"

const bnn_roofline_form bnn_roofline_int8_avxvnni[] = {
    {"ymm vpdpbusd (VEX), 12 chains", vnni_ymm12, 12 * 32},
    {NULL, NULL, 0},
};
