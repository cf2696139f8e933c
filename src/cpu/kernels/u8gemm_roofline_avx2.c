/* u8gemm_roofline_avx2.c - benchmark only: the int8 ALU ceiling of AVX2
 * (see bnn_roofline_int8_forms in bgemm_roofline.c): vpmaddubsw (u8 x s8
 * pairs summed into 16 bits), vpmaddwd by ones (pairs into 32 bits) and
 * vpaddd, 3 ops per 32 MACs: how an int8 GEMM runs without VNNI. */
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels/kernels.h"

static inline __m256i maddubs_mac(__m256i acc, __m256i a, __m256i b)
{
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1)));
}

#define FORM_NAME maddubs_ymm12
#define FORM_VEC __m256i
#define FORM_SET1_8(v) _mm256_set1_epi8(v)
#define FORM_ZERO() _mm256_setzero_si256()
#define FORM_MAC maddubs_mac
#define FORM_ADD32 _mm256_add_epi32
#define FORM_LANES 8
#include "cpu/kernels/u8gemm_roofline_form.h"

const bnn_roofline_form bnn_roofline_int8_avx2[] = {
    {"ymm vpmaddubsw+vpmaddwd+vpaddd, 12 chains", maddubs_ymm12, 12 * 32},
    {NULL, NULL, 0},
};
