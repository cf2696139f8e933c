/* reader.c - the structural half of the .bnn reader (docs/FORMAT.md):
 * header, checksums, the layer and tensor tables, tensor placement. Every
 * field is checked before it is used, every size computation is done in 64
 * bits with overflow checks, and every refusal names the field. The meaning
 * of the layers is checked by bind_layers.c. Yields the validated graph
 * (format/graph.h) and nothing else: no backend is called from here. */
#include <stdlib.h>
#include <string.h>

#include "common/crc32.h"
#include "common/errors.h"
#include "format/records.h"

#define HEADER_SIZE 64u
#define LAYER_RECORD_SIZE 64u
#define TENSOR_RECORD_SIZE 48u
#define HEADER_CRC_OFFSET 60u

static const unsigned char bnn_magic[8] = {0x89, 'B', 'N', 'N', '\r', '\n', 0x1a, '\n'};

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static uint64_t itemsize_of(uint32_t dtype)
{
    switch (dtype) {
    case BNN_DTYPE_BITS: return 8;
    case BNN_DTYPE_I32: return 4;
    case BNN_DTYPE_F32: return 4;
    case BNN_DTYPE_U8: return 1;
    }
    return 0;
}

static bnn_status check_header(const unsigned char *d, size_t size, uint64_t *tables_end)
{
    if (size < HEADER_SIZE)
        return bnn_fail(BNN_ERR_FORMAT, "file is %zu bytes: too short for the 64-byte header "
                        "(truncated, or not a .bnn file)", size);
    if (memcmp(d, bnn_magic, 8) != 0)
        return bnn_fail(BNN_ERR_FORMAT, "magic: expected 89 42 4E 4E 0D 0A 1A 0A "
                        "(\\x89BNN\\r\\n\\x1a\\n), got %02X %02X %02X %02X %02X %02X %02X %02X "
                        "(not a .bnn file)", d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]);
    uint32_t version = rd32(d + 8), header_size = rd32(d + 12);
    if (version != 1)
        return bnn_fail(BNN_ERR_FORMAT, "version: expected 1, got %u (this reader knows "
                        "version 1 only)", version);
    if (header_size != HEADER_SIZE)
        return bnn_fail(BNN_ERR_FORMAT, "header_size: expected 64, got %u", header_size);
    uint32_t n_layers = rd32(d + 16), n_tensors = rd32(d + 20);
    if (n_layers < 1 || n_layers > BNN_MAX_LAYERS)
        return bnn_fail(BNN_ERR_FORMAT, "n_layers: expected 1..%u, got %u", BNN_MAX_LAYERS,
                        n_layers);
    if (n_tensors > BNN_MAX_TENSORS)
        return bnn_fail(BNN_ERR_FORMAT, "n_tensors: expected 0..%u, got %u", BNN_MAX_TENSORS,
                        n_tensors);
    uint64_t end = HEADER_SIZE + (uint64_t)LAYER_RECORD_SIZE * n_layers +
                   (uint64_t)TENSOR_RECORD_SIZE * n_tensors;
    if (size < end)
        return bnn_fail(BNN_ERR_FORMAT, "file is %zu bytes: truncated inside the layer and "
                        "tensor tables, which end at byte %llu", size, (unsigned long long)end);
    uint32_t stored = rd32(d + HEADER_CRC_OFFSET);
    uint32_t crc = bnn_crc32_update(0, d, HEADER_CRC_OFFSET);
    crc = bnn_crc32_update(crc, d + HEADER_SIZE, (size_t)(end - HEADER_SIZE));
    if (crc != stored)
        return bnn_fail(BNN_ERR_FORMAT, "header_crc32: stored 0x%08X, computed 0x%08X over "
                        "the header and tables (corrupt data)", stored, crc);
    *tables_end = end;
    return BNN_OK;
}

static bnn_status check_payload(const unsigned char *d, size_t size, uint64_t tables_end)
{
    uint64_t payload_offset = rd64(d + 40), payload_size = rd64(d + 48);
    uint64_t expected = (tables_end + 63) & ~(uint64_t)63;
    if (payload_offset != expected)
        return bnn_fail(BNN_ERR_FORMAT, "payload_offset: expected %llu (64 + 64*n_layers + "
                        "48*n_tensors rounded up to 64), got %llu",
                        (unsigned long long)expected, (unsigned long long)payload_offset);
    if (payload_size > UINT64_MAX - payload_offset || payload_offset + payload_size != size)
        return bnn_fail(BNN_ERR_FORMAT, "payload_size: the file must be payload_offset + "
                        "payload_size = %llu + %llu bytes, it is %zu bytes (truncated or "
                        "trailing data)", (unsigned long long)payload_offset,
                        (unsigned long long)payload_size, size);
    if (!all_zero(d + tables_end, (size_t)(payload_offset - tables_end)))
        return bnn_fail(BNN_ERR_FORMAT, "the bytes between the tensor table (ends at %llu) "
                        "and payload_offset %llu must be zero", (unsigned long long)tables_end,
                        (unsigned long long)payload_offset);
    uint32_t stored = rd32(d + 56);
    uint32_t crc = bnn_crc32_update(0, d + payload_offset, (size_t)payload_size);
    if (crc != stored)
        return bnn_fail(BNN_ERR_FORMAT, "payload_crc32: stored 0x%08X, computed 0x%08X over "
                        "%llu payload bytes (corrupt data)", stored, crc,
                        (unsigned long long)payload_size);
    return BNN_OK;
}

