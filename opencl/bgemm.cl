/* Binary conv and dense layers: one implicit GEMM (direct convolution, no
 * im2col buffer). A dense layer is the 1x1 conv of a 1x1 image with C = F.
 *
 *   act   bits (N, H, W, cw) uints, cw = 2 * ceil(C / 64) per pixel
 *   wts   bits (units rounded up to 32, kh, kw, cw): the file's uint64 rows
 *         (PACK: regrouped, see below)
 *   zeros a pixel of zero words (+1 bits), read by TAP_TABLE for taps outside
 *   out   FUSE 0: int32 sums (M, units), M = N * H' * W' output pixels
 *         FUSE 1: threshold + bit packing, bits (M, out_cw)
 *         POOL 1: the max-pool (valid, pkh x pkw, stride psh, psw) of the sums
 *         first, M = N * pool_h * pool_w pooled pixels: a conv -> max-pool ->
 *         threshold runs as one kernel and writes only the pooled bits
 *
 * s = K_valid - 2 * popcount(a XOR w) over the window. `same` padding with
 * pad_value one reads +1 (bit 0) outside the image; with pad_value zero the
 * positions outside are masked out of the XOR and out of K instead.
 *
 * A work-item owns TM output pixels and one 32-unit output word, and walks
 * that word's units TN at a time (a TM x TN register tile of VEC-wide
 * accumulators), so a fused epilogue packs whole words without atomics.
 *
 * Build options: TM, TN, VEC (see common.cl); FUSE; POOL (with POOL_WIN =
 * pkh * pkw and POOL_KW = pkw under TAP_TABLE); PADDED (the window can leave
 * the image); PAD_ZERO; LOCAL_WORDS > 0 stages each TN-unit weight tile in local
 * memory, LOCAL_WORDS words of a pixel's channels at a time, shared by a
 * work-group of LOCAL_ROWS work-items along dimension 1 (GPUs). For CPU devices:
 * TAP_TABLE (with TAPS = kh * kw, KW = kw and CW = cw), PACK, PANEL, POPCOUNT64
 * (common.cl).
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
#ifndef PADDED
#define PADDED 0
#endif
#ifndef PAD_ZERO
#define PAD_ZERO 0
#endif
#ifndef LOCAL_WORDS
#define LOCAL_WORDS 0
#endif
#ifndef PACK
#define PACK 0
#endif
#ifndef POOL
#define POOL 0
#endif
#ifndef TAP_TABLE
#define TAP_TABLE 0
#endif
#ifndef PANEL
#define PANEL 0
#endif
#if POOL && TAP_TABLE
#define POOL_WINDOW POOL_WIN /* the build options: pkh * pkw, for the table's size, and pkw */
#define POOL_WINDOW_W POOL_KW
#elif POOL
#define POOL_WINDOW (pkh * pkw)
#define POOL_WINDOW_W pkw
#else
#define POOL_WINDOW 1
#define POOL_WINDOW_W 1
#endif
/* PACK (CPU devices, VEC < 16): UPV = 16 / VEC units side by side in one uint16
 * against a pixel's VEC words repeated UPV times, so one 512-bit XOR + popcount
 * serves UPV units even where a pixel holds only 64 to 256 bits. The host lays the
 * weights out for it: per group of UPV units, per VEC-word step of K, the UPV
 * units' words together (one aligned uint16). */
#if PACK
#if !TAP_TABLE || VEC == 16 || TN % (16 / VEC) != 0
#error "PACK needs TAP_TABLE, VEC < 16 and TN a multiple of 16 / VEC"
#endif
#define UPV (16 / VEC)
#if VEC == 2
#define REPEAT(w) ((uint16)(w, w, w, w, w, w, w, w))
#elif VEC == 4
#define REPEAT(w) ((uint16)(w, w, w, w))
#else
#define REPEAT(w) ((uint16)(w, w))
#endif
#endif
/* PANEL (CPU devices): weights in panels of 8 units, per 64-bit word of K the 8 units'
 * words side by side (one ulong8, lane l = unit l of the panel), against the pixel's
 * word broadcast: every lane counts one unit over the whole K, with no reduction
 * across lanes, and a unit's K is TAPS * CW / 2 steps long, so a Harley-Seal adder
 * over 8 steps (seven carry-save adders, vpternlog) needs one popcount per 8 steps. */
