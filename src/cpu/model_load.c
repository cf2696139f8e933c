/* model_load.c - the C API's model (bnn.h) is the CPU backend's: its
 * lifetime and queries. Loading is the bytes (a file memory-mapped where
 * the OS has mmap, so tensors are used in place, or a copy of memory in a
 * 64-byte-aligned buffer, the alignment the format gives every tensor),
 * then the format layer's validated graph (format/reader.c), then the CPU
 * plan (plan.c). */
#if defined(__unix__) || defined(__APPLE__)
#define BNN_HAVE_MMAP 1
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "cpu/plan.h"

#define BNN_ALIGN 64

static int host_is_little_endian(void)
{
    const uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* An uninitialised, zeroed model. */
static struct bnn_model *new_model(void)
{
    struct bnn_model *m = calloc(1, sizeof *m);
    if (!m) {
        bnn_fail(BNN_ERR_NOMEM, "out of memory for the model");
        return NULL;
    }
    pthread_mutex_init(&m->cache_lock, NULL);
    return m;
}

void bnn_model_free(bnn_model *m)
{
    if (!m)
        return;
    bnn_plan_release(m);
    bnn_graph_release(&m->graph);
#ifdef BNN_HAVE_MMAP
    if (m->mapping)
        munmap(m->mapping, m->mapping_size);
#endif
    free(m->owned_raw);
    free(m->cache);
    pthread_mutex_destroy(&m->cache_lock);
    free(m);
}

/* Read the graph from m->data and plan it; on failure free the model. */
static bnn_status finish_load(struct bnn_model *m, bnn_model **out)
{
    bnn_status st = host_is_little_endian()
                        ? bnn_graph_read(&m->graph, m->data, m->size)
                        : bnn_fail(BNN_ERR_UNSUPPORTED, "this host is big-endian; .bnn tensors "
                                   "are little-endian and used in place");
    if (st == BNN_OK)
        st = bnn_plan_build(m);
    if (st != BNN_OK) {
        bnn_model_free(m);
        return st;
    }
    *out = m;
    return BNN_OK;
}

/* Copy into an owned buffer whose start is 64-byte aligned. */
static bnn_status copy_aligned(struct bnn_model *m, const void *data, size_t size)
{
    if (size > SIZE_MAX - BNN_ALIGN || !(m->owned_raw = malloc(size + BNN_ALIGN)))
        return bnn_fail(BNN_ERR_NOMEM, "out of memory copying a %zu-byte model", size);
    uintptr_t p = ((uintptr_t)m->owned_raw + BNN_ALIGN - 1) & ~(uintptr_t)(BNN_ALIGN - 1);
    memcpy((void *)p, data, size);
    m->data = (const unsigned char *)p;
    m->size = size;
    return BNN_OK;
}

bnn_status bnn_model_load_memory(const void *data, size_t size, bnn_model **out)
{
    if (!out)
        return bnn_fail(BNN_ERR_ARGUMENT, "model_load_memory: out must not be NULL");
    *out = NULL;
    if (!data && size)
        return bnn_fail(BNN_ERR_ARGUMENT, "model_load_memory: data is NULL");
    struct bnn_model *m = new_model();
    if (!m)
        return BNN_ERR_NOMEM;
    bnn_status st = copy_aligned(m, data ? data : "", size);
    if (st != BNN_OK) {
        bnn_model_free(m);
        return st;
    }
    return finish_load(m, out);
}

bnn_status bnn_model_load_file(const char *path, bnn_model **out)
{
    if (!out)
        return bnn_fail(BNN_ERR_ARGUMENT, "model_load_file: out must not be NULL");
    *out = NULL;
    if (!path)
        return bnn_fail(BNN_ERR_ARGUMENT, "model_load_file: path is NULL");
    struct bnn_model *m = new_model();
    if (!m)
        return BNN_ERR_NOMEM;
#ifdef BNN_HAVE_MMAP
    int fd = open(path, O_RDONLY);
    struct stat info;
    if (fd < 0 || fstat(fd, &info) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        bnn_model_free(m);
        return bnn_fail(BNN_ERR_IO, "cannot open '%s': %s", path, strerror(err));
    }
    if (!S_ISREG(info.st_mode) || (uint64_t)info.st_size > SIZE_MAX) {
        close(fd);
        bnn_model_free(m);
        return bnn_fail(BNN_ERR_IO, "cannot read '%s': not a regular file of addressable size",
                        path);
    }
    m->size = (size_t)info.st_size;
    if (m->size > 0) {
        void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int err = errno;
            close(fd);
            bnn_model_free(m);
            return bnn_fail(BNN_ERR_IO, "cannot map '%s': %s", path, strerror(err));
        }
        m->mapping = p;
        m->mapping_size = m->size;
        m->data = p;
    } else {
        m->data = (const unsigned char *)"";
    }
    close(fd);
#else
    /* No mmap: read the file into an aligned buffer. */
    FILE *f = fopen(path, "rb");
    if (!f) {
        int err = errno;
        bnn_model_free(m);
        return bnn_fail(BNN_ERR_IO, "cannot open '%s': %s", path, strerror(err));
    }
    bnn_status st = BNN_OK;
    long size = -1;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        st = bnn_fail(BNN_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    if (st == BNN_OK && (unsigned long)size > SIZE_MAX - BNN_ALIGN)
        st = bnn_fail(BNN_ERR_IO, "cannot read '%s': too large", path);
    if (st == BNN_OK && !(m->owned_raw = malloc((size_t)size + BNN_ALIGN)))
        st = bnn_fail(BNN_ERR_NOMEM, "out of memory reading '%s' (%ld bytes)", path, size);
    if (st == BNN_OK) {
        uintptr_t p = ((uintptr_t)m->owned_raw + BNN_ALIGN - 1) & ~(uintptr_t)(BNN_ALIGN - 1);
        m->data = (const unsigned char *)p;
        m->size = (size_t)size;
        if (fread((void *)p, 1, m->size, f) != m->size)
            st = bnn_fail(BNN_ERR_IO, "cannot read '%s': short read", path);
    }
    fclose(f);
    if (st != BNN_OK) {
        bnn_model_free(m);
        return st;
    }
#endif
    return finish_load(m, out);
}

size_t bnn_model_input_rank(const bnn_model *m) { return m ? m->graph.input.rank : 0; }

void bnn_model_input_dims(const bnn_model *m, size_t dims[3])
{
    if (!m || !dims)
        return;
    const bnn_act_shape *in = &m->graph.input;
    if (in->rank == 3) {
        dims[0] = in->h;
        dims[1] = in->w;
        dims[2] = in->c;
    } else {
        dims[0] = in->c;
    }
}

size_t bnn_model_input_size(const bnn_model *m) { return m ? m->graph.input_size : 0; }

size_t bnn_model_num_classes(const bnn_model *m) { return m ? m->graph.num_classes : 0; }

void bnn_model_set_threads(bnn_model *m, int threads)
{
    if (m)
        m->threads = threads > 0 ? threads : 0;
}
