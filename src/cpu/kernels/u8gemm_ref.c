/* u8gemm_ref.c - the oracle for first-layer products: one output at a time,
 * one byte at a time, reading the panel through its index formula
 * (kernels.h); and the plain panel packer. */
#include <string.h>

#include "cpu/kernels/kernels.h"

void bnn_u8_panel_pack(const int8_t *w, size_t n, size_t k, int8_t *panel)
{
    memset(panel, 0, bnn_u8_panel_bytes(n, k));
    for (size_t j = 0; j < n; j++)
        for (size_t t = 0; t < k; t++)
            panel[bnn_u8_panel_index(j, t, k)] = w[j * k + t];
}

void bnn_u8gemm_ref(size_t m, size_t n, size_t k, const uint8_t *x, size_t ldx, const int8_t *w,
                    int32_t *c, size_t ldc)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            int32_t s = 0;
            for (size_t t = 0; t < k; t++)
                s += (int32_t)x[i * ldx + t] * w[bnn_u8_panel_index(j, t, k)];
            c[i * ldc + j] = s;
        }
}