#if PANEL
#if !TAP_TABLE || !POPCOUNT64 || PACK || TN % 8 != 0
#error "PANEL needs TAP_TABLE and POPCOUNT64, not PACK, and TN a multiple of 8"
#endif
#endif
#if LOCAL_WORDS > 0
#define CHUNK LOCAL_WORDS
#else
#define CHUNK cw /* the whole pixel's channels at once */
#endif
/* Whether tap (ky, kx) of output pixel i's window lies in the image. */
#define INSIDE(i) (top[i] + ky >= 0 && top[i] + ky < in_h && left[i] + kx >= 0 && left[i] + kx < in_w)

__kernel void bgemm(__global const uint *act, __global uint *out, __global const uint *wts,
                    __global const int *thr, __global const uchar *flip, __global const uint *zeros,
                    const int m, const int in_h, const int in_w, const int cw,
                    const int out_h, const int out_w, const int kh, const int kw,
                    const int sh, const int sw, const int pad_t, const int pad_l,
                    const int units, const int k_true, const int channels, const int out_cw,
                    const int pool_h, const int pool_w, const int pkh, const int pkw,
                    const int psh, const int psw)
{
    const int word = get_global_id(0);
    const int row0 = get_global_id(1) * TM;
    const int kwords = kh * kw * cw;
#if LOCAL_WORDS > 0
    __local vuint tile_v[TN * LOCAL_WORDS / VEC]; /* vuint: aligned for VAT */
    __local uint *tile = (__local uint *)tile_v;
    const int lid = get_local_id(1), lsize = get_local_size(1);
#endif

    /* Where each of this work-item's output pixels reads its window (with POOL: the
     * window of the first conv pixel of each pooled pixel's pool window). */
    int base[TM], top0[TM], left0[TM];
    #pragma unroll
    for (int i = 0; i < TM; i++) {
        const int r = min(row0 + i, m - 1);
#if POOL
        const int n = pybnn_window_origin(r, pool_h, pool_w, psh * sh, psw * sw, pad_t, pad_l,
                                          &top0[i], &left0[i]);
#else
        const int n = pybnn_window_origin(r, out_h, out_w, sh, sw, pad_t, pad_l,
                                          &top0[i], &left0[i]);
#endif
        base[i] = n * in_h * in_w * cw;
    }
#if TAP_TABLE
    /* Each pixel's words for every tap (and pool window position), found once per
     * work-item rather than once per tap and unit tile; a tap outside the image reads
     * `zeros` (+1 bits), and with PAD_ZERO its XOR is masked off and its channels are
     * left out of K. */
    __global const uint *px[POOL_WINDOW][TAPS][TM];
#if PADDED && PAD_ZERO
    uint inside_mask[POOL_WINDOW][TAPS][TM];
    int k_inside[POOL_WINDOW][TM];
#endif
    /* Unrolled with the taps' layout known at build time (TAPS, KW): with the kernel
     * size left to run time, compilers vectorised these loops into scatters. */
    #pragma unroll
    for (int e = 0; e < POOL_WINDOW; e++) {
        const int ey = e / POOL_WINDOW_W, ex = e - ey * POOL_WINDOW_W;
        #pragma unroll
        for (int i = 0; i < TM; i++) {
#if PADDED && PAD_ZERO
            k_inside[e][i] = k_true;
#endif
            const int y0 = top0[i] + ey * sh, x0 = left0[i] + ex * sw;
            #pragma unroll
            for (int t = 0; t < TAPS; t++) {
                const int iy = y0 + t / KW, ix = x0 + t % KW;
#if PADDED
                const int inside = (uint)iy < (uint)in_h && (uint)ix < (uint)in_w;
#else
                const int inside = 1;
#endif
                px[e][t][i] = inside ? act + base[i] + (iy * in_w + ix) * cw : zeros;
#if PADDED && PAD_ZERO
                inside_mask[e][t][i] = inside ? 0xFFFFFFFFu : 0u;
                k_inside[e][i] -= inside ? 0 : channels;
#endif
            }
        }
    }
#endif

#if FUSE
    uint bits[TM];
    #pragma unroll
    for (int i = 0; i < TM; i++)
        bits[i] = 0;
#endif
    const int u_end = min(units, word * 32 + 32);
    for (int u0 = word * 32; u0 < u_end; u0 += TN) {
#if PANEL
        int8 psum[TM][TN / 8]; /* as sum below: lane l of psum[i][g] is unit u0 + 8 g + l */
#else
        int sum[TM][TN]; /* the sums of units u0 .. u0 + TN - 1 (with POOL: their maximum) */
#endif
        for (int e = 0; e < POOL_WINDOW; e++) {
            /* conv pixel e of the pool window (the output pixel itself without POOL) */
            const int ey = e / POOL_WINDOW_W, ex = e - ey * POOL_WINDOW_W;
            int top[TM], left[TM];
            #pragma unroll
            for (int i = 0; i < TM; i++) {
                top[i] = top0[i] + ey * sh;
                left[i] = left0[i] + ex * sw;
            }
#if PANEL
            acc16 acc[TM][TN / 8]; /* lane l of acc[i][g]: unit u0 + 8 g + l */
            #pragma unroll
            for (int i = 0; i < TM; i++)
                #pragma unroll
                for (int g = 0; g < TN / 8; g++)
                    acc[i][g] = (acc16)0;
#elif PACK
            acc16 acc[TM][TN / UPV];
            #pragma unroll
            for (int i = 0; i < TM; i++)
                #pragma unroll
                for (int g = 0; g < TN / UPV; g++)
                    acc[i][g] = (acc16)0;
#else
            vacc acc[TM][TN];
            #pragma unroll
            for (int i = 0; i < TM; i++)
                #pragma unroll
                for (int j = 0; j < TN; j++)
                    acc[i][j] = (vacc)0;
#endif
            int k_valid[TM];
            #pragma unroll
            for (int i = 0; i < TM; i++)
#if TAP_TABLE && PADDED && PAD_ZERO
                k_valid[i] = k_inside[e][i];
#else
                k_valid[i] = k_true;
#endif
            __global const uint *w_rows = wts + u0 * kwords;
#if PANEL
            /* PSTEPS steps of one 64-bit word (step s: tap s / WPP, word s % WPP). Per
             * lane, `ones`, `twos` and `fours` are a bitwise 3-bit counter of the XORed
             * bits seen, and acc counts the carries out of it (eights): the first
             * PSTEPS % 8 steps go in one at a time (at most 7: the counter cannot
             * overflow), then blocks of 8 through a Harley-Seal tree, one popcount each. */
#define WPP (CW / 2)
#define PSTEPS (TAPS * WPP)
#define PGROUPS (TN / 8)
#define A_WORD(i, s) (*(__global const ulong *)(px[e][(s) / WPP][i] + ((s) % WPP) * 2))
#define W_PANEL(g, s) (*(__global const ulong8 *)(w_rows + (g) * 8 * kwords + (s) * 16))
#if PADDED && PAD_ZERO
#define X(i, g, s) ((W_PANEL(g, s) ^ (ulong8)A_WORD(i, s)) & \
                    (ulong8)upsample(inside_mask[e][(s) / WPP][i], inside_mask[e][(s) / WPP][i]))
#else
#define X(i, g, s) (W_PANEL(g, s) ^ (ulong8)A_WORD(i, s))
#endif
/* Carry-save adders: (h, l) = the two-bit sum of a, b, c per bit. CSA_X, for the
 * XORed inputs: the majority as a bit select (c where a and b differ, else a) and
 * l from the same a ^ b, which LLVM merges with the inputs' XORs into 4 ops; CSA,
 * for sums of sums: a majority and an XOR that share nothing, 3 vpternlogs (the bit
 * select form there gives 4 ops: LLVM rewrites a & ~(a ^ b) as a & b). */
#define CSA_X(h, l, a, b, c) do { const ulong8 a_ = (a), c_ = (c), u_ = a_ ^ (b); \
        (h) = bitselect(a_, c_, u_); (l) = u_ ^ c_; } while (0)
#define CSA(h, l, a, b, c) do { const ulong8 a_ = (a), b_ = (b), c_ = (c); \
        (h) = (a_ & b_) | (c_ & (a_ | b_)); (l) = a_ ^ b_ ^ c_; } while (0)
            ulong8 ones[TM][PGROUPS], twos[TM][PGROUPS], fours[TM][PGROUPS];
            #pragma unroll
            for (int i = 0; i < TM; i++)
                #pragma unroll
                for (int g = 0; g < PGROUPS; g++)
                    ones[i][g] = twos[i][g] = fours[i][g] = (ulong8)0;
            #pragma unroll
            for (int s = 0; s < PSTEPS % 8; s++) {
                #pragma unroll
                for (int g = 0; g < PGROUPS; g++) {
                    #pragma unroll
                    for (int i = 0; i < TM; i++) {
                        const ulong8 x = X(i, g, s), c1 = ones[i][g] & x, c2 = twos[i][g] & c1;
                        ones[i][g] ^= x;
                        twos[i][g] ^= c1;
                        fours[i][g] ^= c2;
                    }
                }
            }
            for (int s = PSTEPS % 8; s < PSTEPS; s += 8) {
                #pragma unroll
                for (int g = 0; g < PGROUPS; g++) {
                    #pragma unroll
                    for (int i = 0; i < TM; i++) {
                        ulong8 twos_a, twos_b, fours_a, fours_b, eights;
                        CSA_X(twos_a, ones[i][g], ones[i][g], X(i, g, s), X(i, g, s + 1));
                        CSA_X(twos_b, ones[i][g], ones[i][g], X(i, g, s + 2), X(i, g, s + 3));
                        CSA(fours_a, twos[i][g], twos[i][g], twos_a, twos_b);
                        CSA_X(twos_a, ones[i][g], ones[i][g], X(i, g, s + 4), X(i, g, s + 5));
                        CSA_X(twos_b, ones[i][g], ones[i][g], X(i, g, s + 6), X(i, g, s + 7));
                        CSA(fours_b, twos[i][g], twos[i][g], twos_a, twos_b);
                        CSA(eights, fours[i][g], fours[i][g], fours_a, fours_b);
                        acc[i][g] += POPCOUNT16_ACC(as_uint16(eights));
                    }
                }
            }
            /* 8 eights + 4 fours + 2 twos + ones, with no popcount shifted on its own:
             * LLVM folded such a shift into the SWAR count's last step, and then no
             * longer saw a popcount (and computed it with multiplies) */
            #pragma unroll
            for (int i = 0; i < TM; i++) {
                #pragma unroll
                for (int g = 0; g < PGROUPS; g++) {
                    acc[i][g] = (acc[i][g] << 1) + POPCOUNT16_ACC(as_uint16(fours[i][g]));
                    acc[i][g] = (acc[i][g] << 1) + POPCOUNT16_ACC(as_uint16(twos[i][g]));
                    acc[i][g] = (acc[i][g] << 1) + POPCOUNT16_ACC(as_uint16(ones[i][g]));
                }
            }
