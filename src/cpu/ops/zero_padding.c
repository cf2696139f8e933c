/* zero_padding.c - conv with pad_value `zero` and `same` padding.
 *
 * The conv's patches hold 0 bits (+1) at taps outside the image, which is
 * exactly pad_value `one`. With `zero`, padded taps must contribute nothing,
 * so their contribution, sum_c w[u][i][j][c] = C - 2 popcount(weights of
 * the tap), made once at load per (tap, unit), is subtracted from the sums
 * of the border pixels. The product applies it tile by tile (op_gemm.c)
 * while the tile is in cache; interior pixels cost one window test. */
#include "cpu/ops/ops.h"

static int32_t popcount_row(const bnn_word *w, size_t words)
{
    int32_t count = 0;
    for (size_t i = 0; i < words; i++) {
        bnn_word x = w[i];
        while (x) {
            x &= x - 1;
            count++;
        }
    }
    return count;
}

/* tap_sums[(i*kw + j)*units + u] = sum_c w[u][i][j][c]. */
bnn_status bnn_zero_padding_prepare(bnn_step *s, uint32_t index)
{
    const bnn_layer *l = s->layer;
    bnn_status st = BNN_OK;
    size_t taps = l->kh * l->kw, wc = bnn_words_for(l->in.c);
    s->tap_sums = bnn_table_alloc(taps * l->units, sizeof(int32_t), &st, index);
    if (!s->tap_sums)
        return st;
    for (size_t u = 0; u < l->units; u++)
        for (size_t t = 0; t < taps; t++)
            s->tap_sums[t * l->units + u] =
                (int32_t)l->in.c - 2 * popcount_row(l->weights + (u * taps + t) * wc, wc);
    return BNN_OK;
}

void bnn_zero_padding_fix(const bnn_step *s, int32_t *t, size_t ld, size_t row0, size_t rows,
                          size_t u0, size_t nb)
{
    const bnn_layer *l = s->layer;
    size_t pixels = l->out.h * l->out.w;
    for (size_t r = 0; r < rows; r++) {
        size_t q = (row0 + r) % pixels, oy = q / l->out.w, ox = q % l->out.w;
        size_t i0, i1, j0, j1;
        bnn_window_clip((ptrdiff_t)(oy * l->sh) - (ptrdiff_t)l->pad_top, l->kh, l->in.h, &i0, &i1);
        bnn_window_clip((ptrdiff_t)(ox * l->sw) - (ptrdiff_t)l->pad_left, l->kw, l->in.w, &j0, &j1);
        if (i0 == 0 && i1 == l->kh && j0 == 0 && j1 == l->kw)
            continue; /* an interior pixel: no padded taps */
        int32_t *o = t + r * ld;
        for (size_t i = 0; i < l->kh; i++)
            for (size_t j = 0; j < l->kw; j++) {
                if (i >= i0 && i < i1 && j >= j0 && j < j1)
                    continue;
                const int32_t *tap = s->tap_sums + (i * l->kw + j) * l->units + u0;
                for (size_t u = 0; u < nb; u++)
                    o[u] -= tap[u];
            }
    }
}

