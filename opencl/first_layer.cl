/* The first layer on 8-bit input (first_dense and first_conv), exact int32.
 *
 *   act   uint8 (N, H, W, C), or (N, F) for a dense layer (a 1x1 image, C = F)
 *   wpm   the weights as char masks, (kh * kw * C, units_pad): -1 where a
 *         weight is +1, 0 where it is -1 (the file's bits unpacked once at load)
 *         laid out unit-minor, so 32 units are two 16-lane vectors (units_pad:
 *         units rounded up to 64, the extra 0)
 *   out   FUSE 0: int32 sums (M, units), M = N * H' * W' output pixels
 *         FUSE 1: threshold + bit packing, bits (M, out_cw)
 *   thr, flip: padded to whole 32-unit words (the epilogue reads 16 at a time)
 *
 * s = sum x * w = 2 * (sum of x where w = +1) - (sum of x): an AND and an add
 * per 16 units instead of a multiply, exact in int32 (|s| <= 255 * K, K <= 2^23
 * by the reader; 2 * p - t is formed in uint, where it wraps to s). Input
 * padding (`same`) is the pixel value 0. A work-item owns TM output pixels and
 * one 32-unit output word.
 */
#ifndef TM
#define TM 4
#endif
#ifndef FUSE
#define FUSE 0
#endif
/* PAIRS (build option, TM even, K <= 257): pixels 2p and 2p + 1 share the lanes of
 * lo[p] and hi[p], in their low and high 16 bits (x = x0 | x1 << 16), so one AND and
 * one add serve 16 units of two pixels; a sum stays below 255 * 257 < 2^16, so no
 * carry crosses into the high half. */
#ifndef PAIRS
#define PAIRS 0
#endif
#if PAIRS
#if TM % 2
#error "PAIRS needs TM even"
#endif
#define SUMS (TM / 2)
#else
#define SUMS TM
#endif

__kernel void first_layer(__global const uchar *act, __global uint *out, __global const char *wpm,
                          __global const int *thr, __global const uchar *flip,
                          const int m, const int in_h, const int in_w, const int channels,
                          const int out_h, const int out_w, const int kh, const int kw,
                          const int sh, const int sw, const int pad_t, const int pad_l,
                          const int units, const int units_pad, const int out_cw)
{
    const int word = get_global_id(0);
    const int row0 = get_global_id(1) * TM;

    int base[TM], top[TM], left[TM];
    #pragma unroll
    for (int i = 0; i < TM; i++) {
        const int n = pybnn_window_origin(min(row0 + i, m - 1), out_h, out_w, sh, sw,
                                          pad_t, pad_l, &top[i], &left[i]);
        base[i] = n * in_h * in_w * channels;
    }

    int16 lo[SUMS], hi[SUMS]; /* sums of x where w = +1, units word*32 + 0..15 and + 16..31 */
    int total[TM];            /* sums of x */
    #pragma unroll
    for (int i = 0; i < SUMS; i++) {
        lo[i] = (int16)0;
        hi[i] = (int16)0;
    }
    #pragma unroll
    for (int i = 0; i < TM; i++)
        total[i] = 0;
    for (int ky = 0; ky < kh; ky++) {
        for (int kx = 0; kx < kw; kx++) {
            int a_off[TM], in_mask[TM];
            #pragma unroll
            for (int i = 0; i < TM; i++) {
                const int iy = top[i] + ky, ix = left[i] + kx;
                const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
                a_off[i] = inside ? base[i] + (iy * in_w + ix) * channels : 0;
                in_mask[i] = inside ? -1 : 0;
            }
            __global const char *wk = wpm + (ky * kw + kx) * channels * units_pad + word * 32;
            for (int c = 0; c < channels; c++) {
                __global const char16 *w = (__global const char16 *)(wk + c * units_pad);
                const int16 w0 = convert_int16(w[0]), w1 = convert_int16(w[1]);
                int x[TM];
                #pragma unroll
                for (int i = 0; i < TM; i++) {
                    x[i] = (int)act[a_off[i] + c] & in_mask[i];
                    total[i] += x[i];
                }
                #pragma unroll
                for (int i = 0; i < SUMS; i++) {
#if PAIRS
                    const int16 xs = (int16)(x[2 * i] | x[2 * i + 1] << 16);
#else
                    const int16 xs = (int16)x[i];
#endif
                    lo[i] += xs & w0;
                    hi[i] += xs & w1;
                }
            }
        }
    }

    const int u_end = min(units, word * 32 + 32);
#if FUSE
    const int16 t0 = vload16(0, thr + word * 32), t1 = vload16(1, thr + word * 32);
    const int16 f0 = convert_int16(vload16(0, flip + word * 32) != (uchar16)0);
    const int16 f1 = convert_int16(vload16(1, flip + word * 32) != (uchar16)0);
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const int16 bit = (int16)1 << lane; /* words past the last unit stay 0 (whole uint64s) */
    const int16 bit0 = bit & (lane < (int16)(u_end - word * 32));
    const int16 bit1 = bit & (lane + (int16)16 < (int16)(u_end - word * 32));
#endif
    #pragma unroll
    for (int i = 0; i < TM; i++) {
        const uint16 t = (uint16)(uint)total[i];
#if PAIRS
        const uint16 p0 = i % 2 ? as_uint16(lo[i / 2]) >> 16 : as_uint16(lo[i / 2]) & 0xFFFFu;
        const uint16 p1 = i % 2 ? as_uint16(hi[i / 2]) >> 16 : as_uint16(hi[i / 2]) & 0xFFFFu;
#else
        const uint16 p0 = as_uint16(lo[i]), p1 = as_uint16(hi[i]);
#endif
        const int16 s0 = as_int16((p0 << 1) - t);
        const int16 s1 = as_int16((p1 << 1) - t);
#if FUSE
        const uint bits = pybnn_or16(PYBNN_SIGN_BITS(s0, t0, f0) & bit0)
                          | pybnn_or16(PYBNN_SIGN_BITS(s1, t1, f1) & bit1) << 16;
        if (row0 + i < m)
            out[(row0 + i) * out_cw + word] = bits;
#else
        int s[32];
        vstore16(s0, 0, s);
        vstore16(s1, 1, s);
        if (row0 + i < m)
            for (int u = word * 32; u < u_end; u++)
                out[(row0 + i) * units + u] = as_uint(s[u - word * 32]);
#endif
    }
}