#undef CSA
#undef CSA_X
#undef X
#undef W_PANEL
#undef A_WORD
#elif TAP_TABLE
            /* The K loop as STEPS steps of VEC words (step s: tap s / SPT, words
             * (s % SPT) * VEC on), taken in pairs that a carry-save adder adds bitwise
             * before any popcount (Harley-Seal): `ones` holds the bits seen an odd
             * number of times, each pair's carries are popcounted and count twice, so
             * one popcount serves two steps. With STEPS odd, step 0 starts `ones`. */
#define SPT (CW / VEC)
#define STEPS (TAPS * SPT)
#define A_WORDS(i, s) VAT(__global, px[e][(s) / SPT][i] + ((s) % SPT) * VEC)
#if PADDED && PAD_ZERO
#define KEEP(i, s) ((vuint)inside_mask[e][(s) / SPT][i])
#else
#define KEEP(i, s) ((vuint)0xFFFFFFFFu)
#endif
#if PACK
            /* unit group g's weights for step s: one uint16 (see PACK) */
#define X(i, g, s) ((REPEAT(A_WORDS(i, s)) ^ *(__global const uint16 *) \
                     (wts + (u0 + (g) * UPV) * kwords + (s) * 16)) & REPEAT(KEEP(i, s)))
#define GROUPS (TN / UPV)
            uint16 ones[TM][GROUPS];
