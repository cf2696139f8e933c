/* Flatten of packed bits (H, W, C) -> (H*W*C,): element (h, w, c) goes to
 * (h*W + w)*C + c. Each pixel's channels start on a fresh uint64, so unless C
 * is a multiple of 64 the bits move; ints and uint8 flatten without a kernel.
 *
 *   in    bits (N, pixels, cw), cw = 2 * ceil(C / 64)
 *   out   bits (N, out_cw), out_cw = 2 * ceil(pixels * C / 64); padding bits 0
 * One work-item per output uint (dimension 0) and sample (dimension 1).
 */
__kernel void flatten_bits(__global const uint *in, __global uint *out,
                           const int pixels, const int channels, const int cw, const int out_cw)
{
    const int word = get_global_id(0), n = get_global_id(1);
    const int total = pixels * channels;
    const int e0 = word * 32;
    const int cnt = min(32, total - e0);
    __global const uint *src = in + n * pixels * cw;
    uint bits = 0;
    for (int b = 0; b < cnt; b++) {
        const int e = e0 + b;
        const int p = e / channels, c = e - p * channels;
        bits |= ((src[p * cw + (c >> 5)] >> (c & 31)) & 1u) << b;
    }
    out[n * out_cw + word] = bits;
}
