/* Shared by every pybnn OpenCL program (the host prepends it to each op file).
 *
 * Bit conventions (src/common/bitpack.h): the host's little-endian uint64
 * words are read here as pairs of uints, low half first, so element i of a
 * row is bit i % 32 of uint i / 32. -1 is bit 1, +1 is bit 0; padding bits
 * are 0 in both operands. Every kernel computes on 32-bit words: many
 * integrated GPUs have no native 64-bit integers.
 */

/* The vector width of the XOR + popcount loops (build option VEC: 2, 4, 8 or 16
 * uints; a layer's words per pixel are always a multiple of 2). */
#ifndef VEC
#define VEC 4
#endif
#if VEC == 2
typedef uint2 vuint;
#define VSUM(v) ((v).s0 + (v).s1)
#elif VEC == 4
typedef uint4 vuint;
#define VSUM(v) ((v).s0 + (v).s1 + (v).s2 + (v).s3)
#elif VEC == 8
typedef uint8 vuint;
#define VSUM(v) ((v).s0 + (v).s1 + (v).s2 + (v).s3 + (v).s4 + (v).s5 + (v).s6 + (v).s7)
#elif VEC == 16
typedef uint16 vuint;
#define VSUM(v) (VSUM8((v).lo) + VSUM8((v).hi))
#define VSUM8(v) ((v).s0 + (v).s1 + (v).s2 + (v).s3 + (v).s4 + (v).s5 + (v).s6 + (v).s7)
#else
#error "VEC must be 2, 4, 8 or 16"
#endif
/* A vector of VEC uints at p, in address space `space`. p is always a multiple of
 * VEC uints from a buffer's start (pixels hold a multiple of VEC words, and
 * weight rows too), so this is an aligned vector load; some compilers (PoCL's)
 * turn vloadN into N scalar loads. */
#define VAT(space, p) (*(space const vuint *)(p))

/* popcount is an OpenCL 1.2 built-in; OpenCL 1.1 drivers (Clover, old Mali)
 * get the classic SWAR count instead, for uint and for vuint (-DSWAR_POPCOUNT
 * forces it, so tests cover it on any driver). */
#if !defined(__OPENCL_VERSION__) || __OPENCL_VERSION__ < 120 || defined(SWAR_POPCOUNT)
#define PYBNN_SWAR_POPCOUNT(NAME, T)                                    \
    inline T NAME(T x) {                                                \
        x = x - ((x >> 1) & (T)0x55555555u);                            \
        x = (x & (T)0x33333333u) + ((x >> 2) & (T)0x33333333u);         \
        x = (x + (x >> 4)) & (T)0x0F0F0F0Fu;                            \
        return (x * (T)0x01010101u) >> 24;                              \
    }
PYBNN_SWAR_POPCOUNT(pybnn_popcount, uint)
PYBNN_SWAR_POPCOUNT(pybnn_vpopcount, vuint)
PYBNN_SWAR_POPCOUNT(pybnn_popcount16, uint16)
#define POPCOUNT(x) pybnn_popcount(x)
#define VPOPCOUNT(x) pybnn_vpopcount(x)
#define POPCOUNT16(x) pybnn_popcount16(x)
#else
#define POPCOUNT(x) popcount(x)
#define VPOPCOUNT(x) popcount(x)
#define POPCOUNT16(x) popcount(x)
#endif

/* POPCOUNT64 (CPU devices): popcounts of 64-bit lanes instead of 32-bit ones
 * (the 64-bit SWAR count, which x86 compilers turn into a byte-table lookup and
 * one sum of absolute differences per vector, where 32-bit lanes need five more
 * shuffles to sum the bytes). Accumulators hold half as many lanes; only their
 * total is used. Off on GPUs: many have no native 64-bit integers. */