#else
#define X(i, g, s) ((A_WORDS(i, s) ^ VAT(__global, w_rows + (g) * kwords + (s) * VEC)) & KEEP(i, s))
#define GROUPS TN
            vuint ones[TM][GROUPS];
#endif
            #pragma unroll
            for (int i = 0; i < TM; i++)
                #pragma unroll
                for (int g = 0; g < GROUPS; g++)
#if STEPS % 2
                    ones[i][g] = X(i, g, 0);
#else
                    ones[i][g] = 0;
#endif
            for (int s = STEPS % 2; s < STEPS; s += 2) {
                #pragma unroll
                for (int g = 0; g < GROUPS; g++) {
                    #pragma unroll
                    for (int i = 0; i < TM; i++) {
#if PACK
                        const uint16 x0 = X(i, g, s), x1 = X(i, g, s + 1), u = ones[i][g] ^ x0;
                        acc[i][g] += POPCOUNT16_ACC((ones[i][g] & x0) | (u & x1));
#else
                        const vuint x0 = X(i, g, s), x1 = X(i, g, s + 1), u = ones[i][g] ^ x0;
                        acc[i][g] += VPOPCOUNT_ACC((ones[i][g] & x0) | (u & x1));
#endif
                        ones[i][g] = u ^ x1;
                    }
                }
            }
            #pragma unroll
            for (int i = 0; i < TM; i++)
                #pragma unroll
                for (int g = 0; g < GROUPS; g++)
