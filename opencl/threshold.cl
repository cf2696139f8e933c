/* Threshold on int32 sums (batch-norm + sign folded) with bit packing, for a
 * threshold that does not directly follow a weighted layer (after an int
 * max-pool or a flatten); elsewhere the GEMM epilogue does this.
 *
 *   in    int32 (P, C): P pixels (or samples) of C channels
 *   out   bits (P, out_cw), out_cw = 2 * ceil(C / 64); padding bits 0
 * One work-item per output uint (dimension 0) and pixel (dimension 1).
 */
__kernel void threshold(__global const int *in, __global uint *out,
                        __global const int *thr, __global const uchar *flip,
                        const int channels, const int out_cw)
{
    const int word = get_global_id(0);
    const int p = get_global_id(1);
    const int c0 = word * 32;
    const int cn = min(32, channels - c0);
    uint bits = 0;
    for (int b = 0; b < cn; b++)
        bits |= pybnn_sign_bit(in[p * channels + c0 + b], thr[c0 + b], flip[c0 + b]) << b;
    out[p * out_cw + word] = bits;
}
