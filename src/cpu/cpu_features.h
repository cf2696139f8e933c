/* cpu_features.h - what the running CPU (and OS) can execute. */
#ifndef PYBNN_CPU_FEATURES_H
#define PYBNN_CPU_FEATURES_H

typedef struct bnn_cpu_features {
    int avx2;   /* AVX2 + POPCNT, with YMM state enabled by the OS */
    int avx512; /* AVX-512 F + BW + VL + VPOPCNTDQ + VBMI, with ZMM state enabled by the OS */
    int avx512vnni; /* the avx512 set's features + AVX512_VNNI (vpdpbusd) */
    int avxvnni; /* AVX2 + AVX-VNNI (the VEX vpdpbusd on ymm) */
    int neon;   /* Advanced SIMD (always on aarch64; HWCAP on armv7) */
    int neondot; /* aarch64 + the ARMv8.2 dot product (HWCAP_ASIMDDP) */
} bnn_cpu_features;

bnn_cpu_features bnn_detect_cpu_features(void);

#endif
