/* cache_line.h - internal: memory that starts on a 64-byte cache line, so
 * the kernels' 64-byte vectors never split one (off a line, each load and
 * store touches two: 5-8% of a bgemm on Zen 4). */
#ifndef PYBNN_CACHE_LINE_H
#define PYBNN_CACHE_LINE_H

#include <stdint.h>
#include <stdlib.h>

/* p rounded up to the next line. */
static inline void *bnn_on_line(void *p)
{
    return (void *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* `bytes` (counted in 64 bits: a weight panel can exceed what a 32-bit board
 * addresses) on a line, or NULL when they do not fit or malloc fails; *alloc
 * gets the block to free. */
static inline void *bnn_malloc_on_line(uint64_t bytes, void **alloc)
{
    *alloc = bytes <= SIZE_MAX - 64 ? malloc((size_t)bytes + 64) : NULL;
    return *alloc ? bnn_on_line(*alloc) : NULL;
}

#endif
