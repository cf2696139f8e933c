/* u8gemm_roofline_form.h - benchmark only: the body of one int8 ALU ceiling
 * form (see bnn_roofline_int8_forms in bgemm_roofline.c), included by each
 * ISA's file (x86 and the aarch64 dot product) once per form, after it
 * defines:
 *
 *   FORM_NAME          the function to define: uint64_t FORM_NAME(size_t reps)
 *   FORM_VEC           the vector type (__m256i, __m512i, uint32x4_t)
 *   FORM_SET1_8(v)     a vector of bytes v;  FORM_ZERO()  a vector of zeros
 *   FORM_MAC(acc, a, b)  acc + the byte products of a and b (u8 x s8 on x86,
 *                      u8 x u8 for udot), summed 4 to a 32-bit lane
 *   FORM_ADD32(a, b)   32-bit lane sums;  FORM_LANES  32-bit lanes per vector
 *   FORM_REG           the asm constraint of a vector register ("+v" on x86
 *                      by default, "+w" on aarch64)
 *
 * 12 accumulators (a multiply-accumulate takes 4-5 cycles, at up to 2 a
 * cycle) against one A vector that an empty asm makes new before every
 * multiply (it emits no instruction), so nothing is hoisted or shared: the
 * products of vpmaddubsw do not depend on the accumulator, and with one A
 * per step GCC computed them once for all 12. The accumulators are named
 * variables that the same asm takes as in-out operands: as an array, GCC 12
 * at -O3 copied every accumulator twice per step around the in-place
 * vpdpbusd (24 moves per 12 ops), or kept them on the stack, and measured
 * half the rate. An includer with two forms undefines the FORM_ macros
 * between them. */
#ifndef FORM_REG
#define FORM_REG "+v"
#endif
#define FORM_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
static uint64_t FORM_NAME(size_t reps)
{
    FORM_VEC x = FORM_SET1_8(1), b = FORM_SET1_8(3), s = FORM_ZERO();
#define FORM_INIT(q) FORM_VEC acc##q = FORM_ZERO();
    FORM_CHAINS(FORM_INIT)
    for (size_t r = 0; r < reps; r++) {
#define FORM_STEP(q)                                                                               \
    __asm__("" : FORM_REG(x));                                                                     \
    acc##q = FORM_MAC(acc##q, x, b);
        FORM_CHAINS(FORM_STEP)
        __asm__("" : FORM_REG(x), FORM_REG(acc0), FORM_REG(acc1), FORM_REG(acc2), FORM_REG(acc3),
                FORM_REG(acc4), FORM_REG(acc5), FORM_REG(acc6), FORM_REG(acc7), FORM_REG(acc8),
                FORM_REG(acc9), FORM_REG(acc10), FORM_REG(acc11));
    }
#define FORM_SUM(q) s = FORM_ADD32(s, acc##q);
    FORM_CHAINS(FORM_SUM)
    uint32_t lanes[FORM_LANES];
    memcpy(lanes, &s, sizeof lanes);
    uint64_t total = 0;
    for (int l = 0; l < FORM_LANES; l++)
        total += lanes[l];
    return total;
#undef FORM_INIT
#undef FORM_STEP
#undef FORM_SUM
}
#undef FORM_CHAINS
