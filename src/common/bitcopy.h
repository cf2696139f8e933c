/* bitcopy.h - internal: copy a run of bits between packed rows at arbitrary
 * bit offsets (src/bitpack.h order: bit i is bit i % 64 of word i / 64).
 * Used where packed data must be re-laid at a bit granularity: flatten of
 * bits. */
#ifndef PYBNN_BITCOPY_H
#define PYBNN_BITCOPY_H

#include <stddef.h>

#include "common/bitpack.h"

/* `n` (1..64) bits of src starting at bit `pos`, in the low bits of the result.
 * Reads only the words that hold those bits. */
static inline bnn_word bnn_bits_get(const bnn_word *src, size_t pos, size_t n)
{
    size_t w = pos / BNN_WORD_BITS, s = pos % BNN_WORD_BITS;
    bnn_word v = src[w] >> s;
    if (s && s + n > BNN_WORD_BITS)
        v |= src[w + 1] << (BNN_WORD_BITS - s);
    return n < BNN_WORD_BITS ? v & (((bnn_word)1 << n) - 1) : v;
}

/* OR the low `n` (1..64) bits of v (higher bits zero) into dst at bit `pos`. */
static inline void bnn_bits_or(bnn_word *dst, size_t pos, size_t n, bnn_word v)
{
    size_t w = pos / BNN_WORD_BITS, s = pos % BNN_WORD_BITS;
    dst[w] |= v << s;
    if (s && s + n > BNN_WORD_BITS)
        dst[w + 1] |= v >> (BNN_WORD_BITS - s);
}

/* OR n bits of src (from bit src_pos) into dst (from bit dst_pos). The
 * destination bits are expected to be zero, so OR is a copy. */
static inline void bnn_bits_copy_or(bnn_word *dst, size_t dst_pos, const bnn_word *src,
                                    size_t src_pos, size_t n)
{
    while (n >= BNN_WORD_BITS) {
        bnn_bits_or(dst, dst_pos, BNN_WORD_BITS, bnn_bits_get(src, src_pos, BNN_WORD_BITS));
        dst_pos += BNN_WORD_BITS;
        src_pos += BNN_WORD_BITS;
        n -= BNN_WORD_BITS;
    }
    if (n)
        bnn_bits_or(dst, dst_pos, n, bnn_bits_get(src, src_pos, n));
}

#endif
