/* u8gemm_vnni256_avxvnni.c - the 256-bit VNNI first layer with AVX-VNNI's
 * VEX vpdpbusd (u8gemm_vnni256.h says what and why). Built only where the
 * compiler knows -mavxvnni (GCC 11, clang 12 and later): BNN_WITH_AVXVNNI. */
#define BNN_DPBUSD256 _mm256_dpbusd_avx_epi32
#define BNN_U8GEMM_VNNI256 bnn_u8gemm_avxvnni
#include "cpu/kernels/u8gemm_vnni256.h"
