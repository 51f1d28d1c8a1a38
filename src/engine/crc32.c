/* CRC-32 of model files: zlib's where the build has zlib, otherwise a
 * portable version for builds without it (PICOTAG_ENGINE_ONLY, such as the
 * aarch64 cross build). */
#include "engine/crc32.h"

#if defined(PICOTAG_HAVE_ZLIB)
#include <zlib.h>
#endif

/* Entry i is the register after shifting the half byte i through 4 steps
 * of the reflected polynomial 0xEDB88320. */
static const uint32_t crc32_nibble_table[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

/* Two table steps per byte: slower than zlib, which does not matter for
 * one checksum per model load. */
uint32_t picotag_crc32_update_portable(uint32_t crc, const uint8_t *bytes, size_t length) {
    uint32_t value = ~crc;
    for (size_t i = 0; i < length; i++) {
        value ^= bytes[i];
        value = (value >> 4) ^ crc32_nibble_table[value & 15u];
        value = (value >> 4) ^ crc32_nibble_table[value & 15u];
    }
    return ~value;
}

uint32_t picotag_crc32_update(uint32_t crc, const uint8_t *bytes, size_t length) {
#if defined(PICOTAG_HAVE_ZLIB)
    /* zlib's crc32 takes a uInt length, so large ranges go in chunks. */
    const size_t chunk = (size_t)1 << 30;
    uLong value = crc;
    while (length > 0) {
        const size_t n = length < chunk ? length : chunk;
        value = crc32(value, bytes, (uInt)n);
        bytes += n;
        length -= n;
    }
    return (uint32_t)value;
#else
    return picotag_crc32_update_portable(crc, bytes, length);
#endif
}
