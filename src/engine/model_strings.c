/* The STRINGS blob: NUL-terminated UTF-8 strings that labels and META point to. */
#include <inttypes.h>
#include <string.h>

#include "engine/model_internal.h"
#include "engine/utf8.h"

picotag_status model_validate_strings(picotag_model *model, picotag_error *error) {
    const model_section *strings = &model->sections[MODEL_SECTION_STRINGS];
    if (strings->size == 0) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "section table entry %" PRIu32 " (STRINGS) is empty; it must end with a NUL byte",
                          strings->table_index);
    }
    const uint8_t last = model_section_bytes(model, MODEL_SECTION_STRINGS)[strings->size - 1];
    if (last != 0) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "section table entry %" PRIu32 " (STRINGS) ends with byte 0x%02x, expected a NUL byte",
                          strings->table_index, last);
    }
    return PICOTAG_OK;
}

picotag_status model_string_at(const picotag_model *model, uint32_t offset, const char *what,
                               const char **string, picotag_error *error) {
    const uint64_t size = model->sections[MODEL_SECTION_STRINGS].size;
    if (offset >= size) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "%s: string offset %" PRIu32 " lies outside STRINGS (%" PRIu64 " bytes)",
                          what, offset, size);
    }

    /* model_validate_strings checked that the blob ends with NUL, so the
     * search stops inside it. */
    const uint8_t *start = model_section_bytes(model, MODEL_SECTION_STRINGS) + offset;
    const size_t length = strlen((const char *)start);
    size_t bad = 0;
    if (!picotag_utf8_validate(start, length, &bad)) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "%s: string at STRINGS offset %" PRIu32
                          " is not valid UTF-8 (byte 0x%02x at offset %" PRIu64 ")",
                          what, offset, start[bad], (uint64_t)offset + bad);
    }
    *string = (const char *)start;
    return PICOTAG_OK;
}
