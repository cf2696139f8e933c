/* inline.h - internal: the two annotations the register-blocked kernels
 * need from the compiler, spelled once for GCC and clang.
 *
 * BNN_ALWAYS_INLINE: a tile function is inlined at every call site, where
 * its row and column counts are constants.
 * BNN_UNROLL: a loop over a tile's rows or columns (at most 4 passes once
 * inlined) is unrolled whole, so that every accumulator is a register.
 * Clang needs "full": for armv7 it left GCC's "unroll 4" loops of 2 passes
 * rolled, with the accumulators in memory. */
#ifndef PYBNN_KERNELS_INLINE_H
#define PYBNN_KERNELS_INLINE_H

#if defined(__GNUC__)
#define BNN_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define BNN_ALWAYS_INLINE inline
#endif

#if defined(__clang__)
#define BNN_UNROLL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define BNN_UNROLL _Pragma("GCC unroll 4")
#else
#define BNN_UNROLL
#endif

#endif
