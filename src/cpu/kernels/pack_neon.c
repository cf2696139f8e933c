/* pack_neon.c - NEON packing for aarch64 and armv7 (built with -mfpu=neon):
 * float and int8 rows, and the threshold kernel (int32 sums against keys).
 *
 * NEON has no movemask, so a word is built from byte masks (0xff where the
 * value is negative, one byte per value): each byte is ANDed with its bit
 * weight 1 << (i % 8), then three rounds of pairwise adds fold every 8 bytes
 * into one byte of the word, in element order. Whole 64-value words use the
 * vectors; the last, partial word of a row is packed one value at a time.
 *
 * Floats are compared (x < 0), never read for their sign bit: -0.0 and NaN
 * have it set but must pack as 0. For int8 the sign bit is exactly x < 0. */
#include <arm_neon.h>

#include "cpu/kernels/kernels.h"

/* Byte masks m0..m3 of 64 values -> the 64-bit word, bit i for value i. */
static inline bnn_word word_from_masks(uint8x16_t m0, uint8x16_t m1, uint8x16_t m2,
                                       uint8x16_t m3)
{
    static const uint8_t weights[16] = {1, 2, 4, 8, 16, 32, 64, 128,
                                        1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t w = vld1q_u8(weights);
    m0 = vandq_u8(m0, w);
    m1 = vandq_u8(m1, w);
    m2 = vandq_u8(m2, w);
    m3 = vandq_u8(m3, w);
    /* Weights within each group of 8 bytes are distinct bits, so the sums are
     * ORs and never carry. vpadd_u8 exists on armv7 and aarch64 alike. */
    uint8x8_t p0 = vpadd_u8(vget_low_u8(m0), vget_high_u8(m0)); /* 4 pairs of m0 */
    uint8x8_t p1 = vpadd_u8(vget_low_u8(m1), vget_high_u8(m1));
    uint8x8_t p2 = vpadd_u8(vget_low_u8(m2), vget_high_u8(m2));
    uint8x8_t p3 = vpadd_u8(vget_low_u8(m3), vget_high_u8(m3));
    uint8x8_t q01 = vpadd_u8(p0, p1); /* quads: 2 of m0, then 2 of m1 */
    uint8x8_t q23 = vpadd_u8(p2, p3);
    uint8x8_t bytes = vpadd_u8(q01, q23); /* 8 values per byte, m0 first */
    return vget_lane_u64(vreinterpret_u64_u8(bytes), 0);
}

/* 16 floats -> 16 byte masks (x < 0; false for -0.0 and NaN). */
static inline uint8x16_t masks_f32(const float *p)
{
    const float32x4_t zero = vdupq_n_f32(0.0f);
    uint16x8_t lo = vcombine_u16(vmovn_u32(vcltq_f32(vld1q_f32(p), zero)),
                                 vmovn_u32(vcltq_f32(vld1q_f32(p + 4), zero)));
    uint16x8_t hi = vcombine_u16(vmovn_u32(vcltq_f32(vld1q_f32(p + 8), zero)),
                                 vmovn_u32(vcltq_f32(vld1q_f32(p + 12), zero)));
    return vcombine_u8(vmovn_u16(lo), vmovn_u16(hi));
}

/* 16 int8 -> 16 byte masks (x < 0). */
static inline uint8x16_t masks_i8(const int8_t *p)
{
    return vcltq_s8(vld1q_s8(p), vdupq_n_s8(0));
}

#define DEFINE_PACK_NEON(suffix, type)                                                   \
    void bnn_pack_##suffix##_neon(const type *x, size_t rows, size_t k, bnn_word *out)   \
    {                                                                                    \
        size_t words = bnn_words_for(k), full = k / BNN_WORD_BITS;                       \
        for (size_t r = 0; r < rows; r++) {                                              \
            const type *row = x + r * k;                                                 \
            bnn_word *dst = out + r * words;                                             \
            for (size_t w = 0; w < full; w++) {                                          \
                const type *p = row + w * BNN_WORD_BITS;                                 \
                dst[w] = word_from_masks(masks_##suffix(p), masks_##suffix(p + 16),      \
                                         masks_##suffix(p + 32), masks_##suffix(p + 48)); \
            }                                                                            \
            if (full < words) { /* partial last word; its padding bits stay 0 */         \
                bnn_word word = 0;                                                       \
                for (size_t i = full * BNN_WORD_BITS; i < k; i++)                        \
                    word |= (bnn_word)(row[i] < 0) << (i % BNN_WORD_BITS);               \
                dst[full] = word;                                                        \
            }                                                                            \
        }                                                                                \
    }

DEFINE_PACK_NEON(f32, float)
DEFINE_PACK_NEON(i8, int8_t)

/* 4 int32 sums -> 4 lane masks of (s ^ m) < k, the threshold test. */
static inline uint32x4_t below_key(const int32_t *s, const int32_t *m, const int32_t *k)
{
    return vcltq_s32(veorq_s32(vld1q_s32(s), vld1q_s32(m)), vld1q_s32(k));
}

/* 16 channels of a threshold -> 16 byte masks. */
static inline uint8x16_t masks_threshold(const int32_t *s, const int32_t *m, const int32_t *k)
{
    uint16x8_t lo = vcombine_u16(vmovn_u32(below_key(s, m, k)),
                                 vmovn_u32(below_key(s + 4, m + 4, k + 4)));
    uint16x8_t hi = vcombine_u16(vmovn_u32(below_key(s + 8, m + 8, k + 8)),
                                 vmovn_u32(below_key(s + 12, m + 12, k + 12)));
    return vcombine_u8(vmovn_u16(lo), vmovn_u16(hi));
}

/* The threshold kernel (kernels.h): whole words through the byte masks, the
 * last partial word one channel at a time. */
void bnn_threshold_neon(const int32_t *s, size_t ld_s, size_t rows, const int32_t *mask,
                        const int32_t *key, size_t count, bnn_word *out, size_t ld_out)
{
    size_t full = count / BNN_WORD_BITS;
    for (size_t r = 0; r < rows; r++, s += ld_s, out += ld_out) {
        for (size_t w = 0; w < full; w++) {
            size_t c = w * BNN_WORD_BITS;
            out[w] = word_from_masks(masks_threshold(s + c, mask + c, key + c),
                                     masks_threshold(s + c + 16, mask + c + 16, key + c + 16),
                                     masks_threshold(s + c + 32, mask + c + 32, key + c + 32),
                                     masks_threshold(s + c + 48, mask + c + 48, key + c + 48));
        }
        if (full * BNN_WORD_BITS < count) {
            bnn_word word = 0;
            for (size_t c = full * BNN_WORD_BITS; c < count; c++)
                word |= (bnn_word)((s[c] ^ mask[c]) < key[c]) << (c % BNN_WORD_BITS);
            out[full] = word;
        }
    }
}