#ifndef POPCOUNT64
#define POPCOUNT64 0
#endif
#if POPCOUNT64
#define PYBNN_SWAR_POPCOUNT64(NAME, T)                                          \
    inline T NAME(T x) {                                                        \
        x = x - ((x >> 1) & (T)0x5555555555555555ul);                           \
        x = (x & (T)0x3333333333333333ul) + ((x >> 2) & (T)0x3333333333333333ul); \
        x = (x + (x >> 4)) & (T)0x0F0F0F0F0F0F0F0Ful;                           \
        return (x * (T)0x0101010101010101ul) >> 56;                             \
    }
#if VEC == 2
typedef ulong vacc;
#define VACC_SUM(v) ((uint)(v))
#define AS_VULONG(x) as_ulong(x)
#elif VEC == 4
typedef ulong2 vacc;
#define VACC_SUM(v) ((uint)((v).s0 + (v).s1))
#define AS_VULONG(x) as_ulong2(x)
#elif VEC == 8
typedef ulong4 vacc;
#define VACC_SUM(v) ((uint)((v).s0 + (v).s1 + (v).s2 + (v).s3))
#define AS_VULONG(x) as_ulong4(x)
#else
typedef ulong8 vacc;
#define VACC_SUM(v) ((uint)((v).s0 + (v).s1 + (v).s2 + (v).s3 + (v).s4 + (v).s5 + (v).s6 + (v).s7))
#define AS_VULONG(x) as_ulong8(x)
#endif
PYBNN_SWAR_POPCOUNT64(pybnn_vpopcount64, vacc)
#if VEC != 16
PYBNN_SWAR_POPCOUNT64(pybnn_popcount64x8, ulong8)
#endif
typedef ulong8 acc16; /* the accumulator of a uint16 (PACK) */
#define ACC16_LANES 8
#define VPOPCOUNT_ACC(x) pybnn_vpopcount64(AS_VULONG(x))
#if VEC == 16
#define POPCOUNT16_ACC(x) pybnn_vpopcount64(as_ulong8(x))
#else
#define POPCOUNT16_ACC(x) pybnn_popcount64x8(as_ulong8(x))
#endif
#else
typedef vuint vacc;
#define VACC_SUM(v) VSUM(v)
typedef uint16 acc16;
#define ACC16_LANES 16
#define VPOPCOUNT_ACC(x) VPOPCOUNT(x)
#define POPCOUNT16_ACC(x) POPCOUNT16(x)
#endif

/* Output row r of a layer, pixel (oy, ox) of sample n in an out_h x out_w image: the
 * input position of its window's top-left tap (stride sh, sw; padding pad_t, pad_l;
 * outside the image where negative) in *top, *left, and n returned. */
inline int pybnn_window_origin(int r, int out_h, int out_w, int sh, int sw, int pad_t, int pad_l,
                               int *top, int *left)
{
    const int ox = r % out_w, t = r / out_w;
    *top = (t % out_h) * sh - pad_t;
    *left = ox * sw - pad_l;
    return t / out_h;
}

/* The epilogue's sign: 1 (the value -1) unless the sum fires, i.e. s >= t, or
 * s <= t where the channel is flipped (batch-norm with gamma < 0). Ties go to +1. */
inline uint pybnn_sign_bit(int s, int t, uchar flip)
{
    return (flip ? s <= t : s >= t) ? 0u : 1u;
}

/* The same for vectors of sums s, thresholds t and flips (-1 where flipped, else
 * 0): -1 in the lanes whose bit is 1. */
#define PYBNN_SIGN_BITS(s, t, flipped) (~select((s) >= (t), (s) <= (t), (flipped)))

/* The OR of a vector's lanes (the lanes' bits packed into one word). */
inline uint pybnn_or8(int8 v)
{
    const int4 a = v.lo | v.hi;
    const int2 b = a.lo | a.hi;
    return (uint)(b.s0 | b.s1);
}

inline uint pybnn_or16(int16 v)
{
    return pybnn_or8(v.lo | v.hi);
}
