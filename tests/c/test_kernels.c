/* test_kernels.c - every kernel set this CPU can run, checked against the
 * reference kernels, without Python (so it also runs under qemu).
 *
 *   test_kernels [--expect-isa NAME]
 *
 * For each set (and "ref" itself): bgemm called directly (odd ldc, nothing
 * written outside C), through bnn_bgemm and, where the set has one, in its
 * panel form on pre-packed B, on the edge shapes, the u16
 * overflow path of wide rows, packing of f32 / i8 (with -0.0, NaN, +-inf,
 * -128, unaligned rows), one-hot bit order, 1 vs several threads, the
 * threshold kernel (ties, flips, extreme sums, partial words, strides), and
 * the benchmark's roofline kernel.
 * Prints one line per set and ends with "N passed, N failed"; exits 1 on any
 * failure. --expect-isa fails unless the default set is NAME (CI uses it to
 * prove the NEON path really ran under qemu). */
#include <math.h>

#include "test_harness.h"

static const size_t KS[] = {1, 2, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513,
                            1000, 4097};
/* M and N: every remainder of the 6-row AVX-512 panel tiles (7, 98, 9, 64,
 * 17, 48 leave 1-5 and 0 rows), one and two panel groups of 16 columns with
 * partial ones after them, the 1-3-row paths, and 64 whole groups. */
static const size_t MNS[] = {1, 3, 7, 9, 17, 48, 64, 98};

/* Random packed rows with zero padding bits, as the convention requires.
 * density: 0 random, 1 all ones (worst case for counters), -1 all zeros. */
static bnn_word *random_bits(size_t rows, size_t k, int density)
{
    size_t words = bnn_words_for(k);
    bnn_word *p = xmalloc(rows * words * sizeof(bnn_word));
    for (size_t r = 0; r < rows; r++)
        for (size_t w = 0; w < words; w++) {
            bnn_word v = density == 0 ? next_u64() : density > 0 ? ~(bnn_word)0 : 0;
            size_t used = k - w * BNN_WORD_BITS;
            if (used < BNN_WORD_BITS)
                v &= ((bnn_word)1 << used) - 1;
            p[r * words + w] = v;
        }
    return p;
}

/* C = bgemm(a, b) with kernel set t, via the kernel itself with
 * ldc = n + 3; fails the check if anything outside the m x n block changed. */
static void kernel_bgemm(int t, const bnn_word *a, const bnn_word *b, size_t m,
                         size_t n, size_t k, int32_t *c, const char *label)
{
    size_t ldc = n + 3, words = bnn_words_for(k);
    int32_t *wide = xmalloc(m * ldc * sizeof(int32_t));
    for (size_t i = 0; i < m * ldc; i++)
        wide[i] = SENTINEL;
    must(bnn_select_isa(isas[t]), "bnn_select_isa");
    bnn_active_kernels()->bgemm(m, n, words, a, b, wide, ldc, (int32_t)k);
    int outside_ok = 1;
    for (size_t i = 0; i < m; i++) {
        memcpy(c + i * n, wide + i * ldc, n * sizeof(int32_t));
        for (size_t j = n; j < ldc; j++)
            outside_ok &= wide[i * ldc + j] == SENTINEL;
    }
    check(outside_ok, t, label);
    free(wide);
}

/* Sets with a panel form: B packed as panels, then bgemm_panel with an odd
 * ldc, equals the reference, writes nothing outside C, and reads nothing of
 * the panel but what panel_pack wrote (the buffer is poisoned first). */
