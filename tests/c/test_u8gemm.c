/* test_u8gemm.c - the first-layer product (uint8 x times +-1 weights) of every
 * kernel set this CPU can run, and of "ref", against a plain dot product
 * computed here from the weight matrix itself (so the panel layout and
 * bnn_u8_panel_pack are checked too), without Python: it also runs under
 * qemu (scripts/cross_test.sh).
 *
 *   test_u8gemm [--expect-isa NAME]
 *
 * Edge shapes: K below, at and above a quad (4), a vector (16, 32, 64) and
 * an int16 accumulation chunk (256 bytes on x86, 512 on NEON); M and N below,
 * at and above the register blocks (4 or 8 rows, 16 columns) and a 64 tile.
 * Extremes: x = 255 everywhere against all -1 and all +1 weights (the largest
 * pair sums, which must neither saturate nor overflow). Every call has
 * ldc > n, with sentinels checked so nothing outside C is written, and x rows
 * ldx > k apart with junk between them; the last row of x ends its buffer
 * (an ASan build catches any read past it). Prints one line per set and
 * "N passed, N failed"; exits 1 on any failure. */
#include "test_harness.h"

static const size_t KS[] = {1, 2, 3, 4, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65,
                            255, 256, 257, 259, 511, 512, 513, 784, 1000};
/* M: every remainder of the 4-, 6- and 8-row blocks (1, 3, 8 = 6 + 2, 17,
 * 64, 100); N: 1-2 panel groups of 16 with partial ones after them. */
static const size_t MNS[] = {1, 3, 8, 17, 64, 100};
static const size_t BIG_KS[] = {4097, 65539};

/* Data for one shape. x: m rows of k bytes, ldx = k + 5 apart (junk bytes
 * between rows), the last row ending the allocation. w: n x k of +-1. */
typedef struct problem {
    size_t m, n, k, ldx;
    uint8_t *x;
    int8_t *w, *panel;
    int32_t *want;
} problem;

/* x_mode: 0 random, 1 all 255. w_mode: 0 random, 1 all +1, -1 all -1. */
static problem make_problem(size_t m, size_t n, size_t k, int x_mode, int w_mode)
{
    problem p = {m, n, k, k + 5, NULL, NULL, NULL, NULL};
    size_t x_bytes = (m - 1) * p.ldx + k;
    p.x = xmalloc(x_bytes);
    for (size_t i = 0; i < x_bytes; i++)
        p.x[i] = x_mode ? 255 : (uint8_t)next_u64();
    p.w = xmalloc(n * k);
    for (size_t i = 0; i < n * k; i++)
        p.w[i] = (int8_t)(w_mode ? w_mode : (next_u64() & 1 ? -1 : 1));
    p.panel = xmalloc(bnn_u8_panel_bytes(n, k));
    bnn_u8_panel_pack(p.w, n, k, p.panel);
    p.want = xmalloc(m * n * sizeof(int32_t));
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            int64_t s = 0;
            for (size_t t = 0; t < k; t++)
                s += (int64_t)p.x[i * p.ldx + t] * p.w[j * k + t];
            p.want[i * n + j] = (int32_t)s;
        }
    return p;
}

static void free_problem(problem *p)
{
    free(p->x), free(p->w), free(p->panel), free(p->want);
}

/* Kernel set t on p, with ldc = n + 3: C must equal want and nothing
 * outside the m x n block may change. */
static void run_check(int t, const problem *p, const char *what)
{
    char label[160];
    size_t ldc = p->n + 3;
    int32_t *c = xmalloc(p->m * ldc * sizeof(int32_t));
    for (size_t i = 0; i < p->m * ldc; i++)
        c[i] = SENTINEL;
    must(bnn_select_isa(isas[t]), "bnn_select_isa");
    bnn_active_kernels()->u8gemm(p->m, p->n, p->k, p->x, p->ldx, p->panel, c, ldc);
    int equal = 1, outside = 1;
    for (size_t i = 0; i < p->m; i++) {
        equal &= memcmp(c + i * ldc, p->want + i * p->n, p->n * sizeof(int32_t)) == 0;
        for (size_t j = p->n; j < ldc; j++)
            outside &= c[i * ldc + j] == SENTINEL;
    }
    snprintf(label, sizeof label, "u8gemm %s m=%zu n=%zu k=%zu", what, p->m, p->n, p->k);
    check(equal, t, label);
    snprintf(label, sizeof label, "u8gemm %s m=%zu n=%zu k=%zu (writes outside C)", what, p->m,
             p->n, p->k);
    check(outside, t, label);
    free(c);
}

