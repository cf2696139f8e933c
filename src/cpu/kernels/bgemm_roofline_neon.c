/* bgemm_roofline_neon.c - benchmark only: the NEON XOR + popcount ALU
 * ceiling (see bgemm_roofline.c): veor, vcnt and an accumulate on registers
 * only, one A value against CHAINS B values per step; an empty asm makes A new
 * every step (no instruction). Two accumulate forms: byte adds widened once
 * per rep, and vpadal (pairwise add into 16-bit lanes). */
#include <arm_neon.h>

#include "cpu/kernels/kernels.h"

#define CHAINS 8
#define STEPS 16 /* byte counters: 8 * STEPS <= 255 */

static uint64_t total_u16(uint16x8_t v)
{
    uint64x2_t t = vpaddlq_u32(vpaddlq_u16(v));
    return vgetq_lane_u64(t, 0) + vgetq_lane_u64(t, 1);
}

static uint64_t alu_add_u8(size_t reps)
{
    uint8x16_t x = vdupq_n_u8(0x5b), b[CHAINS];
    uint16x8_t total = vdupq_n_u16(0);
    uint64_t sum = 0;
    for (int q = 0; q < CHAINS; q++)
        b[q] = vdupq_n_u8((uint8_t)(0x9e + 37 * q));
    for (size_t r = 0; r < reps; r++) {
        uint8x16_t acc[CHAINS];
        for (int q = 0; q < CHAINS; q++)
            acc[q] = vdupq_n_u8(0);
        for (int s = 0; s < STEPS; s++) {
            __asm__("" : "+w"(x));
            for (int q = 0; q < CHAINS; q++)
                acc[q] = vaddq_u8(acc[q], vcntq_u8(veorq_u8(x, b[q])));
        }
        for (int q = 0; q < CHAINS; q++)
            total = vpadalq_u8(total, acc[q]);
        if ((r & 15) == 15) { /* 16 reps * 8 chains * 2 * 255 < 2^16 */
            sum += total_u16(total);
            total = vdupq_n_u16(0);
        }
    }
    return sum + total_u16(total);
}

static uint64_t alu_padal(size_t reps)
{
    uint8x16_t x = vdupq_n_u8(0x5b), b[CHAINS];
    uint64_t sum = 0;
    for (int q = 0; q < CHAINS; q++)
        b[q] = vdupq_n_u8((uint8_t)(0x9e + 37 * q));
    for (size_t r = 0; r < reps; r++) {
        uint16x8_t acc[CHAINS];
        for (int q = 0; q < CHAINS; q++)
            acc[q] = vdupq_n_u16(0);
        for (int s = 0; s < STEPS; s++) {
            __asm__("" : "+w"(x));
            for (int q = 0; q < CHAINS; q++)
                acc[q] = vpadalq_u8(acc[q], vcntq_u8(veorq_u8(x, b[q])));
        }
        for (int q = 0; q < CHAINS; q++)
            sum += total_u16(acc[q]);
    }
    return sum;
}

const bnn_roofline_form bnn_roofline_alu_neon[] = {
    {"q-reg veor+vcnt+vadd.u8, 8 chains", alu_add_u8, STEPS * CHAINS * 128},
    {"q-reg veor+vcnt+vpadal.u8, 8 chains", alu_padal, STEPS * CHAINS * 128},
    {NULL, NULL, 0},
};