static void panel_bgemm_check(int t, const bnn_word *a, const bnn_word *b, size_t m, size_t n,
                              size_t k, const int32_t *want)
{
    must(bnn_select_isa(isas[t]), "bnn_select_isa");
    const bnn_kernels *kern = bnn_active_kernels();
    if (!kern->panel_pack)
        return;
    size_t words = bnn_words_for(k), ldc = n + 3, pw = bnn_kernels_panel_words(kern, n, words);
    char label[160];
    char *raw = xmalloc(pw * sizeof(bnn_word) + 64);
    bnn_word *panel = (bnn_word *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    memset(panel, 0xa5, pw * sizeof(bnn_word));
    kern->panel_pack(b, n, words, panel);
    int32_t *wide = xmalloc(m * ldc * sizeof(int32_t));
    for (size_t i = 0; i < m * ldc; i++)
        wide[i] = SENTINEL;
    kern->bgemm_panel(m, n, words, a, panel, wide, ldc, (int32_t)k);
    int same = 1, outside_ok = 1;
    for (size_t i = 0; i < m; i++) {
        same &= memcmp(wide + i * ldc, want + i * n, n * sizeof(int32_t)) == 0;
        for (size_t j = n; j < ldc; j++)
            outside_ok &= wide[i * ldc + j] == SENTINEL;
    }
    snprintf(label, sizeof label, "bgemm_panel m=%zu n=%zu k=%zu", m, n, k);
    check(same, t, label);
    snprintf(label, sizeof label, "bgemm_panel m=%zu n=%zu k=%zu (writes outside C)", m, n, k);
    check(outside_ok, t, label);
    free(raw);
    free(wide);
}

/* B prepared under set t equals the reference, with 2 threads, under set t
 * (its panels, where t has a panel form) and under the last set (which
 * runs on the prepared rows: those panels are not its own). */
static void prepared_bgemm_check(int t, const bnn_word *a, const bnn_word *b, size_t m, size_t n,
                                 size_t k, const int32_t *want, int32_t *got)
{
    char label[160];
    bnn_prepared_b *p = NULL;
    must(bnn_select_isa(isas[t]), "bnn_select_isa");
    must(bnn_prepare_b(b, n, k, &p), "bnn_prepare_b");
    for (int other = 0; other < 2; other++) {
        if (other)
            must(bnn_select_isa(isas[n_isas - 1]), "bnn_select_isa");
        must(bnn_bgemm_prepared(a, p, got, m, 2), "bnn_bgemm_prepared");
        snprintf(label, sizeof label, "bnn_bgemm_prepared m=%zu n=%zu k=%zu%s", m, n, k,
                 other ? " (run under the last set)" : "");
        check(memcmp(got, want, m * n * sizeof(int32_t)) == 0, t, label);
    }
    must(bnn_select_isa(isas[t]), "bnn_select_isa");
    bnn_prepared_b_free(p);
}

static void test_prepared_errors(void)
{
    bnn_word b[2] = {1, 2};
    bnn_prepared_b *p = (bnn_prepared_b *)b;
    int32_t c[2];
    check(bnn_prepare_b(b, 0, 64, &p) == BNN_ERR_ARGUMENT && p == NULL, 0, "prepare_b n=0");
    check(bnn_prepare_b(b, 2, 0, &p) == BNN_ERR_ARGUMENT, 0, "prepare_b k=0");
    check(bnn_prepare_b(NULL, 2, 64, &p) == BNN_ERR_ARGUMENT, 0, "prepare_b b=NULL");
    check(bnn_prepare_b(b, 2, ((size_t)1 << 30) + 1, &p) == BNN_ERR_ARGUMENT, 0, "prepare_b k>2^30");
    check(bnn_prepare_b(b, 2, 64, NULL) == BNN_ERR_ARGUMENT, 0, "prepare_b out=NULL");
    check(bnn_bgemm_prepared(b, NULL, c, 1, 1) == BNN_ERR_ARGUMENT, 0, "bgemm_prepared b=NULL");
    bnn_prepared_b_free(NULL);
}

static void test_bgemm_shapes(void)
{
    char label[160];
    size_t max_mn = MNS[COUNT(MNS) - 1];
    int32_t *want = xmalloc(max_mn * max_mn * sizeof(int32_t));
    int32_t *got = xmalloc(max_mn * max_mn * sizeof(int32_t));
    for (size_t ki = 0; ki < COUNT(KS); ki++)
        for (size_t mi = 0; mi < COUNT(MNS); mi++)
            for (size_t ni = 0; ni < COUNT(MNS); ni++) {
                size_t k = KS[ki], m = MNS[mi], n = MNS[ni];
                bnn_word *a = random_bits(m, k, 0), *b = random_bits(n, k, 0);
                bnn_bgemm_ref(m, n, bnn_words_for(k), a, b, want, n, (int32_t)k);
                for (int t = 0; t < n_isas; t++) {
                    snprintf(label, sizeof label, "bgemm kernel m=%zu n=%zu k=%zu (writes outside C)", m, n, k);
                    kernel_bgemm(t, a, b, m, n, k, got, label);
                    snprintf(label, sizeof label, "bgemm kernel m=%zu n=%zu k=%zu", m, n, k);
                    check(memcmp(got, want, m * n * sizeof(int32_t)) == 0, t, label);
                    must(bnn_bgemm(a, b, got, m, n, k, 1), "bnn_bgemm");
                    snprintf(label, sizeof label, "bnn_bgemm m=%zu n=%zu k=%zu", m, n, k);
                    check(memcmp(got, want, m * n * sizeof(int32_t)) == 0, t, label);
                    panel_bgemm_check(t, a, b, m, n, k, want);
                    prepared_bgemm_check(t, a, b, m, n, k, want, got);
                }
                free(a);
                free(b);
            }
    free(want);
    free(got);
}

/* m x n (at most 17 x 40) at one k, random and all-ones bits, against the
 * reference. */
static void bgemm_wide_check(int t, size_t m, size_t n, size_t k)
{
    char label[96];
    int32_t want[17 * 40], got[17 * 40];
    for (int density = 1; density >= 0; density--) {
        bnn_word *a = random_bits(m, k, density), *b = random_bits(n, k, -density);
        bnn_bgemm_ref(m, n, bnn_words_for(k), a, b, want, n, (int32_t)k);
        snprintf(label, sizeof label, "bgemm wide m=%zu n=%zu k=%zu %s", m, n, k,
                 density ? "all ones" : "random");
        kernel_bgemm(t, a, b, m, n, k, got, label);
        check(memcmp(got, want, m * n * sizeof(int32_t)) == 0, t, label);
        panel_bgemm_check(t, a, b, m, n, k, want);
        if (density)
            check(got[0] == -(int32_t)k, t, "bgemm wide: all-ones vs zeros gives -k");
        free(a);
        free(b);
    }
}

/* Counter limits, with the all-ones worst case and random bits: rows long
 * enough that a 16-bit per-lane counter must be widened more than once
 * (> 2 * 4095 * 128 bits), and the edges of the NEON kernel's 16-bit chunks
 * (255 steps of 128 bits; the odd last word rides in the last chunk:
 * 255 * 128 + 64 bits is the most one chunk holds). */
static void test_bgemm_wide(int t)
{
    static const size_t ks[] = {2 * 4095 * 128 + 1000 + 1, 255 * 128, 255 * 128 + 1, 255 * 128 + 64,
                                255 * 128 + 65, 2 * 255 * 128 + 64, 2 * 255 * 128 + 129};
    for (size_t ki = 0; ki < COUNT(ks); ki++)
        bgemm_wide_check(t, 5, 6, ks[ki]);
    /* AVX-512 copies B into panels per call up to K = 16384, two panels at
     * a time up to K = 8192: at both edges, and past the first */
    static const size_t panel_ks[] = {8192, 8193, 16384};
    for (size_t ki = 0; ki < COUNT(panel_ks); ki++)
        bgemm_wide_check(t, 17, 40, panel_ks[ki]);
    /* AVX2 runs one and two rows of A over all of K in one chunk up to 31
     * whole vectors and 3 words (8128 bits), in more from 32 vectors; 37 B
     * rows are 3 of its blocks of B and a partial group of 8. One row on
     * its split panels takes up to 31 words (1984 bits) in one chunk
     * (all-ones counters reach 248 of 255; 32 words would wrap), and has a
     * path of its own up to 256 words. */
    static const size_t direct_ks[] = {31 * 64, 31 * 64 + 1, 32 * 64, 31 * 256, 31 * 256 + 192,
                                       32 * 256, 32 * 256 + 1, 256 * 64 + 1};
    for (size_t ki = 0; ki < COUNT(direct_ks); ki++)
        for (size_t m = 1; m <= 2; m++)
            bgemm_wide_check(t, m, 37, direct_ks[ki]);
    /* AVX-512 runs each of 1-3 rows of A at K = 512..1472 (8-23 words) with
     * its counts as bytes, one path per number of whole vectors (1, 2) and
     * tail (none, 1-3 words counted by scalar popcounts, 4-7 words as a
     * masked vector); 37 B rows end in a partial group of 8; at 1471 and
     * 1472 all-ones counts reach 192 of a byte's 255; 1535 and 1536 (24
     * words) take the general one-row path. */
    static const size_t short_ks[] = {576, 640, 704, 768,  1024, 1088,
                                      1152, 1216, 1471, 1472, 1535, 1536};
    for (size_t ki = 0; ki < COUNT(short_ks); ki++)
        for (size_t m = 1; m <= 3; m++)
            bgemm_wide_check(t, m, 37, short_ks[ki]);
}

/* One -1 at position i (bit i of word i/64, nothing else), for pack and bgemm. */
static void test_one_hot(int t)
{
    static const size_t ks[] = {1, 63, 64, 65, 130, 200};
    char label[96];
    for (size_t ki = 0; ki < COUNT(ks); ki++) {
        size_t k = ks[ki], words = bnn_words_for(k);
        float *xf = xmalloc(k * sizeof(float));
        int8_t *xi = xmalloc(k);
        bnn_word *pf = xmalloc(words * sizeof(bnn_word)), *pi = xmalloc(words * sizeof(bnn_word));
        bnn_word *hots = xmalloc(k * words * sizeof(bnn_word));
        must(bnn_select_isa(isas[t]), "bnn_select_isa");
        int pack_ok = 1;
        for (size_t i = 0; i < k; i++) {
            for (size_t t = 0; t < k; t++) {
                xf[t] = t == i ? -1.0f : 1.0f;
                xi[t] = t == i ? -1 : 1;
            }
            must(bnn_pack_f32(xf, 1, k, pf), "bnn_pack_f32");
            must(bnn_pack_i8(xi, 1, k, pi), "bnn_pack_i8");
            for (size_t w = 0; w < words; w++) {
                bnn_word expect = w == i / 64 ? (bnn_word)1 << (i % 64) : 0;
                pack_ok &= pf[w] == expect && pi[w] == expect;
            }
            memcpy(hots + i * words, pf, words * sizeof(bnn_word));
        }
        snprintf(label, sizeof label, "one-hot pack bit order k=%zu", k);
        check(pack_ok, t, label);
        /* dot(e_i, e_j) = k when i == j, else k - 4 (two positions differ). */
        int32_t *c = xmalloc(k * k * sizeof(int32_t));
        must(bnn_bgemm(hots, hots, c, k, k, k, 1), "bnn_bgemm");
        int dot_ok = 1;
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++)
                dot_ok &= c[i * k + j] == (int32_t)(i == j ? k : k - 4);
        snprintf(label, sizeof label, "one-hot bgemm k=%zu", k);
        check(dot_ok, t, label);
        free(xf), free(xi), free(pf), free(pi), free(hots), free(c);
    }
}

