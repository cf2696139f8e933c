/* The first layer on 8-bit input (first_dense and first_conv), exact int32.
 *
 *   act   uint8 (N, H, W, C), or (N, F) for a dense layer (a 1x1 image, C = F)
 *   wts   bits (units rounded up to 32, kh, kw, cw), cw = 2 * ceil(C / 64)
 *   out   as bgemm.cl: int32 sums (M, units), or with FUSE thresholded bits
 *
 * With w = +-1 and -1 as bit 1: s = sum x*w = sum x - 2 * sum_{bit set} x,
 * exact in int32 (|s| <= 255 * K and the reader bounds K by 2^23). Input
 * padding (`same`) is the pixel value 0, which adds nothing to either sum.
 * Work is split as in bgemm.cl: TM pixels by one 32-unit word per work-item,
 * TN units at a time.
 */
#ifndef TM
#define TM 2
#endif
#ifndef TN
#define TN 4
#endif
#ifndef FUSE
#define FUSE 0
#endif

__kernel void first_layer(__global const uchar *act, __global uint *out, __global const uint *wts,
                          __global const int *thr, __global const uchar *flip,
                          const int m, const int in_h, const int in_w, const int channels,
                          const int out_h, const int out_w, const int kh, const int kw,
                          const int sh, const int sw, const int pad_t, const int pad_l,
                          const int units, const int cw, const int out_cw)
{
    const int word = get_global_id(0);
    const int row0 = get_global_id(1) * TM;
    const int kwords = kh * kw * cw;

    int base[TM], top[TM], left[TM];
    for (int i = 0; i < TM; i++) {
        const int r = min(row0 + i, m - 1);
        const int ox = r % out_w, t = r / out_w;
        const int oy = t % out_h, n = t / out_h;
        top[i] = oy * sh - pad_t;
        left[i] = ox * sw - pad_l;
        base[i] = n * in_h * in_w * channels;
    }

#if FUSE
    uint bits[TM];
    for (int i = 0; i < TM; i++)
        bits[i] = 0;
#endif
    const int u_end = min(units, word * 32 + 32);
    for (int u0 = word * 32; u0 < u_end; u0 += TN) {
        int total[TM], neg[TM][TN];
        for (int i = 0; i < TM; i++) {
            total[i] = 0;
            for (int j = 0; j < TN; j++)
                neg[i][j] = 0;
        }
        __global const uint *w_rows = wts + u0 * kwords;
        for (int ky = 0; ky < kh; ky++) {
            for (int kx = 0; kx < kw; kx++) {
                int a_off[TM], in_mask[TM];
                for (int i = 0; i < TM; i++) {
                    const int iy = top[i] + ky, ix = left[i] + kx;
                    const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
                    a_off[i] = inside ? base[i] + (iy * in_w + ix) * channels : 0;
                    in_mask[i] = inside ? -1 : 0;
                }
                const int w_off = (ky * kw + kx) * cw;
                for (int cb = 0; cb < channels; cb += 32) {
                    uint w[TN];
                    for (int j = 0; j < TN; j++)
                        w[j] = w_rows[j * kwords + w_off + (cb >> 5)];
                    const int cn = min(32, channels - cb);
                    for (int t = 0; t < cn; t++) {
                        for (int i = 0; i < TM; i++) {
                            const int x = (int)act[a_off[i] + cb + t] & in_mask[i];
                            total[i] += x;
                            for (int j = 0; j < TN; j++)
                                neg[i][j] += x & -(int)((w[j] >> t) & 1u);
                        }
                    }
                }
            }
        }
        for (int j = 0; j < TN; j++) {
            const int u = u0 + j;
            if (u >= u_end)
                break;
            for (int i = 0; i < TM; i++) {
                const int s = total[i] - 2 * neg[i][j];
#if FUSE
                bits[i] |= pybnn_sign_bit(s, thr[u], flip[u]) << (u - word * 32);
#else
                if (row0 + i < m)
                    out[(row0 + i) * units + u] = as_uint(s);
#endif
            }
        }
    }
#if FUSE
    for (int i = 0; i < TM; i++)
        if (row0 + i < m)
            out[(row0 + i) * out_cw + word] = bits[i];
#endif
}
