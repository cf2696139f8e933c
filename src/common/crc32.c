/* crc32.c - table-driven CRC-32 (reflected polynomial 0xEDB88320, initial
 * and final XOR 0xFFFFFFFF: the value zlib.crc32 and Python's binascii give).
 * Slicing by 4 bytes: the payload of a large model is checked at every load,
 * so a byte-at-a-time loop would dominate the load time. The tables are built
 * once, thread-safely. */
#include <pthread.h>

#include "common/crc32.h"

static uint32_t table[4][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int bit = 0; bit < 8; bit++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[0][i] = c;
    }
    /* table[t][i]: the CRC state after byte i followed by t zero bytes. */
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 4; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

uint32_t bnn_crc32_update(uint32_t crc, const void *data, size_t size)
{
    pthread_once(&table_once, build_tables);
    const unsigned char *p = data;
    uint32_t c = ~crc;
    while (size >= 4) {
        /* Bytes are combined explicitly so the result does not depend on
         * the host's byte order or on the alignment of p. */
        c ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        c = table[3][c & 0xff] ^ table[2][(c >> 8) & 0xff] ^ table[1][(c >> 16) & 0xff] ^
            table[0][c >> 24];
        p += 4;
        size -= 4;
    }
    while (size--)
        c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
    return ~c;
}