/* A value for packing tests: mostly random, with the awkward ones mixed in. */
static float awkward_f32(void)
{
    uint64_t r = next_u64();
    switch (r % 16) {
    case 0: return 0.0f;
    case 1: return -0.0f;   /* sign bit set, yet not < 0: packs as 0 */
    case 2: return NAN;     /* not < 0 */
    case 3: return -NAN;    /* sign bit set, not < 0 */
    case 4: return INFINITY;
    case 5: return -INFINITY;
    case 6: return -1e-40f; /* negative subnormal */
    default: return (float)((int64_t)(r >> 11) - (1LL << 52)) / (float)(1LL << 52);
    }
}

static void test_pack(int t)
{
    static const size_t rows_list[] = {1, 3, 17};
    char label[96];
    for (size_t ki = 0; ki < COUNT(KS); ki++)
        for (size_t ri = 0; ri < COUNT(rows_list); ri++) {
            size_t k = KS[ki], rows = rows_list[ri], words = bnn_words_for(k);
            /* +1 element so the rows can start off their natural alignment */
            float *xf = xmalloc((rows * k + 1) * sizeof(float));
            int8_t *xi = xmalloc(rows * k + 1);
            for (size_t i = 0; i < rows * k + 1; i++) {
                xf[i] = awkward_f32();
                xi[i] = (int8_t)(next_u64() & 0xff); /* covers -128 and 0 */
            }
            bnn_word *want = xmalloc(rows * words * sizeof(bnn_word));
            bnn_word *got = xmalloc(rows * words * sizeof(bnn_word));
            for (int shift = 0; shift < 2; shift++) {
                const char *where = shift ? " (unaligned)" : "";
                bnn_pack_f32_ref(xf + shift, rows, k, want);
                memset(got, 0xa5, rows * words * sizeof(bnn_word)); /* padding must be cleared */
                must(bnn_select_isa(isas[t]), "bnn_select_isa");
                must(bnn_pack_f32(xf + shift, rows, k, got), "bnn_pack_f32");
                snprintf(label, sizeof label, "pack f32 rows=%zu k=%zu%s", rows, k, where);
                check(memcmp(got, want, rows * words * sizeof(bnn_word)) == 0, t, label);
                bnn_pack_i8_ref(xi + shift, rows, k, want);
                memset(got, 0xa5, rows * words * sizeof(bnn_word));
                must(bnn_pack_i8(xi + shift, rows, k, got), "bnn_pack_i8");
                snprintf(label, sizeof label, "pack i8 rows=%zu k=%zu%s", rows, k, where);
                check(memcmp(got, want, rows * words * sizeof(bnn_word)) == 0, t, label);
            }
            free(xf), free(xi), free(want), free(got);
        }
}

