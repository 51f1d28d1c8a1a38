/* CRC-32 with zlib's polynomial, for model file checksums. */
#ifndef PICOTAG_ENGINE_CRC32_H
#define PICOTAG_ENGINE_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Returns the CRC-32 (reflected polynomial 0xEDB88320, initial value and
 * final xor 0xFFFFFFFF, as zlib's crc32 and Python's zlib.crc32 compute
 * it) of `bytes` continued from `crc`, the CRC-32 of the bytes before
 * them (0 for none). Calls zlib when the build found it
 * (PICOTAG_HAVE_ZLIB), otherwise picotag_crc32_update_portable. */
uint32_t picotag_crc32_update(uint32_t crc, const uint8_t *bytes, size_t length);

/* The same CRC-32 in portable C, for builds without zlib. */
uint32_t picotag_crc32_update_portable(uint32_t crc, const uint8_t *bytes, size_t length);

#endif
