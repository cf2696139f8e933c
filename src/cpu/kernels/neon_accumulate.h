/* neon_accumulate.h - internal: the pairwise add-accumulate of bytes into
 * u16 lanes (vpadalq_u8) that the NEON kernels' hot loops end with, spelled
 * so that every compiler keeps it one instruction. Include after
 * <arm_neon.h>, in files built for NEON only. */
#ifndef PYBNN_KERNELS_NEON_ACCUMULATE_H
#define PYBNN_KERNELS_NEON_ACCUMULATE_H

#include "cpu/kernels/inline.h"

/* acc (8 u16 lanes) += the 16 bytes added in pairs. */
static BNN_ALWAYS_INLINE uint16x8_t bnn_accumulate_pairs(uint16x8_t acc, uint8x16_t bytes)
{
#if defined(__aarch64__) || !defined(__GNUC__) || defined(__clang__)
    return vpadalq_u8(acc, bytes);
#else
    /* GCC (12) for armv7 copies the accumulator of every vpadalq_u8 once per
     * loop iteration (its operand is tied): a vmov per accumulate, one op in
     * four of bgemm's hot loop. The same instruction with the accumulator as
     * an in-out operand needs no copy. */
    __asm__("vpadal.u8 %q0, %q1" : "+w"(acc) : "w"(bytes));
    return acc;
#endif
}

#endif
