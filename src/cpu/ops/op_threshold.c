/* op_threshold.c - threshold: int (..., C) -> bits (..., C), the folded
 * batch-norm + sign. Output -1 (bit 1) where s < t (flip 0) or s > t
 * (flip 1); +1 (bit 0) otherwise, so ties go to +1.
 *
 * Branch-free: with m = 0 (flip 0) or -1 (flip 1), s > t <=> ~s < ~t, so
 * bit = (s ^ m) < (t ^ m) in both cases; prepare stores m and t ^ m.
 * Bits are gathered 8 at a time from bytes with a multiply (op_first_layer.c
 * explains the constant), which keeps this well below the bgemm's cost. */
#include <string.h>

#include "cpu/ops/ops.h"

static bnn_status prepare(bnn_step *s, uint32_t index)
{
    const bnn_layer *l = s->layer;
    bnn_status st = BNN_OK;
    s->thr_mask = bnn_table_alloc(l->in.c, sizeof(int32_t), &st, index);
    s->thr_key = s->thr_mask ? bnn_table_alloc(l->in.c, sizeof(int32_t), &st, index) : NULL;
    if (!s->thr_key)
        return st;
    for (size_t c = 0; c < l->in.c; c++) {
        int32_t t;
        memcpy(&t, l->thresholds + c, sizeof t); /* in place in the file: maybe unaligned */
        s->thr_mask[c] = l->flip[c] ? -1 : 0;
        s->thr_key[c] = t ^ s->thr_mask[c];
    }
    return BNN_OK;
}

/* bytes[i] = 1 where channel i's output is -1 (bit 1). */
static void compare(const int32_t *restrict s, const int32_t *restrict mask,
                    const int32_t *restrict key, uint8_t *restrict bytes, size_t n)
{
    if (n == BNN_WORD_BITS) { /* a constant trip count: vectorised even at -O2 */
        for (size_t i = 0; i < BNN_WORD_BITS; i++)
            bytes[i] = (uint8_t)((s[i] ^ mask[i]) < key[i]);
        return;
    }
    for (size_t i = 0; i < n; i++)
        bytes[i] = (uint8_t)((s[i] ^ mask[i]) < key[i]);
}

void bnn_threshold_rows(const bnn_step *t, const int32_t *s, size_t ld_s, size_t rows, size_t c0,
                        size_t count, bnn_word *out, size_t ld_out)
{
    const uint64_t gather = 0x0102040810204080ull;
    const int32_t *mask = t->thr_mask + c0, *key = t->thr_key + c0;
    size_t words = bnn_words_for(count);
    for (size_t r = 0; r < rows; r++, s += ld_s, out += ld_out) {
        for (size_t w = 0; w < words; w++) {
            size_t base = w * BNN_WORD_BITS;
            size_t n = count - base < BNN_WORD_BITS ? count - base : BNN_WORD_BITS;
            uint8_t bytes[BNN_WORD_BITS] = {0};
            compare(s + base, mask + base, key + base, bytes, n);
            bnn_word word = 0;
            for (size_t b = 0; b < n; b += 8) {
                uint64_t v;
                memcpy(&v, bytes + b, 8);
                word |= ((v * gather) >> 56) << b;
            }
            out[w] = word;
        }
    }
}

static void run_samples(const bnn_step *s, const void *in, void *out, size_t n)
{
    const bnn_layer *l = s->layer;
    size_t c = l->in.c;
    bnn_threshold_rows(s, in, c, n * l->in.h * l->in.w, 0, c, out, bnn_words_for(c));
}

const bnn_op bnn_op_threshold = {.prepare = prepare, .run_samples = run_samples};
