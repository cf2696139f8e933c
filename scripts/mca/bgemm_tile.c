/* Harness for scripts/arm_mca.py: one whole MR x NR micro-tile of the NEON
 * bgemm at a constant K, everything inlined (flatten) and, with the unroll
 * threshold the script passes, every loop unrolled: straight-line code that
 * llvm-mca can time as a whole (reduction and stores included). */
#include "cpu/kernels/bgemm_neon.c"

__attribute__((flatten)) void tile_whole(const bnn_word *a, const bnn_word *b, int32_t *c)
{
    bnn_bgemm_neon(MR, NR, (TILE_K + 63) / 64, a, b, c, NR, TILE_K);
}
