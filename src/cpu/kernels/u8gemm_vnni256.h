/* u8gemm_vnni256.h - the 256-bit VNNI first-layer product: C = x (uint8)
 * times +-1 weights from the panel of kernels.h, exact int32. Included by the
 * two files that build it, each defining BNN_DPBUSD256 (the intrinsic) and
 * BNN_U8GEMM_VNNI256 (the function) first:
 *
 * - u8gemm_vnni256_avxvnni.c: AVX-VNNI, the VEX vpdpbusd of cores with AVX2
 *   and no AVX-512 (Alder Lake and later client cores, Sierra Forest; Zen 5
 *   has it too), and of Sapphire Rapids, which has both. The 'avxvnni' set
 *   (dispatch.c) runs it where CPUID says so; on a Sapphire Rapids guest it
 *   passed every C and Python test over kernel sets, and against the avx2
 *   set's u8gemm ran [32,4096,784] 1.66x, [256,128,1152] 2.0x,
 *   [1024,128,27] 1.27x (medians of 15 interleaved rounds; the EVEX build
 *   within 5% of it).
 * - u8gemm_vnni256_avx512vnni.c: the same instruction in its EVEX form
 *   (AVX512-VNNI + VL), the same code. No emulator here executes AVX-VNNI
 *   (QEMU 10's TCG lacks it), so on AVX-512 VNNI CPUs without AVX-VNNI (Ice
 *   Lake, Zen 4) the 'avxvnni' set runs this build: that is how the kernel's
 *   code is tested against the reference there. Never a default on AVX-512
 *   CPUs (the 512-bit sets come first).
 *
 * u8gemm_avx512vnni.c's scheme on ymm: a row's K quad broadcast to every
 * int32 lane meets a panel quad block (16 columns x 4 K positions: two ymm,
 * columns 0-7 and 8-15), one vpdpbusd per 32 MACs straight into int32, where
 * the AVX2 kernel needs vpmaddubsw + vpaddw and a vpmaddwd fold per chunk of
 * 64 quads. The int32 lanes hold any sum (|sum| <= 255 k, k <= 2^23): no
 * chunks.
 *
 * Register blocking for the 16 ymm registers: MR = 6 rows x 2 vectors = 12
 * accumulators, the two panel vectors and the broadcast. The panel group is
 * the outer loop, so its K x 16 bytes stay in L1 while the rows pass. Rows at
 * the edge use the same code with a smaller constant mr; a last partial quad
 * (k % 4) is assembled byte by byte, so nothing past a row's k bytes is
 * read. */
#include <immintrin.h>
#include <string.h>

#include "cpu/kernels/inline.h"
#include "cpu/kernels/kernels.h"

#define MR 6

/* mr (1..MR, a constant after inlining) rows of x against one panel group;
 * nc <= 16 columns stored. */
static BNN_ALWAYS_INLINE void block(int mr, size_t nc, size_t k, const uint8_t *x, size_t ldx,
                                    const int8_t *w, int32_t *c, size_t ldc)
{
    const size_t block_bytes = BNN_U8_GROUP * BNN_U8_QUAD;
    size_t full = k / BNN_U8_QUAD, quads = (k + BNN_U8_QUAD - 1) / BNN_U8_QUAD;
    __m256i acc[MR][2];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
        acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (size_t q = 0; q < quads; q++) {
        size_t avail = q < full ? BNN_U8_QUAD : k % BNN_U8_QUAD;
        const int8_t *wq = w + q * block_bytes;
        __m256i w0 = _mm256_loadu_si256((const __m256i *)wq);
        __m256i w1 = _mm256_loadu_si256((const __m256i *)(wq + 32));
#pragma GCC unroll 8
        for (int r = 0; r < mr; r++) {
            __m256i xb = _mm256_set1_epi32(
                (int32_t)bnn_u8_quad(x + r * ldx + q * BNN_U8_QUAD, avail));
            acc[r][0] = BNN_DPBUSD256(acc[r][0], xb, w0);
            acc[r][1] = BNN_DPBUSD256(acc[r][1], xb, w1);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++) {
        if (nc == BNN_U8_GROUP) {
            _mm256_storeu_si256((__m256i *)(c + r * ldc), acc[r][0]);
            _mm256_storeu_si256((__m256i *)(c + r * ldc + 8), acc[r][1]);
        } else { /* the right edge: through a buffer, nothing past column nc written */
            int32_t row[BNN_U8_GROUP];
            _mm256_storeu_si256((__m256i *)row, acc[r][0]);
            _mm256_storeu_si256((__m256i *)(row + 8), acc[r][1]);
            memcpy(c + r * ldc, row, nc * sizeof(int32_t));
        }
    }
}

void BNN_U8GEMM_VNNI256(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx,
                        const int8_t *w, int32_t *c, size_t ldc)
{
    size_t group = bnn_u8_group_bytes(k);
    for (size_t j = 0; j < n; j += BNN_U8_GROUP, w += group) {
        size_t nc = n - j < BNN_U8_GROUP ? n - j : BNN_U8_GROUP;
        size_t i = 0;
        for (; i + MR <= m; i += MR)
            block(MR, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc);
        switch (m - i) { /* constant row counts, so each block is unrolled */
        case 5: block(5, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
        case 4: block(4, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
        case 3: block(3, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
        case 2: block(2, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
        case 1: block(1, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc); break;
        }
    }
}
