/* pack_ref.c - the oracle: one value at a time, bit i%64 of word i/64. */
#include <string.h>

#include "cpu/kernels/kernels.h"

#define DEFINE_PACK_REF(suffix, type)                                                    \
    void bnn_pack_##suffix##_ref(const type *x, size_t rows, size_t k, bnn_word *out)    \
    {                                                                                    \
        size_t words = bnn_words_for(k);                                                 \
        memset(out, 0, rows * words * sizeof(bnn_word));                                 \
        for (size_t r = 0; r < rows; r++)                                                \
            for (size_t i = 0; i < k; i++)                                               \
                out[r * words + i / BNN_WORD_BITS] |= (bnn_word)BNN_SIGN_BIT(x[r * k + i]) \
                                                      << (i % BNN_WORD_BITS);            \
    }

DEFINE_PACK_REF(f32, float)
DEFINE_PACK_REF(f64, double)
DEFINE_PACK_REF(i8, int8_t)
DEFINE_PACK_REF(i32, int32_t)
