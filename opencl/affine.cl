/* The output layer: scores_c = float32(s_c) * scale_c + bias_c in float32.
 *
 * The CPU computes the product and the sum as two roundings, never a fused
 * multiply-add, so contraction is off here too: the scores are the CPU's bit
 * for bit. (int -> float conversion rounds to nearest even, as in C.)
 */
#pragma OPENCL FP_CONTRACT OFF

__kernel void affine(__global const int *in, __global float *out,
                     __global const float *scale, __global const float *bias, const int classes)
{
    const int c = get_global_id(0), n = get_global_id(1);
    const int i = n * classes + c;
    const float product = (float)in[i] * scale[c];
    out[i] = product + bias[c];
}
