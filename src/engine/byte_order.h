/*
 * Little-endian field readers for model file bytes. They assemble each
 * value byte by byte, so they work at any address and on any host byte
 * order, and file bytes are never cast to structs.
 */
#ifndef PICOTAG_ENGINE_BYTE_ORDER_H
#define PICOTAG_ENGINE_BYTE_ORDER_H

#include <stdint.h>
#include <string.h>

static inline uint16_t load_u16_le(const uint8_t *bytes) {
    return (uint16_t)(bytes[0] | bytes[1] << 8);
}

static inline uint32_t load_u32_le(const uint8_t *bytes) {
    return (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
           (uint32_t)bytes[3] << 24;
}

static inline uint64_t load_u64_le(const uint8_t *bytes) {
    return (uint64_t)load_u32_le(bytes) | (uint64_t)load_u32_le(bytes + 4) << 32;
}

static inline int32_t load_i32_le(const uint8_t *bytes) {
    const uint32_t bits = load_u32_le(bytes);
    int32_t value;
    memcpy(&value, &bits, sizeof(value));
    return value;
}

/* IEEE 754 binary32, the format of every f32 field. */
static inline float load_f32_le(const uint8_t *bytes) {
    const uint32_t bits = load_u32_le(bytes);
    float value;
    memcpy(&value, &bits, sizeof(value));
    return value;
}

/* Returns 1 on a little-endian host. */
static inline int host_is_little_endian(void) {
    const uint16_t probe = 1;
    uint8_t first_byte;
    memcpy(&first_byte, &probe, 1);
    return first_byte == 1;
}

#endif
