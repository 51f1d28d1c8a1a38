/* The last validation step: CRC-32 of the whole file with the checksum field zeroed. */
#include <inttypes.h>
#include <zlib.h>

#include "engine/byte_order.h"
#include "engine/model_internal.h"

/* zlib's crc32 takes a uInt length, so large ranges go in chunks. */
static uLong crc32_of_range(uLong crc, const uint8_t *bytes, uint64_t length) {
    const uint64_t chunk = UINT64_C(1) << 30;
    while (length > 0) {
        const uint64_t n = length < chunk ? length : chunk;
        crc = crc32(crc, bytes, (uInt)n);
        bytes += n;
        length -= n;
    }
    return crc;
}

uint32_t model_compute_checksum(const uint8_t *bytes, uint64_t size) {
    static const uint8_t zero_field[4] = {0, 0, 0, 0};
    const uint64_t after_field = MODEL_HEADER_CHECKSUM_OFFSET + sizeof(zero_field);

    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32_of_range(crc, bytes, MODEL_HEADER_CHECKSUM_OFFSET);
    crc = crc32_of_range(crc, zero_field, sizeof(zero_field));
    crc = crc32_of_range(crc, bytes + after_field, size - after_field);
    return (uint32_t)crc;
}

picotag_status model_validate_checksum(picotag_model *model, picotag_error *error) {
    const uint32_t stored = load_u32_le(model->bytes + MODEL_HEADER_CHECKSUM_OFFSET);
    const uint32_t computed = model_compute_checksum(model->bytes, model->size);
    if (stored != computed) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "checksum mismatch (stored 0x%08" PRIx32 ", computed 0x%08" PRIx32
                          "); the file is damaged",
                          stored, computed);
    }
    return PICOTAG_OK;
}
