/* crc32.h - internal: CRC-32 with the zlib / ISO-HDLC polynomial (the .bnn
 * checksums, docs/FORMAT.md). crc = bnn_crc32_update(0, data, n) for a whole
 * buffer; feeding pieces in order gives the CRC of their concatenation. */
#ifndef PYBNN_CRC32_H
#define PYBNN_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t bnn_crc32_update(uint32_t crc, const void *data, size_t size);

#endif
