/* u8gemm_roofline_neondot.c - benchmark only: the int8 ALU ceiling of the
 * ARMv8.2 dot product (see bnn_roofline_int8_forms in bgemm_roofline.c):
 * udot on 128-bit vectors, 1 op per 16 MACs (unsigned bytes: the form int8
 * runtimes use on cores without the 8.6 mixed-sign usdot). Built with
 * +dotprod, run where HWCAP_ASIMDDP says the core has it. */
#include <arm_neon.h>
#include <string.h>

#include "cpu/kernels/kernels.h"

#define FORM_NAME udot_q12
#define FORM_VEC uint32x4_t
#define FORM_SET1_8(v) vreinterpretq_u32_u8(vdupq_n_u8(v))
#define FORM_ZERO() vdupq_n_u32(0)
#define FORM_MAC(acc, a, b) vdotq_u32(acc, vreinterpretq_u8_u32(a), vreinterpretq_u8_u32(b))
#define FORM_ADD32 vaddq_u32
#define FORM_LANES 4
#define FORM_REG "+w"
#include "cpu/kernels/u8gemm_roofline_form.h"

const bnn_roofline_form bnn_roofline_int8_neondot[] = {
    {"q udot, 12 chains", udot_q12, 12 * 16},
    {NULL, NULL, 0},
};
