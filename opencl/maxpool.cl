/* Max-pool (valid padding) on int32 sums and on packed bits.
 *
 * On bits the maximum of +-1 values is +1 unless every value is -1, so it is
 * the AND of the bits (-1 is bit 1); padding bits stay 0.
 * One work-item per output channel (ints) or uint (bits), along dimension 0,
 * and output pixel n * H' * W' + y * W' + x along dimension 1.
 */
__kernel void maxpool_int(__global const int *in, __global int *out,
                          const int in_h, const int in_w, const int channels,
                          const int out_h, const int out_w,
                          const int kh, const int kw, const int sh, const int sw)
{
    const int c = get_global_id(0), r = get_global_id(1);
    const int ox = r % out_w, t = r / out_w;
    const int oy = t % out_h, n = t / out_h;
    __global const int *src = in + ((n * in_h + oy * sh) * in_w + ox * sw) * channels + c;
    int best = src[0];
    for (int y = 0; y < kh; y++)
        for (int x = 0; x < kw; x++)
            best = max(best, src[(y * in_w + x) * channels]);
    out[r * channels + c] = best;
}

__kernel void maxpool_bits(__global const uint *in, __global uint *out,
                           const int in_h, const int in_w, const int cw,
                           const int out_h, const int out_w,
                           const int kh, const int kw, const int sh, const int sw)
{
    const int c = get_global_id(0), r = get_global_id(1);
    const int ox = r % out_w, t = r / out_w;
    const int oy = t % out_h, n = t / out_h;
    __global const uint *src = in + ((n * in_h + oy * sh) * in_w + ox * sw) * cw + c;
    uint all = 0xFFFFFFFFu;
    for (int y = 0; y < kh; y++)
        for (int x = 0; x < kw; x++)
            all &= src[(y * in_w + x) * cw];
    out[r * cw + c] = all;
}
