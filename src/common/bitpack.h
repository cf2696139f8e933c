/* bitpack.h - the bit conventions of pybnn, stated once.
 *
 * - A packed row is an array of uint64_t words, little-endian.
 *   Element i of a row is bit (i % 64) of word (i / 64).
 * - Value -1 is bit 1, value +1 is bit 0 (the bit is the sign bit;
 *   sign(0) = +1, so 0 packs as bit 0).
 * - Rows are padded with 0 bits to whole words; both operands have 0 padding,
 *   so padding never contributes to popcount(a XOR b).
 * - dot(a, b) = K - 2 * popcount(a XOR b), K the true (unpadded) length.
 * - Activations are channels-last (NHWC) and packed along C.
 */
#ifndef PYBNN_BITPACK_H
#define PYBNN_BITPACK_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t bnn_word;

#define BNN_WORD_BITS 64

/* Static asserts in C99: a negative array size fails to compile. */
typedef char bnn_assert_word_is_64_bits[(sizeof(bnn_word) * CHAR_BIT == BNN_WORD_BITS) ? 1 : -1];
typedef char bnn_assert_byte_is_8_bits[(CHAR_BIT == 8) ? 1 : -1];

/* Number of words that hold k bits. */
static inline size_t bnn_words_for(size_t k) { return (k + BNN_WORD_BITS - 1) / BNN_WORD_BITS; }

/* The packed bit of one value: 1 for negative, 0 for zero and positive. */
#define BNN_SIGN_BIT(x) ((x) < 0 ? 1u : 0u)

/* dot product of two +-1 vectors of true length k from their XOR popcount. */
static inline int32_t bnn_dot_from_popcount(int32_t k, int32_t popcount) { return k - 2 * popcount; }

#endif
