/* Harness for scripts/arm_mca.py: one whole first-layer block (MR rows x one
 * panel group of 16 columns) of a NEON u8gemm kernel (U8_KERNEL: neon, or
 * neondot with +dotprod) at a constant K, inlined and unrolled as in
 * bgemm_tile.c. */
#if defined(U8_DOT)
#include "cpu/kernels/u8gemm_neondot.c"
#define KERNEL bnn_u8gemm_neondot
#else
#include "cpu/kernels/u8gemm_neon.c"
#define KERNEL bnn_u8gemm_neon
#endif

__attribute__((flatten)) void tile_whole(const uint8_t *x, const int8_t *w, int32_t *c)
{
    KERNEL(MR, BNN_U8_GROUP, TILE_K, x, TILE_K, w, c, BNN_U8_GROUP);
}

/* rows per block, for the script */
const int tile_rows = MR;