static bnn_status check_input(bnn_graph *m, const unsigned char *d)
{
    uint32_t rank = rd32(d + 24), dims[3] = {rd32(d + 28), rd32(d + 32), rd32(d + 36)};
    if (rank != 1 && rank != 3)
        return bnn_fail(BNN_ERR_FORMAT, "input_rank: expected 1 (features,) or 3 (H, W, C), "
                        "got %u", rank);
    uint64_t elements = 1;
    for (uint32_t i = 0; i < 3; i++) {
        if (i < rank && (dims[i] < 1 || dims[i] > BNN_MAX_DIM))
            return bnn_fail(BNN_ERR_FORMAT, "input_dims[%u]: expected 1..%u, got %u", i,
                            BNN_MAX_DIM, dims[i]);
        if (i >= rank && dims[i] != 0)
            return bnn_fail(BNN_ERR_FORMAT, "input_dims[%u]: unused for input_rank %u, must "
                            "be 0, got %u", i, rank, dims[i]);
        if (i < rank)
            elements *= dims[i]; /* at most 2^72 would overflow: checked per step below */
        if (elements > BNN_MAX_ELEMENTS)
            return bnn_fail(BNN_ERR_FORMAT, "input_dims: the input has more than 2^31 "
                            "elements per sample");
    }
    m->input.domain = BNN_DOMAIN_U8;
    m->input.rank = rank;
    m->input.h = rank == 3 ? dims[0] : 1;
    m->input.w = rank == 3 ? dims[1] : 1;
    m->input.c = rank == 3 ? dims[2] : dims[0];
    m->input_size = (size_t)elements;
    return BNN_OK;
}

static bnn_status read_tensor(const unsigned char *d, uint32_t index, uint64_t payload_offset,
                              uint64_t payload_size, bnn_tensor_rec *t)
{
    const unsigned char *r = d + HEADER_SIZE + (uint64_t)LAYER_RECORD_SIZE * rd32(d + 16) +
                             (uint64_t)TENSOR_RECORD_SIZE * index;
    t->dtype = rd32(r);
    t->rank = rd32(r + 4);
    for (int i = 0; i < 4; i++)
        t->dims[i] = rd32(r + 8 + 4 * i);
    t->offset = rd64(r + 24);
    t->size = rd64(r + 32);
    t->used_by = 0;
    uint64_t item = itemsize_of(t->dtype);
    if (!item)
        return bnn_fail(BNN_ERR_FORMAT, "tensor %u: dtype: expected 1 (bits), 2 (i32), "
                        "3 (f32) or 4 (u8), got %u", index, t->dtype);
    if (t->rank < 1 || t->rank > 4)
        return bnn_fail(BNN_ERR_FORMAT, "tensor %u: rank: expected 1..4, got %u", index, t->rank);
    uint64_t count = 1;
    for (uint32_t i = 0; i < 4; i++) {
        if (i < t->rank && (t->dims[i] < 1 || t->dims[i] > BNN_MAX_DIM))
            return bnn_fail(BNN_ERR_FORMAT, "tensor %u: dims[%u]: expected 1..%u, got %u", index,
                            i, BNN_MAX_DIM, t->dims[i]);
        if (i >= t->rank && t->dims[i] != 0)
            return bnn_fail(BNN_ERR_FORMAT, "tensor %u: dims[%u]: unused for rank %u, must be "
                            "0, got %u", index, i, t->rank, t->dims[i]);
        /* count stays <= payload_size, so neither product below overflows
         * unless the payload is over 2^61 bytes, which the last check
         * refuses as well. */
        if (i < t->rank && count > payload_size / t->dims[i])
            return bnn_fail(BNN_ERR_FORMAT, "tensor %u: dims describe more data than the "
                            "%llu-byte payload", index, (unsigned long long)payload_size);
        if (i < t->rank)
            count *= t->dims[i];
    }
    if (count > UINT64_MAX / item || t->size != count * item)
        return bnn_fail(BNN_ERR_FORMAT, "tensor %u: size: expected %llu (product of dims x "
                        "itemsize %llu), got %llu", index, (unsigned long long)(count * item),
                        (unsigned long long)item, (unsigned long long)t->size);
    if (t->offset % 64 != 0)
        return bnn_fail(BNN_ERR_FORMAT, "tensor %u: offset: must be a multiple of 64, got %llu",
                        index, (unsigned long long)t->offset);
    if (t->offset > payload_size || t->size > payload_size - t->offset)
        return bnn_fail(BNN_ERR_FORMAT, "tensor %u: bytes [%llu, +%llu) lie outside the "
                        "%llu-byte payload", index, (unsigned long long)t->offset,
                        (unsigned long long)t->size, (unsigned long long)payload_size);
    if (!all_zero(r + 40, 8))
        return bnn_fail(BNN_ERR_FORMAT, "tensor %u: reserved bytes 40..47 must be zero", index);
    t->data = d + payload_offset + t->offset;
    return BNN_OK;
}

