/* u8gemm_scalar.c - portable first-layer product for CPUs without a SIMD
 * set: 64-bit words as 8-byte vectors (SWAR).
 *
 * As in u8gemm_neon.c, x . w = S - 2 A with S the sum of the row's bytes and
 * A the sum of the bytes whose weight is -1: (x AND m), m = 0xff where w = -1.
 * A panel word (8 bytes) holds one K quad of two columns; the row's quad is
 * repeated in both halves of a word (xx), so xx AND m is 8 masked bytes,
 * and adding its even and odd bytes as 16-bit lanes gives two lanes per
 * column, each gaining at most 510 per quad: CHUNK_QUADS quads fit 16 bits.
 * About 1 operation per byte MAC, where a multiply-add per byte costs 2 or
 * more. Byte lanes are matched by loading both operands the same way, so the
 * lane order only decides which half is which column: little-endian hosts
 * (the engine checks at load) have the lower column in the low half.
 *
 * Loops: MR rows at a time; per K chunk the rows' quads are spread into
 * words once (xx), then every column pair of every panel group runs over the
 * chunk. Partial A sums wait in C itself; the last pass turns them into
 * S - 2 A. */
#include <string.h>

#include "cpu/kernels/kernels.h"

#define MR 4
/* A 16-bit lane gains at most 2 * 255 per quad: 128 quads reach 65280. */
#define CHUNK_QUADS 128
#define EVEN_BYTES 0x00ff00ff00ff00ffull

/* The quad of row p at t (`avail` bytes, the rest 0), as a 32-bit value
 * whose bytes lie in memory order. */
static uint32_t load_quad(const uint8_t *p, size_t avail)
{
    uint32_t v = 0;
    memcpy(&v, p, avail);
    return v;
}

/* Byte masks of a panel word: 0xff where the int8 weight is -1 (its sign
 * bit), 0 for +1 and for padding. */
static uint64_t weight_masks(const int8_t *wq)
{
    uint64_t v;
    memcpy(&v, wq, sizeof v);
    return ((v >> 7) & 0x0101010101010101ull) * 0xff;
}

/* A of mr rows for columns 2p, 2p+1 (p = 0..7) of one panel group over quads
 * [0, len) of xx, into c (set on the first chunk, added after). */
static void column_pairs(size_t mr, size_t nc, size_t len, const uint64_t xx[MR][CHUNK_QUADS],
                         const int8_t *wg, uint32_t *c, size_t ldc, int first)
{
    for (size_t p = 0; 2 * p < nc; p++) {
        uint64_t acc[MR] = {0};
        const int8_t *wq = wg + 8 * p;
        for (size_t q = 0; q < len; q++, wq += BNN_U8_GROUP * BNN_U8_QUAD) {
            uint64_t m = weight_masks(wq);
            for (size_t r = 0; r < mr; r++) {
                uint64_t v = xx[r][q] & m;
                acc[r] += (v & EVEN_BYTES) + ((v >> 8) & EVEN_BYTES);
            }
        }
        for (size_t r = 0; r < mr; r++) {
            uint32_t lo = (uint32_t)((acc[r] & 0xffff) + ((acc[r] >> 16) & 0xffff));
            uint32_t hi = (uint32_t)(((acc[r] >> 32) & 0xffff) + (acc[r] >> 48));
            uint32_t *cr = c + r * ldc + 2 * p;
            cr[0] = first ? lo : cr[0] + lo;
            if (2 * p + 1 < nc)
                cr[1] = first ? hi : cr[1] + hi;
        }
    }
}

void bnn_u8gemm_scalar(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx,
                       const int8_t *w, int32_t *c, size_t ldc)
{
    size_t group = bnn_u8_group_bytes(k), quads = (k + BNN_U8_QUAD - 1) / BNN_U8_QUAD;
    uint64_t xx[MR][CHUNK_QUADS];
    for (size_t i = 0; i < m; i += MR) {
        size_t mr = m - i < MR ? m - i : MR;
        uint32_t s[MR] = {0}; /* S of each row, <= 255 k < 2^31 */
        /* A in C as uint32 (<= 255 k); the same bytes as int32 at the end. */
        uint32_t *a = (uint32_t *)(c + i * ldc);
        for (size_t q0 = 0; q0 < quads; q0 += CHUNK_QUADS) {
            size_t len = quads - q0 < CHUNK_QUADS ? quads - q0 : CHUNK_QUADS;
            for (size_t r = 0; r < mr; r++)
                for (size_t q = 0; q < len; q++) {
                    size_t t = (q0 + q) * BNN_U8_QUAD;
                    uint32_t v = load_quad(x + (i + r) * ldx + t,
                                           k - t < BNN_U8_QUAD ? k - t : BNN_U8_QUAD);
                    xx[r][q] = v * 0x0000000100000001ull;
                    s[r] += (v & 0xff) + ((v >> 8) & 0xff) + ((v >> 16) & 0xff) + (v >> 24);
                }
            for (size_t j = 0; j < n; j += BNN_U8_GROUP) {
                size_t nc = n - j < BNN_U8_GROUP ? n - j : BNN_U8_GROUP;
                column_pairs(mr, nc, len, (const uint64_t(*)[CHUNK_QUADS])xx,
                             w + j / BNN_U8_GROUP * group + q0 * BNN_U8_GROUP * BNN_U8_QUAD,
                             a + j, ldc, q0 == 0);
            }
        }
        /* S - 2 A lies in [-255 k, 255 k]; computed in uint32, it wraps to
         * the int32 result exactly. */
        for (size_t r = 0; r < mr; r++)
            for (size_t j = 0; j < n; j++) {
                uint32_t dot = s[r] - 2u * a[r * ldc + j];
                memcpy(c + (i + r) * ldc + j, &dot, sizeof dot);
            }
    }
}