#if PACK
                    acc[i][g] = (acc[i][g] << 1) + POPCOUNT16_ACC(ones[i][g]);
#else
                    acc[i][g] = (acc[i][g] << 1) + VPOPCOUNT_ACC(ones[i][g]);
#endif
#undef X
#undef GROUPS
#undef KEEP
#undef A_WORDS
#else
            for (int ky = 0; ky < kh; ky++) {
                for (int kx = 0; kx < kw; kx++) {
#if PADDED && PAD_ZERO
                    #pragma unroll
                    for (int i = 0; i < TM; i++)
                        k_valid[i] -= INSIDE(i) ? 0 : channels;
#endif
                    const int w_off = (ky * kw + kx) * cw;
                    for (int cb = 0; cb < cw; cb += CHUNK) {
                        const int cn = min(CHUNK, cw - cb);
#if LOCAL_WORDS > 0
                        barrier(CLK_LOCAL_MEM_FENCE);
                        for (int idx = lid; idx < TN * cn; idx += lsize) {
                            const int j = idx / cn, c = idx - j * cn;
                            tile[j * LOCAL_WORDS + c] = w_rows[j * kwords + w_off + cb + c];
                        }
                        barrier(CLK_LOCAL_MEM_FENCE);
#define W_ROW(j) ((__local const uint *)tile + (j) * LOCAL_WORDS)
#define W_SPACE __local
#else
#define W_ROW(j) (w_rows + (j) * kwords + w_off + cb)
#define W_SPACE __global
#endif
                        for (int c = 0; c < cn; c += VEC) {
                            vuint a[TM];
#if PADDED && PAD_ZERO
                            vuint xor_mask[TM];
#endif
                            #pragma unroll
                            for (int i = 0; i < TM; i++) {
                                const int iy = top[i] + ky, ix = left[i] + kx;
#if PADDED
                                /* outside the image: read a valid address, mask it to bit 0 (+1) */
                                const int inside = INSIDE(i);
                                const vuint in_mask = (vuint)(inside ? 0xFFFFFFFFu : 0u);
                                a[i] = VAT(__global, act + (inside ? base[i] + (iy * in_w + ix) * cw : 0)
                                                  + cb + c) & in_mask;
#if PAD_ZERO
                                xor_mask[i] = in_mask;
#endif
#else
                                a[i] = VAT(__global, act + base[i] + (iy * in_w + ix) * cw + cb + c);
#endif
                            }
                            #pragma unroll
                            for (int j = 0; j < TN; j++) {
                                const vuint w = VAT(W_SPACE, W_ROW(j) + c);
                                #pragma unroll
                                for (int i = 0; i < TM; i++) {
#if PADDED && PAD_ZERO
                                    acc[i][j] += VPOPCOUNT_ACC((a[i] ^ w) & xor_mask[i]);
#else
                                    acc[i][j] += VPOPCOUNT_ACC(a[i] ^ w);
#endif
                                }
                            }
                        }
#undef W_ROW
#undef W_SPACE
                    }
                }
            }