/* A value near a threshold key (ties, one off) or anywhere, int32 extremes included. */
static int32_t near_key(int32_t key)
{
    uint64_t r = next_u64();
    switch (r % 8) {
    case 0: return key;
    case 1: return key == INT32_MAX ? key : key + 1;
    case 2: return key == INT32_MIN ? key : key - 1;
    case 3: return INT32_MIN;
    case 4: return INT32_MAX;
    default: return (int32_t)(uint32_t)(r >> 32);
    }
}

/* The threshold kernel of set t equals the reference for every count 1..200
 * (whole and partial words), rows ld_s apart with a gap, output rows ld_out
 * words apart (the words between them untouched), keys and masks as
 * op_threshold.c makes them (mask 0 or -1, key t ^ mask). */
static void test_threshold(int t)
{
    enum { ROWS = 5, MAX_COUNT = 200 };
    char label[96];
    for (size_t count = 1; count <= MAX_COUNT; count += count < 70 ? 1 : 13) {
        size_t ld_s = count + 3, words = bnn_words_for(count), ld_out = words + 1;
        int32_t *mask = xmalloc(count * sizeof(int32_t)), *key = xmalloc(count * sizeof(int32_t));
        int32_t *s = xmalloc(ROWS * ld_s * sizeof(int32_t));
        for (size_t c = 0; c < count; c++) {
            int32_t thr = (int32_t)(uint32_t)(next_u64() >> 32);
            thr = c % 5 == 0 ? INT32_MIN : c % 7 == 0 ? INT32_MAX : thr;
            mask[c] = next_u64() & 1 ? -1 : 0;
            key[c] = thr ^ mask[c];
            for (size_t r = 0; r < ROWS; r++)
                s[r * ld_s + c] = near_key(thr);
        }
        bnn_word *want = xmalloc(ROWS * ld_out * sizeof(bnn_word));
        bnn_word *got = xmalloc(ROWS * ld_out * sizeof(bnn_word));
        memset(want, 0xa5, ROWS * ld_out * sizeof(bnn_word));
        memset(got, 0xa5, ROWS * ld_out * sizeof(bnn_word));
        bnn_threshold_ref(s, ld_s, ROWS, mask, key, count, want, ld_out);
        must(bnn_select_isa(isas[t]), "bnn_select_isa");
        bnn_active_kernels()->threshold(s, ld_s, ROWS, mask, key, count, got, ld_out);
        snprintf(label, sizeof label, "threshold count=%zu", count);
        check(memcmp(got, want, ROWS * ld_out * sizeof(bnn_word)) == 0, t, label);
        free(mask), free(key), free(s), free(want), free(got);
    }
}

