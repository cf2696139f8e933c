/* fuzz_mutator.c - a structure-aware libFuzzer mutator for .bnn files.
 *
 * Byte-level mutations of a .bnn file almost never get past its two CRCs,
 * so the validation behind them would go unexplored. This mutator knows the
 * layout (docs/FORMAT.md): it sets header, layer-record and tensor-record
 * fields to boundary values, swaps layer records, mutates the payload in
 * place or resizes the file, and then (most of the time) recomputes the
 * header CRC and the payload CRC so the mutant reaches the field checks.
 * Now and then it leaves the CRCs alone, so their checks stay covered too. */
#include <stdint.h>
#include <string.h>

#include "common/crc32.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

#define HEADER_SIZE 64
#define LAYER_RECORD 64
#define TENSOR_RECORD 48
#define HEADER_CRC_SPAN 60

static uint32_t rng;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* Where the tables are, from the header, clamped to the data. */
static size_t n_layers_of(const uint8_t *d, size_t size)
{
    uint64_t n = get32(d + 16);
    return n * LAYER_RECORD > size - HEADER_SIZE ? (size - HEADER_SIZE) / LAYER_RECORD : n;
}
static size_t tensor_base(const uint8_t *d, size_t size)
{
    return HEADER_SIZE + n_layers_of(d, size) * LAYER_RECORD;
}
static size_t n_tensors_of(const uint8_t *d, size_t size)
{
    uint64_t n = get32(d + 20), room = size - tensor_base(d, size);
    return n * TENSOR_RECORD > room ? room / TENSOR_RECORD : n;
}

/* A value near a boundary the reader checks, or near the old one. */
static uint64_t interesting(uint64_t old)
{
    static const uint64_t values[] = {0, 1, 2, 3, 4, 7, 8, 9, 63, 64, 65, 127, 128, 255, 256,
                                      1023, 1024, 1025, 4096, 65535, 65536, (1u << 20),
                                      (1u << 20) + 1, (1u << 23), (1u << 24), (1u << 24) + 1,
                                      0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu,
                                      (uint64_t)1 << 31, (uint64_t)1 << 32,
                                      UINT64_MAX - 63, UINT64_MAX};
    switch (next() % 4) {
    case 0: return old + 1;
    case 1: return old - 1;
    case 2: return old ^ ((uint64_t)1 << (next() % 32));
    default: return values[next() % (sizeof values / sizeof values[0])];
    }
}

/* Set one field of the header or of a layer or tensor record. */
static void mutate_field(uint8_t *d, size_t size)
{
    size_t layers = n_layers_of(d, size), tensors = n_tensors_of(d, size);
    uint32_t pick = next() % 3;
    if (pick == 0 || (layers == 0 && tensors == 0)) {
        /* version .. input dims (u32), then payload offset and size (u64) */
        size_t field = next() % 10;
        if (field < 8)
            put32(d + 8 + 4 * field, (uint32_t)interesting(get32(d + 8 + 4 * field)));
        else
            put64(d + 40 + 8 * (field - 8), interesting(get64(d + 40 + 8 * (field - 8))));
    } else if (pick == 1 && layers) {
        /* type, units, kernel, stride, padding, pad_value, tensor[4] */
        uint8_t *p = d + HEADER_SIZE + LAYER_RECORD * (next() % layers) + 4 * (next() % 12);
        put32(p, (uint32_t)interesting(get32(p)));
    } else if (tensors) {
        /* dtype, rank, dims[4] (u32), then offset, size (u64) */
        uint8_t *rec = d + tensor_base(d, size) + TENSOR_RECORD * (next() % tensors);
        size_t field = next() % 8;
        if (field < 6)
            put32(rec + 4 * field, (uint32_t)interesting(get32(rec + 4 * field)));
        else
            put64(rec + 24 + 8 * (field - 6), interesting(get64(rec + 24 + 8 * (field - 6))));
    }
}

static void swap_layers(uint8_t *d, size_t size)
{
    size_t layers = n_layers_of(d, size);
    if (layers < 2)
        return;
    uint8_t tmp[LAYER_RECORD];
    uint8_t *a = d + HEADER_SIZE + LAYER_RECORD * (next() % layers);
    uint8_t *b = d + HEADER_SIZE + LAYER_RECORD * (next() % layers);
    memcpy(tmp, a, LAYER_RECORD);
    memcpy(a, b, LAYER_RECORD);
    memcpy(b, tmp, LAYER_RECORD);
}

/* Mutate the payload bytes in place (same size), as libFuzzer would. */
static void mutate_payload(uint8_t *d, size_t size)
{
    uint64_t offset = get64(d + 40);
    if (offset >= size)
        return;
    size_t n = size - (size_t)offset;
    LLVMFuzzerMutate(d + offset, n, n);
}

/* Recompute the header CRC (bytes [0, 60) and both tables) and the payload CRC. */
static void fix_crcs(uint8_t *d, size_t size)
{
    size_t tables_end = tensor_base(d, size) + n_tensors_of(d, size) * TENSOR_RECORD;
    uint64_t offset = get64(d + 40), payload = get64(d + 48);
    if (offset <= size && payload <= size - offset)
        put32(d + 56, bnn_crc32_update(0, d + offset, (size_t)payload));
    uint32_t crc = bnn_crc32_update(0, d, HEADER_CRC_SPAN);
    put32(d + 60, bnn_crc32_update(crc, d + HEADER_SIZE, tables_end - HEADER_SIZE));
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    rng = seed ? seed : 1;
    if (size < HEADER_SIZE || memcmp(data, "\x89" "BNN\r\n\x1a\n", 8) != 0)
        return LLVMFuzzerMutate(data, size, max_size);
    switch (next() % 8) {
    case 0: case 1: case 2: mutate_field(data, size); break;
    case 3: swap_layers(data, size); break;
    case 4: case 5: mutate_payload(data, size); break;
    case 6: /* resize: the reader must catch the mismatch with payload_size */
        if (next() % 2 && size > HEADER_SIZE)
            size -= 1 + next() % (size - HEADER_SIZE);
        else if (size < max_size)
            size += 1 + next() % (max_size - size < 64 ? max_size - size : 64);
        break;
    default: size = LLVMFuzzerMutate(data, size, max_size); break;
    }
    if (size >= HEADER_SIZE && next() % 16 != 0)
        fix_crcs(data, size);
    return size;
}
