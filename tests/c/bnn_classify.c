/* bnn_classify.c - classify raw uint8 samples with a .bnn model, using only
 * the public C API (bnn.h): the smallest complete user of the runtime, and
 * the program the cross tests run under qemu to compare ARM with x86.
 *
 *   bnn_classify MODEL.bnn INPUT.u8 N [--scores OUT.f32] [--threads T]
 *
 * INPUT.u8 holds N samples of input_size bytes each (channels-last), nothing
 * else. Prints one predicted class per line; --scores also writes the raw
 * float32 scores (N x classes, host byte order). Exit status 0 on success,
 * 1 on a runtime error (the library's message is printed), 2 on bad usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bnn.h"

static int usage(const char *why)
{
    fprintf(stderr, "bnn_classify: %s\nusage: bnn_classify MODEL.bnn INPUT.u8 N "
            "[--scores OUT.f32] [--threads T]\n", why);
    return 2;
}

static int parse_count(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return 0;
    *out = (size_t)v;
    return (unsigned long long)*out == v;
}

/* Read exactly `size` bytes of `path` into a new buffer; NULL with a message if not. */
static unsigned char *read_exactly(const char *path, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bnn_classify: cannot open '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    unsigned char *data = malloc(size ? size : 1);
    size_t got = data ? fread(data, 1, size, f) : 0;
    int extra = data && got == size && fgetc(f) != EOF;
    fclose(f);
    if (!data) {
        fprintf(stderr, "bnn_classify: out of memory for %zu input bytes\n", size);
        return NULL;
    }
    if (got != size || extra) {
        fprintf(stderr, "bnn_classify: '%s' must hold exactly %zu bytes (N x input_size), "
                "it holds %s%zu\n", path, size, extra ? "more than " : "", got);
        free(data);
        return NULL;
    }
    return data;
}

static int fail(const char *what, bnn_status st)
{
    fprintf(stderr, "bnn_classify: %s: %s (%s)\n", what, bnn_last_error(), bnn_status_string(st));
    return 1;
}

int main(int argc, char **argv)
{
    const char *scores_path = NULL;
    size_t n = 0, threads = 0;
    if (argc < 4)
        return usage("expected MODEL.bnn INPUT.u8 N");
    if (!parse_count(argv[3], &n))
        return usage("N must be a non-negative integer");
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--scores") == 0 && i + 1 < argc)
            scores_path = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            if (!parse_count(argv[++i], &threads) || threads < 1 || threads > 1024)
                return usage("--threads must be 1..1024");
        } else
            return usage("unknown or incomplete option");
    }

    bnn_model *model = NULL;
    bnn_status st = bnn_model_load_file(argv[1], &model);
    if (st != BNN_OK)
        return fail("cannot load the model", st);
    size_t size = bnn_model_input_size(model), classes = bnn_model_num_classes(model);
    int rc = 1;
    unsigned char *input = NULL;
    float *scores = NULL;
    if (n && size > (size_t)-1 / n) {
        fprintf(stderr, "bnn_classify: N x input_size overflows\n");
        goto done;
    }
    input = read_exactly(argv[2], n * size);
    scores = malloc((n ? n : 1) * classes * sizeof *scores);
    if (!input || !scores) {
        if (input)
            fprintf(stderr, "bnn_classify: out of memory for the scores\n");
        goto done;
    }
    st = bnn_model_run(model, input, n, scores, (int)threads);
    if (st != BNN_OK) {
        rc = fail("run failed", st);
        goto done;
    }
    for (size_t s = 0; s < n; s++) {
        size_t best = 0;
        for (size_t c = 1; c < classes; c++)
            if (scores[s * classes + c] > scores[s * classes + best])
                best = c; /* ties: the lowest class, as numpy.argmax */
        printf("%zu\n", best);
    }
    if (scores_path) {
        FILE *f = fopen(scores_path, "wb");
        if (!f || fwrite(scores, sizeof *scores, n * classes, f) != n * classes) {
            fprintf(stderr, "bnn_classify: cannot write '%s': %s\n", scores_path, strerror(errno));
            if (f)
                fclose(f);
            goto done;
        }
        if (fclose(f) != 0) {
            fprintf(stderr, "bnn_classify: cannot write '%s': %s\n", scores_path, strerror(errno));
            goto done;
        }
    }
    rc = 0;
done:
    free(input);
    free(scores);
    bnn_model_free(model);
    return rc;
}