#endif
            /* The sums of this pool window position; the running maximum over the window. */
#if PANEL
            #pragma unroll
            for (int g = 0; g < TN / 8; g++) {
                #pragma unroll
                for (int i = 0; i < TM; i++) {
                    const int8 s = (int8)k_valid[i] - (convert_int8(acc[i][g]) << 1);
                    psum[i][g] = e == 0 ? s : max(psum[i][g], s);
                }
            }
#else
            #pragma unroll
            for (int j = 0; j < TN; j++) {
                #pragma unroll
                for (int i = 0; i < TM; i++) {
#if PACK
                    /* unit j's count: its VEC / (16 / ACC16_LANES) lanes of acc[i][j / UPV] */
#if POPCOUNT64
                    ulong lanes[8];
                    vstore8(acc[i][j / UPV], 0, lanes);
#else
                    uint lanes[16];
                    vstore16(acc[i][j / UPV], 0, lanes);
#endif
                    uint count = 0;
                    #pragma unroll
                    for (int l = 0; l < VEC * ACC16_LANES / 16; l++)
                        count += (uint)lanes[(j % UPV) * VEC * ACC16_LANES / 16 + l];
#else
                    const uint count = VACC_SUM(acc[i][j]);
#endif
                    const int s = k_valid[i] - 2 * (int)count;
                    sum[i][j] = e == 0 ? s : max(sum[i][j], s);
                }
            }
#endif
        }
        /* The epilogue for units u0 .. u0 + TN - 1. */
#if PANEL
        /* 8 units at a time (the host pads thr and flip to whole words) */
        #pragma unroll
        for (int g = 0; g < TN / 8; g++) {
            const int ub = u0 + 8 * g;
            if (ub >= u_end)
                break;
#if FUSE
            const int8 t = vload8(0, thr + ub);
            const int8 flipped = convert_int8(vload8(0, flip + ub) != (uchar8)0);
            const int8 lane_bit = ((int8)(0, 1, 2, 3, 4, 5, 6, 7) < (int8)(u_end - ub))
                                  & (int8)(1, 2, 4, 8, 16, 32, 64, 128);
            #pragma unroll
            for (int i = 0; i < TM; i++) {
                bits[i] |= pybnn_or8(PYBNN_SIGN_BITS(psum[i][g], t, flipped) & lane_bit)
                           << (ub - word * 32);
            }
#else
            #pragma unroll
            for (int i = 0; i < TM; i++) {
                int lanes[8];
                vstore8(psum[i][g], 0, lanes);
                for (int l = 0; l < 8 && ub + l < u_end; l++)
                    if (row0 + i < m)
                        out[(row0 + i) * units + ub + l] = as_uint(lanes[l]);
            }
#endif
        }
#else
        #pragma unroll
        for (int j = 0; j < TN; j++) {
            const int u = u0 + j;
            if (u >= u_end)
                break;
            #pragma unroll
            for (int i = 0; i < TM; i++) {
#if FUSE
                bits[i] |= pybnn_sign_bit(sum[i][j], thr[u], flip[u]) << (u - word * 32);
#else
                if (row0 + i < m)
                    out[(row0 + i) * units + u] = as_uint(sum[i][j]);
#endif
            }
        }
#endif
    }
#if FUSE
    /* Words past the last unit (padding to whole uint64s) are written as 0. */
    #pragma unroll
    for (int i = 0; i < TM; i++)
        if (row0 + i < m)
            out[(row0 + i) * out_cw + word] = bits[i];
#endif
}