static void test_shapes(void)
{
    for (size_t ki = 0; ki < COUNT(KS); ki++)
        for (size_t mi = 0; mi < COUNT(MNS); mi++)
            for (size_t ni = 0; ni < COUNT(MNS); ni++) {
                problem p = make_problem(MNS[mi], MNS[ni], KS[ki], 0, 0);
                for (int t = 0; t < n_isas; t++)
                    run_check(t, &p, "random");
                free_problem(&p);
            }
    /* Long rows: several int16 / u16 chunks and a partial last quad. */
    for (size_t ki = 0; ki < COUNT(BIG_KS); ki++) {
        problem p = make_problem(5, 19, BIG_KS[ki], 0, 0);
        for (int t = 0; t < n_isas; t++)
            run_check(t, &p, "random long");
        free_problem(&p);
    }
}

/* x = 255 against all +1 and all -1: every pair sum is +-510, the most an
 * int16 (x86) or u16 (NEON) lane gains per step; the answers are +-255 k. */
static void test_extremes(void)
{
    static const size_t ks[] = {3, 255, 256, 257, 512, 513, 1000, 4097, 65539};
    char label[96];
    for (size_t ki = 0; ki < COUNT(ks); ki++)
        for (int sign = -1; sign <= 1; sign += 2) {
            problem p = make_problem(9, 33, ks[ki], 1, sign);
            int fixed = 1;
            for (size_t i = 0; i < p.m * p.n; i++)
                fixed &= p.want[i] == sign * 255 * (int32_t)ks[ki];
            for (int t = 0; t < n_isas; t++) {
                snprintf(label, sizeof label, "x=255 w=%+d k=%zu: expected %+d * 255 k", sign,
                         ks[ki], sign);
                check(fixed, t, label); /* the expectation itself */
                run_check(t, &p, sign > 0 ? "x=255 w=+1" : "x=255 w=-1");
            }
            free_problem(&p);
        }
}

/* A kernel started at a later group of a panel (as op_gemm.c's tiles do):
 * columns 16g.. of the whole product. */
static void test_panel_offset(void)
{
    const size_t m = 7, n = 80, k = 77;
    char label[96];
    problem p = make_problem(m, n, k, 0, 0);
    int32_t *c = xmalloc(m * n * sizeof(int32_t));
    for (int t = 0; t < n_isas; t++) {
        must(bnn_select_isa(isas[t]), "bnn_select_isa");
        for (size_t g = 0; g < n / BNN_U8_GROUP; g++) {
            size_t j0 = g * BNN_U8_GROUP, nb = n - j0 < 33 ? n - j0 : 33;
            bnn_active_kernels()->u8gemm(m, nb, k, p.x, p.ldx,
                                         p.panel + g * bnn_u8_group_bytes(k), c, n);
            int ok = 1;
            for (size_t i = 0; i < m; i++)
                ok &= memcmp(c + i * n, p.want + i * n + j0, nb * sizeof(int32_t)) == 0;
            snprintf(label, sizeof label, "u8gemm from group %zu (columns %zu..%zu)", g, j0,
                     j0 + nb - 1);
            check(ok, t, label);
        }
    }
    free(c);
    free_problem(&p);
}

int main(int argc, char **argv)
{
    harness_begin("test_u8gemm", argc, argv);
    rng_state = 20240602;
    test_shapes();
    test_extremes();
    test_panel_offset();
    return harness_end();
}
