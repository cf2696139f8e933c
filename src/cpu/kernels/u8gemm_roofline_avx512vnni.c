/* u8gemm_roofline_avx512vnni.c - benchmark only: the int8 ALU ceiling of
 * AVX-512 VNNI (see bnn_roofline_int8_forms in bgemm_roofline.c): vpdpbusd
 * on 512-bit vectors (1 op per 64 MACs) and on 256-bit ones, since some
 * cores issue more of the narrow form per cycle. */
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels/kernels.h"

#define FORM_NAME vnni_zmm12
#define FORM_VEC __m512i
#define FORM_SET1_8(v) _mm512_set1_epi8(v)
#define FORM_ZERO() _mm512_setzero_si512()
#define FORM_MAC _mm512_dpbusd_epi32
#define FORM_ADD32 _mm512_add_epi32
#define FORM_LANES 16
#include "cpu/kernels/u8gemm_roofline_form.h"
#undef FORM_NAME
#undef FORM_VEC
#undef FORM_SET1_8
#undef FORM_ZERO
#undef FORM_MAC
#undef FORM_ADD32
#undef FORM_LANES

#define FORM_NAME vnni_ymm12
#define FORM_VEC __m256i
#define FORM_SET1_8(v) _mm256_set1_epi8(v)
#define FORM_ZERO() _mm256_setzero_si256()
#define FORM_MAC _mm256_dpbusd_epi32
#define FORM_ADD32 _mm256_add_epi32
#define FORM_LANES 8
#include "cpu/kernels/u8gemm_roofline_form.h"

const bnn_roofline_form bnn_roofline_int8_avx512vnni[] = {
    {"zmm vpdpbusd, 12 chains", vnni_zmm12, 12 * 64},
    {"ymm vpdpbusd (EVEX), 12 chains", vnni_ymm12, 12 * 32},
    {NULL, NULL, 0},
};
