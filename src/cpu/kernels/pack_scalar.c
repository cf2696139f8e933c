/* pack_scalar.c - portable packing: builds each word in a register
 * (no read-modify-write of memory per value), branch-free. */
#include "cpu/kernels/kernels.h"

#define DEFINE_PACK_SCALAR(suffix, type)                                                \
    void bnn_pack_##suffix##_scalar(const type *x, size_t rows, size_t k, bnn_word *out) \
    {                                                                                   \
        size_t words = bnn_words_for(k);                                                \
        for (size_t r = 0; r < rows; r++) {                                             \
            const type *row = x + r * k;                                                \
            for (size_t w = 0; w < words; w++) {                                        \
                size_t start = w * BNN_WORD_BITS;                                       \
                size_t count = k - start < BNN_WORD_BITS ? k - start : BNN_WORD_BITS;   \
                bnn_word word = 0;                                                      \
                for (size_t i = 0; i < count; i++)                                      \
                    word |= (bnn_word)(row[start + i] < 0) << i;                        \
                out[r * words + w] = word;                                              \
            }                                                                           \
        }                                                                               \
    }

DEFINE_PACK_SCALAR(f32, float)
DEFINE_PACK_SCALAR(f64, double)
DEFINE_PACK_SCALAR(i8, int8_t)
DEFINE_PACK_SCALAR(i32, int32_t)