/* bnn_bgemm over several blocks of C: 1 thread and 4 threads, equal to ref. */
static void test_threads(int t)
{
    const size_t m = 130, n = 300, k = 1000;
    bnn_word *a = random_bits(m, k, 0), *b = random_bits(n, k, 0);
    int32_t *want = xmalloc(m * n * sizeof(int32_t)), *one = xmalloc(m * n * sizeof(int32_t)),
            *many = xmalloc(m * n * sizeof(int32_t));
    bnn_bgemm_ref(m, n, bnn_words_for(k), a, b, want, n, (int32_t)k);
    must(bnn_select_isa(isas[t]), "bnn_select_isa");
    must(bnn_bgemm(a, b, one, m, n, k, 1), "bnn_bgemm threads=1");
    must(bnn_bgemm(a, b, many, m, n, k, 4), "bnn_bgemm threads=4");
    check(memcmp(one, want, m * n * sizeof(int32_t)) == 0, t, "bgemm threads=1 vs ref");
    check(memcmp(many, one, m * n * sizeof(int32_t)) == 0, t, "bgemm threads=4 vs threads=1");
    free(a), free(b), free(want), free(one), free(many);
}

/* The benchmark's roofline kernel of set t counts exactly: random bits and
 * all ones (the most any counter takes), over several reps. */