typedef struct placed {
    uint64_t offset, size;
    uint32_t index;
} placed;

static int by_offset(const void *a, const void *b)
{
    uint64_t x = ((const placed *)a)->offset, y = ((const placed *)b)->offset;
    return x < y ? -1 : x > y;
}

/* Tensors must not overlap: sort by offset, compare neighbours. */
static bnn_status check_overlap(const bnn_tensor_rec *t, uint32_t n)
{
    if (n < 2)
        return BNN_OK;
    placed *order = malloc(n * sizeof *order);
    if (!order)
        return bnn_fail(BNN_ERR_NOMEM, "out of memory checking %u tensors", n);
    for (uint32_t i = 0; i < n; i++) {
        order[i].offset = t[i].offset;
        order[i].size = t[i].size;
        order[i].index = i;
    }
    qsort(order, n, sizeof *order, by_offset);
    bnn_status st = BNN_OK;
    for (uint32_t i = 1; i < n; i++) {
        const placed *a = &order[i - 1], *b = &order[i];
        if (a->offset + a->size > b->offset) {
            st = bnn_fail(BNN_ERR_FORMAT, "tensors %u and %u overlap in the payload "
                          "([%llu, +%llu) and [%llu, +%llu))", a->index, b->index,
                          (unsigned long long)a->offset, (unsigned long long)a->size,
                          (unsigned long long)b->offset, (unsigned long long)b->size);
            break;
        }
    }
    free(order);
    return st;
}

static bnn_status read_layer(const unsigned char *d, uint32_t index, bnn_layer_rec *l)
{
    const unsigned char *r = d + HEADER_SIZE + (uint64_t)LAYER_RECORD_SIZE * index;
    l->type = rd32(r);
    l->units = rd32(r + 4);
    l->kernel_h = rd32(r + 8);
    l->kernel_w = rd32(r + 12);
    l->stride_h = rd32(r + 16);
    l->stride_w = rd32(r + 20);
    l->padding = rd32(r + 24);
    l->pad_value = rd32(r + 28);
    for (int i = 0; i < 4; i++)
        l->tensor[i] = rd32(r + 32 + 4 * i);
    if (!all_zero(r + 48, 16))
        return bnn_fail(BNN_ERR_FORMAT, "layer %u (%s): reserved bytes 48..63 must be zero", index,
                        bnn_layer_type_name(l->type));
    return BNN_OK;
}

bnn_status bnn_graph_read(bnn_graph *m, const unsigned char *d, size_t size)
{
    memset(m, 0, sizeof *m);
    uint64_t tables_end = 0;
    bnn_status st = check_header(d, size, &tables_end);
    if (st == BNN_OK)
        st = check_payload(d, size, tables_end);
    if (st == BNN_OK)
        st = check_input(m, d);
    if (st != BNN_OK)
        return st;
    uint32_t n_layers = rd32(d + 16), n_tensors = rd32(d + 20);
    uint64_t payload_offset = rd64(d + 40), payload_size = rd64(d + 48);
    bnn_layer_rec *layers = malloc(n_layers * sizeof *layers);
    bnn_tensor_rec *tensors = malloc((n_tensors ? n_tensors : 1) * sizeof *tensors);
    if (!layers || !tensors) {
        st = bnn_fail(BNN_ERR_NOMEM, "out of memory reading %u layers and %u tensors", n_layers,
                      n_tensors);
        goto done;
    }
    for (uint32_t i = 0; i < n_tensors && st == BNN_OK; i++)
        st = read_tensor(d, i, payload_offset, payload_size, &tensors[i]);
    if (st == BNN_OK)
        st = check_overlap(tensors, n_tensors);
    for (uint32_t i = 0; i < n_layers && st == BNN_OK; i++)
        st = read_layer(d, i, &layers[i]);
    m->n_layers = n_layers;
    if (st == BNN_OK)
        st = bnn_graph_bind_layers(m, layers, tensors, n_tensors);
    for (uint32_t i = 0; i < n_tensors && st == BNN_OK; i++)
        if (!tensors[i].used_by)
            st = bnn_fail(BNN_ERR_FORMAT, "tensor %u is not used by any layer (each tensor "
                          "belongs to exactly one layer slot)", i);
done:
    free(layers);
    free(tensors);
    if (st != BNN_OK)
        bnn_graph_release(m);
    return st;
}

void bnn_graph_release(bnn_graph *g)
{
    free(g->layers);
    g->layers = NULL;
    g->n_layers = 0;
}
