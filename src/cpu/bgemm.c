/* bgemm.c - the public bgemm, on B as rows or prepared once (bnn_prepare_b):
 * checks arguments, splits C into blocks and runs the active kernel on them
 * across threads. Every output is computed whole by one kernel call, so
 * results never depend on the thread count. */
#include <stdlib.h>
#include <string.h>

#include "common/cache_line.h"
#include "common/errors.h"
#include "cpu/kernels/kernels.h"
#include "cpu/tiles.h"

/* Block of C handed to one task. Sized so the B block stays in L2 for
 * K up to a few thousand bits and there are enough tasks to balance. The
 * AVX-512 and AVX2 kernels copy B into panels once per block, so a block
 * takes as many rows of A as fit in A_BLOCK_BYTES (at least BLOCK_M): each
 * row block copies all of B again, which at [256,4096,4096] in blocks of 128
 * rows was 11% of the time on AVX-512 (perf), 7% in one block of 256. */
#define BLOCK_M 128
#define A_BLOCK_BYTES (128 * 1024)
#define BLOCK_N 256
#define MIN_BLOCK_N 64          /* 4 AVX-512 panels of 16 rows */
#define MIN_TASKS_PER_THREAD 8
typedef char bnn_assert_blocks_whole_panels[(MIN_BLOCK_N % BNN_PANEL_ROWS == 0) ? 1 : -1];

typedef struct bgemm_job {
    const bnn_kernels *kernels;
    const bnn_word *a, *b;
    const bnn_word *panel; /* B as the kernels' panels, or NULL: B's rows */
    int32_t *c;
    size_t words;
    int32_t k;
    bnn_tiles tiles;      /* set by run */
} bgemm_job;

static void bgemm_task(void *ctx, size_t task)
{
    const bgemm_job *j = ctx;
    size_t i0, mb, j0, nb;
    bnn_tile_at(&j->tiles, task, &i0, &mb, &j0, &nb);
    const bnn_word *a = j->a + i0 * j->words;
    int32_t *c = j->c + i0 * j->tiles.n + j0;
    if (j->panel) /* j0 is a whole number of panel groups: blocks are 64 columns or more */
        j->kernels->bgemm_panel(mb, nb, j->words, a,
                                bnn_panel_column(j->kernels, j->panel, j0, j->words), c,
                                j->tiles.n, j->k);
    else
        j->kernels->bgemm(mb, nb, j->words, a, j->b + j0 * j->words, c, j->tiles.n, j->k);
}

/* Cuts C (m x n, m and n > 0) into tasks for `kernels`; returns the
 * threads they run on. */
static int plan(bnn_tiles *tiles, const bnn_kernels *kernels, size_t m, size_t n, size_t words,
                int threads)
{
    /* Sets without panels (scalar, NEON) copy nothing: 128 rows keep A and
     * B blocks within a 256 KiB L2 at K = 4096. */
    size_t block_m = kernels->panel_pack ? A_BLOCK_BYTES / (words * sizeof(bnn_word)) : 0;
    if (block_m < BLOCK_M)
        block_m = BLOCK_M;
    if (block_m > m)
        block_m = m;
    size_t bn = BLOCK_N;
    *tiles = bnn_tiles_of(m, n, block_m, bn);
    int use = bnn_tiles_threads(tiles, words, threads);
    /* One row of A on one thread: each B row is read once whatever the
     * blocks, so one block takes all of C, where a kernel call per block
     * paid the kernel's set-up per 256 columns */
    if (use == 1 && m == 1)
        *tiles = bnn_tiles_of(1, n, 1, n);
    /* Smaller blocks until every thread has a few tasks: a short product
     * (M = 64 has one row block) split into as many tasks as threads waits
     * for the slowest, and a helper that joins late leaves the caller a
     * whole block more. Narrower column blocks first: each still packs its
     * own B rows once, so that adds no packing; then fewer rows (each row
     * block packs B again). */
    while (use > 1 && tiles->count < MIN_TASKS_PER_THREAD * (size_t)use &&
           (bn > MIN_BLOCK_N || block_m > BLOCK_M)) {
        if (bn > MIN_BLOCK_N)
            bn /= 2;
        else
            block_m = block_m / 2 < BLOCK_M ? BLOCK_M : block_m / 2;
        *tiles = bnn_tiles_of(m, n, block_m, bn);
    }
    return (size_t)use < tiles->count ? use : (int)tiles->count;
}

int bnn_bgemm_threads(size_t m, size_t n, size_t k, int threads)
{
    bnn_tiles tiles;
    return m && n ? plan(&tiles, bnn_active_kernels(), m, n, bnn_words_for(k), threads) : 1;
}

/* Runs a job whose kernels, operands, words and k are set, on m x n. */
static bnn_status run(bgemm_job *j, size_t m, size_t n, int threads)
{
    int use = plan(&j->tiles, j->kernels, m, n, j->words, threads);
    return bnn_parallel_for(j->tiles.count, use, bgemm_task, j);
}