static void test_roofline(int t)
{
    const size_t words = 4 * BNN_ROOFLINE_WORDS_MULTIPLE, reps = 3;
    for (int density = 0; density <= 1; density++) {
        bnn_word *a = random_bits(1, words * BNN_WORD_BITS, density);
        bnn_word *b = random_bits(1, words * BNN_WORD_BITS, density ? -1 : 0);
        uint64_t want = 0, got = 0;
        for (size_t w = 0; w < words; w++)
            for (bnn_word x = a[w] ^ b[w]; x; x &= x - 1)
                want++;
        must(bnn_roofline_xor_popcount(isas[t], a, b, words, reps, &got), "bnn_roofline_xor_popcount");
        check(got == reps * want, t, density ? "roofline all ones" : "roofline random");
        free(a), free(b);
    }
    /* The int8 ceiling forms multiply bytes of 1 by bytes of 3: 3 per MAC,
     * so each does exactly the MACs per rep it claims (the rate is computed
     * from that count). */
    const bnn_roofline_form *forms = NULL;
    int count = bnn_roofline_int8_forms(isas[t], &forms);
    for (int f = 0; f < count; f++)
        for (size_t r = 1; r <= 9; r += 8)
            check(forms[f].run(r) == 3 * r * forms[f].ops_per_rep, t, forms[f].name);
}

int main(int argc, char **argv)
{
    harness_begin("test_kernels", argc, argv);
    rng_state = 20240601; /* any data will do; keep it repeatable */
    test_bgemm_shapes();
    test_prepared_errors();
    for (int t = 0; t < n_isas; t++) {
        test_bgemm_wide(t);
        test_one_hot(t);
        test_pack(t);
        test_threads(t);
        test_threshold(t);
        test_roofline(t);
    }
    return harness_end();
}
