/* u8gemm_scalar.c - portable first-layer product for CPUs without a SIMD
 * set: the panel layout of kernels.h walked group by group (16 columns),
 * 4 rows of x at a time, so each loaded weight quad is used 4 times and each
 * x quad 16 times. int32 sums throughout (|sum| <= 255 k < 2^31). */
#include <string.h>

#include "kernels.h"

#define MR 4

/* Up to MR rows of x against one panel group: c rows ldc apart, nc <= 16
 * columns stored. x bytes past k read as 0 (the row ends there). */
static void block(size_t mr, size_t nc, size_t k, const uint8_t *x, size_t ldx, const int8_t *w,
                  int32_t *c, size_t ldc)
{
    int32_t acc[MR][BNN_U8_GROUP];
    memset(acc, 0, sizeof acc);
    for (size_t t = 0; t < k; t += BNN_U8_QUAD, w += BNN_U8_GROUP * BNN_U8_QUAD) {
        size_t avail = k - t < BNN_U8_QUAD ? k - t : BNN_U8_QUAD;
        int32_t xq[MR][BNN_U8_QUAD] = {{0}};
        for (size_t r = 0; r < mr; r++)
            for (size_t b = 0; b < avail; b++)
                xq[r][b] = x[r * ldx + t + b];
        for (size_t r = 0; r < mr; r++)
            for (size_t col = 0; col < BNN_U8_GROUP; col++) {
                const int8_t *wc = w + col * BNN_U8_QUAD;
                acc[r][col] += xq[r][0] * wc[0] + xq[r][1] * wc[1] + xq[r][2] * wc[2] +
                               xq[r][3] * wc[3];
            }
    }
    for (size_t r = 0; r < mr; r++)
        memcpy(c + r * ldc, acc[r], nc * sizeof(int32_t));
}

void bnn_u8gemm_scalar(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx,
                       const int8_t *w, int32_t *c, size_t ldc)
{
    size_t group = bnn_u8_group_bytes(k);
    for (size_t j = 0; j < n; j += BNN_U8_GROUP, w += group) {
        size_t nc = n - j < BNN_U8_GROUP ? n - j : BNN_U8_GROUP;
        for (size_t i = 0; i < m; i += MR) {
            size_t mr = m - i < MR ? m - i : MR;
            block(mr, nc, k, x + i * ldx, ldx, w, c + i * ldc + j, ldc);
        }
    }
}
