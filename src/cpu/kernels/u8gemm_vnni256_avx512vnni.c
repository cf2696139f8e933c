/* u8gemm_vnni256_avx512vnni.c - the 256-bit VNNI first layer with the EVEX
 * vpdpbusd of AVX512-VNNI + VL: the 'avxvnni' set on CPUs that have AVX-512
 * VNNI but not AVX-VNNI (u8gemm_vnni256.h says why). */
#define BNN_DPBUSD256 _mm256_dpbusd_epi32
#define BNN_U8GEMM_VNNI256 bnn_u8gemm_avxvnni_evex
#include "cpu/kernels/u8gemm_vnni256.h"
