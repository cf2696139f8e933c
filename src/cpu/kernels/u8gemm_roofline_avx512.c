/* u8gemm_roofline_avx512.c - benchmark only: the int8 ALU ceiling of
 * AVX-512 BW without VNNI (see bnn_roofline_int8_forms in
 * bgemm_roofline.c): vpmaddubsw + vpmaddwd + vpaddd on 512-bit vectors, 3
 * ops per 64 MACs. */
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels/kernels.h"

static inline __m512i maddubs_mac(__m512i acc, __m512i a, __m512i b)
{
    return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(a, b), _mm512_set1_epi16(1)));
}

#define FORM_NAME maddubs_zmm12
#define FORM_VEC __m512i
#define FORM_SET1_8(v) _mm512_set1_epi8(v)
#define FORM_ZERO() _mm512_setzero_si512()
#define FORM_MAC maddubs_mac
#define FORM_ADD32 _mm512_add_epi32
#define FORM_LANES 16
#include "cpu/kernels/u8gemm_roofline_form.h"

const bnn_roofline_form bnn_roofline_int8_avx512[] = {
    {"zmm vpmaddubsw+vpmaddwd+vpaddd, 12 chains", maddubs_zmm12, 12 * 64},
    {NULL, NULL, 0},
};