bnn_status bnn_bgemm(const uint64_t *a, const uint64_t *b, int32_t *c, size_t m, size_t n,
                     size_t k, int threads)
{
    if (!a || !b || !c)
        return bnn_fail(BNN_ERR_ARGUMENT, "bgemm: a, b and c must not be NULL");
    /* k - 2 * popcount lies in [-k, k]: int32 holds it for k up to 2^30
     * (the .bnn limit for binary layers, docs/FORMAT.md). */
    if (k > ((size_t)1 << 30))
        return bnn_fail(BNN_ERR_ARGUMENT, "bgemm: k must be at most 2^30, got %zu", k);
    if (m == 0 || n == 0)
        return BNN_OK;
    if (n > SIZE_MAX / m)
        return bnn_fail(BNN_ERR_ARGUMENT, "bgemm: m*n overflows (m=%zu, n=%zu)", m, n);
    bgemm_job j = {.kernels = bnn_active_kernels(), .a = a, .b = b, .c = c,
                   .words = bnn_words_for(k), .k = (int32_t)k};
    return run(&j, m, n, threads);
}

struct bnn_prepared_b {
    size_t n, k, words;
    bnn_word *rows;              /* a copy of B's rows: any kernel set runs on them */
    bnn_word *panel;             /* B as panels for panel_kernel's set, or NULL */
    bnn_bgemm_panel_fn panel_kernel;
    void *rows_alloc, *panel_alloc; /* rows and panel, before aligning them to 64 bytes */
};

void bnn_prepared_b_free(bnn_prepared_b *p)
{
    if (!p)
        return;
    free(p->rows_alloc);
    free(p->panel_alloc);
    free(p);
}

bnn_status bnn_prepare_b(const uint64_t *b, size_t n, size_t k, bnn_prepared_b **out)
{
    if (!out)
        return bnn_fail(BNN_ERR_ARGUMENT, "prepare_b: out must not be NULL");
    *out = NULL;
    if (!b)
        return bnn_fail(BNN_ERR_ARGUMENT, "prepare_b: b must not be NULL");
    if (n == 0 || k == 0)
        return bnn_fail(BNN_ERR_ARGUMENT, "prepare_b: expected at least one row of at least one "
                                          "bit, got n=%zu, k=%zu", n, k);
    if (k > ((size_t)1 << 30))
        return bnn_fail(BNN_ERR_ARGUMENT, "prepare_b: k must be at most 2^30, got %zu", k);
    size_t words = bnn_words_for(k);
    const bnn_kernels *kernels = bnn_active_kernels();
    uint64_t panel_words = kernels->panel_pack ? bnn_kernels_panel_words(kernels, n, words) : 0;
    if (n > (SIZE_MAX - 64) / sizeof(bnn_word) / words ||
        panel_words > (SIZE_MAX - 64) / sizeof(bnn_word))
        return bnn_fail(BNN_ERR_ARGUMENT, "prepare_b: %zu rows of %zu words do not fit in memory",
                        n, words);
    bnn_prepared_b *p = calloc(1, sizeof *p);
    if (p) {
        p->rows = bnn_malloc_on_line((uint64_t)n * words * sizeof(bnn_word), &p->rows_alloc);
        if (panel_words)
            p->panel = bnn_malloc_on_line(panel_words * sizeof(bnn_word), &p->panel_alloc);
    }
    if (!p || !p->rows || (panel_words && !p->panel)) {
        bnn_prepared_b_free(p);
        return bnn_fail(BNN_ERR_NOMEM, "prepare_b: out of memory for %zu rows of %zu words", n,
                        words);
    }
    p->n = n;
    p->k = k;
    p->words = words;
    memcpy(p->rows, b, n * words * sizeof(bnn_word));
    if (panel_words) {
        kernels->panel_pack(b, n, words, p->panel);
        p->panel_kernel = kernels->bgemm_panel;
    }
    *out = p;
    return BNN_OK;
}

bnn_status bnn_bgemm_prepared(const uint64_t *a, const bnn_prepared_b *b, int32_t *c, size_t m,
                              int threads)
{
    if (!a || !b || !c)
        return bnn_fail(BNN_ERR_ARGUMENT, "bgemm_prepared: a, b and c must not be NULL");
    if (m == 0)
        return BNN_OK;
    if (b->n > SIZE_MAX / m)
        return bnn_fail(BNN_ERR_ARGUMENT, "bgemm_prepared: m*n overflows (m=%zu, n=%zu)", m, b->n);
    const bnn_kernels *kernels = bnn_active_kernels();
    /* the panels serve only the kernel set that packed them (a test or a
     * benchmark may select another since); any set runs on the rows */
    const bnn_word *panel = b->panel && b->panel_kernel == kernels->bgemm_panel &&
                                    bnn_panel_pays(kernels, m, b->n, b->words)
                                ? b->panel
                                : NULL;
    bgemm_job j = {.kernels = kernels, .a = a, .b = b->rows, .panel = panel, .c = c,
                   .words = b->words, .k = (int32_t)b->k};
    return run(&j, m, b->n, threads);
}
