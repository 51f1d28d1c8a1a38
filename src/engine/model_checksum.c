/* The last validation step: CRC-32 of the whole file with the checksum field zeroed. */
#include <inttypes.h>

#include "engine/byte_order.h"
#include "engine/crc32.h"
#include "engine/model_internal.h"

/* The model is in memory, so its size fits size_t. */
static uint32_t crc32_of_range(uint32_t crc, const uint8_t *bytes, uint64_t length) {
    return picotag_crc32_update(crc, bytes, (size_t)length);
}

uint32_t model_compute_checksum(const uint8_t *bytes, uint64_t size) {
    static const uint8_t zero_field[4] = {0, 0, 0, 0};
    const uint64_t after_field = MODEL_HEADER_CHECKSUM_OFFSET + sizeof(zero_field);

    uint32_t crc = 0;
    crc = crc32_of_range(crc, bytes, MODEL_HEADER_CHECKSUM_OFFSET);
    crc = crc32_of_range(crc, zero_field, sizeof(zero_field));
    crc = crc32_of_range(crc, bytes + after_field, size - after_field);
    return crc;
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
