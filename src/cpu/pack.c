/* pack.c - the public packing entry points: argument checks, then the
 * active kernel. */
#include "common/errors.h"
#include "cpu/kernels/kernels.h"

#define DEFINE_PACK(suffix, type)                                                        \
    bnn_status bnn_pack_##suffix(const type *x, size_t rows, size_t k, uint64_t *out)   \
    {                                                                                    \
        if ((!x && rows && k) || (!out && rows && k))                                   \
            return bnn_fail(BNN_ERR_ARGUMENT, "pack: input and output must not be NULL"); \
        if (rows && k)                                                                   \
            bnn_active_kernels()->pack_##suffix(x, rows, k, out);                      \
        return BNN_OK;                                                                   \
    }

DEFINE_PACK(f32, float)
DEFINE_PACK(f64, double)
DEFINE_PACK(i8, int8_t)
DEFINE_PACK(i32, int32_t)

bnn_status bnn_unpack_i8(const uint64_t *p, size_t rows, size_t k, int8_t *out)
{
    if ((!p || !out) && rows && k)
        return bnn_fail(BNN_ERR_ARGUMENT, "unpack: input and output must not be NULL");
    size_t words = bnn_words_for(k);
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < k; i++)
            out[r * k + i] = (p[r * words + i / BNN_WORD_BITS] >> (i % BNN_WORD_BITS)) & 1 ? -1 : 1;
    return BNN_OK;
}
