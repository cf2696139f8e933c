/* bgemm_stream_roofline_neon.c - benchmark only: the NEON XOR + popcount streaming rate
 * (aarch64, and armv7 with NEON).
 *
 * NEON counts bits per byte in one instruction (vcntq_u8), so the ceiling is
 * XOR, vcnt and a byte add per 128-bit vector, in 4 independent chains. Each
 * byte lane takes 8 counts of at most 8 per 64-word block (<= 64, no u8
 * overflow); the block's bytes are then widened pairwise into u16, u32 and a
 * u64 total, so no count can overflow whatever `words` and `reps` are. */
#include <arm_neon.h>

#include "cpu/kernels/kernels.h"

static inline uint8x16_t xor_count(const bnn_word *a, const bnn_word *b, size_t v)
{
    return vcntq_u8(veorq_u8(vld1q_u8((const uint8_t *)(a + 2 * v)),
                             vld1q_u8((const uint8_t *)(b + 2 * v))));
}

uint64_t bnn_roofline_xor_popcount_neon(const bnn_word *a, const bnn_word *b, size_t words,
                                        size_t reps)
{
    uint64x2_t total = vdupq_n_u64(0);
    for (size_t r = 0; r < reps; r++) {
        for (size_t w = 0; w < words; w += 64) { /* 32 vectors, 8 per chain */
            const bnn_word *pa = a + w, *pb = b + w;
            uint8x16_t c0 = xor_count(pa, pb, 0), c1 = xor_count(pa, pb, 1);
            uint8x16_t c2 = xor_count(pa, pb, 2), c3 = xor_count(pa, pb, 3);
            for (size_t v = 4; v < 32; v += 4) {
                c0 = vaddq_u8(c0, xor_count(pa, pb, v));
                c1 = vaddq_u8(c1, xor_count(pa, pb, v + 1));
                c2 = vaddq_u8(c2, xor_count(pa, pb, v + 2));
                c3 = vaddq_u8(c3, xor_count(pa, pb, v + 3));
            }
            uint16x8_t s = vaddq_u16(vaddq_u16(vpaddlq_u8(c0), vpaddlq_u8(c1)),
                                     vaddq_u16(vpaddlq_u8(c2), vpaddlq_u8(c3)));
            total = vpadalq_u32(total, vpaddlq_u16(s));
        }
    }
    return vgetq_lane_u64(total, 0) + vgetq_lane_u64(total, 1);
}
