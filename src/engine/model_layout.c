/*
 * Validation of the file layout: the header, the section table, and each
 * section's bounds, alignment, size and padding.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/byte_order.h"
#include "engine/model_internal.h"

static const uint8_t model_magic[8] = {'P', 'I', 'C', 'O', 'T', 'A', 'G', 0};

picotag_status model_validate_header(picotag_model *model, picotag_error *error) {
    if (model->size < MODEL_HEADER_SIZE) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "file is %" PRIu64 " bytes, shorter than the %u-byte header; "
                          "not a picotag model or truncated",
                          model->size, MODEL_HEADER_SIZE);
    }
    const uint8_t *header = model->bytes;

    if (memcmp(header + MODEL_HEADER_MAGIC_OFFSET, model_magic, sizeof(model_magic)) != 0) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "bad magic %02x %02x %02x %02x %02x %02x %02x %02x, expected "
                          "\"PICOTAG\" and a zero byte; not a picotag model file",
                          header[0], header[1], header[2], header[3], header[4], header[5],
                          header[6], header[7]);
    }

    const uint32_t version = load_u32_le(header + MODEL_HEADER_VERSION_OFFSET);
    if (version != MODEL_FORMAT_VERSION) {
        return model_fail(model, error, PICOTAG_ERROR_UNSUPPORTED,
                          "format version %" PRIu32 " is not supported; this engine reads version %u",
                          version, MODEL_FORMAT_VERSION);
    }

    const uint32_t header_size = load_u32_le(header + MODEL_HEADER_HEADER_SIZE_OFFSET);
    if (header_size != MODEL_HEADER_SIZE) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT, "header_size is %" PRIu32 ", expected %u",
                          header_size, MODEL_HEADER_SIZE);
    }

    const uint64_t file_size = load_u64_le(header + MODEL_HEADER_FILE_SIZE_OFFSET);
    if (file_size != model->size) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "header file_size is %" PRIu64 " but the file is %" PRIu64
                          " bytes; the file is truncated or has extra bytes",
                          file_size, model->size);
    }

    const uint32_t section_count = load_u32_le(header + MODEL_HEADER_SECTION_COUNT_OFFSET);
    if (section_count < 1 || section_count > MODEL_MAX_SECTIONS) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "section_count %" PRIu32 " is out of range (1 to %u)", section_count,
                          MODEL_MAX_SECTIONS);
    }

    const uint64_t table_offset = load_u64_le(header + MODEL_HEADER_SECTION_TABLE_OFFSET);
    if (table_offset % 8 != 0) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "section_table_offset %" PRIu64 " is not a multiple of 8", table_offset);
    }
    if (table_offset < MODEL_HEADER_SIZE) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "section_table_offset %" PRIu64 " overlaps the %u-byte header", table_offset,
                          MODEL_HEADER_SIZE);
    }
    const uint64_t table_size = (uint64_t)section_count * MODEL_SECTION_ENTRY_SIZE;
    if (table_offset > model->size || table_size > model->size - table_offset) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "section table (%" PRIu32 " entries of %u bytes at offset %" PRIu64
                          ") extends past the end of the file (%" PRIu64 " bytes)",
                          section_count, MODEL_SECTION_ENTRY_SIZE, table_offset, model->size);
    }

    for (uint32_t i = 0; i < MODEL_HEADER_RESERVED_SIZE; i++) {
        const uint8_t byte = header[MODEL_HEADER_RESERVED_OFFSET + i];
        if (byte != 0) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "header reserved byte at offset %u is 0x%02x, expected 0",
                              MODEL_HEADER_RESERVED_OFFSET + i, byte);
        }
    }
    return PICOTAG_OK;
}

static uint64_t section_record_size(uint32_t type) {
    switch (type) {
    case MODEL_SECTION_PREPROCESS:
        return MODEL_PREPROCESS_SIZE;
    case MODEL_SECTION_VALUES:
        return MODEL_VALUE_RECORD_SIZE;
    case MODEL_SECTION_OPS:
        return MODEL_OP_RECORD_SIZE;
    case MODEL_SECTION_TENSORS:
        return MODEL_TENSOR_RECORD_SIZE;
    case MODEL_SECTION_LABELS:
        return MODEL_LABEL_RECORD_SIZE;
    case MODEL_SECTION_META:
        return MODEL_META_RECORD_SIZE;
    default:
        return 1;
    }
}

/* Reads the table entries into model->sections, checking types, reserved
 * fields and that each type occurs exactly once. */
static picotag_status read_section_entries(picotag_model *model, picotag_error *error) {
    const uint32_t section_count = load_u32_le(model->bytes + MODEL_HEADER_SECTION_COUNT_OFFSET);
    const uint64_t table_offset = load_u64_le(model->bytes + MODEL_HEADER_SECTION_TABLE_OFFSET);
    int seen[MODEL_SECTION_TYPE_COUNT + 1] = {0};

    for (uint32_t i = 0; i < section_count; i++) {
        const uint8_t *entry = model->bytes + table_offset + (uint64_t)i * MODEL_SECTION_ENTRY_SIZE;
        const uint32_t type = load_u32_le(entry);
        const uint32_t reserved = load_u32_le(entry + 4);

        if (type < 1 || type > MODEL_SECTION_TYPE_COUNT) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "section table entry %" PRIu32 " has unknown type %" PRIu32
                              " (version 1 knows types 1 to %u)",
                              i, type, MODEL_SECTION_TYPE_COUNT);
        }
        if (reserved != 0) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "section table entry %" PRIu32 " (%s): reserved field is 0x%08" PRIx32 ", expected 0",
                              i, model_section_name(type), reserved);
        }
        if (seen[type]) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "section table entry %" PRIu32 " (%s): duplicate section type; section %" PRIu32
                              " has the same type",
                              i, model_section_name(type), model->sections[type].table_index);
        }
        seen[type] = 1;
        model->sections[type].table_index = i;
        model->sections[type].offset = load_u64_le(entry + 8);
        model->sections[type].size = load_u64_le(entry + 16);
    }

    for (uint32_t type = 1; type <= MODEL_SECTION_TYPE_COUNT; type++) {
        if (!seen[type]) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT, "section %s (type %" PRIu32 ") is missing",
                              model_section_name(type), type);
        }
    }
    return PICOTAG_OK;
}

static picotag_status check_section_bounds(picotag_model *model, uint32_t type, picotag_error *error) {
    const model_section *section = &model->sections[type];
    const char *name = model_section_name(type);

    if (section->offset % MODEL_SECTION_ALIGNMENT != 0) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "section table entry %" PRIu32 " (%s): offset %" PRIu64 " is not a multiple of %u",
                          section->table_index, name, section->offset, MODEL_SECTION_ALIGNMENT);
    }
    if (section->offset > model->size || section->size > model->size - section->offset) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "section table entry %" PRIu32 " (%s): offset %" PRIu64 " + size %" PRIu64
                          " extends past the end of the file (%" PRIu64 " bytes)",
                          section->table_index, name, section->offset, section->size, model->size);
    }

    const uint64_t record_size = section_record_size(type);
    if (type == MODEL_SECTION_PREPROCESS && section->size != MODEL_PREPROCESS_SIZE) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "section table entry %" PRIu32 " (%s): size %" PRIu64 ", expected %u (one record)",
                          section->table_index, name, section->size, MODEL_PREPROCESS_SIZE);
    }
    if (section->size % record_size != 0) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "section table entry %" PRIu32 " (%s): size %" PRIu64 " is not a multiple of the %" PRIu64
                          "-byte record",
                          section->table_index, name, section->size, record_size);
    }
    /* Record counts become int and are compared with NONE (0xFFFFFFFF), so
     * they must stay below 2^31. */
    if (record_size > 1 && section->size / record_size > INT32_MAX) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "section table entry %" PRIu32 " (%s): %" PRIu64 " records, more than %d",
                          section->table_index, name, section->size / record_size, INT32_MAX);
    }
    return PICOTAG_OK;
}

/* A byte range of the file that the header, the table or a section uses. */
typedef struct layout_region {
    uint64_t begin;
    uint64_t end;
    char label[32];
} layout_region;

static void sort_regions(layout_region *regions, size_t count) {
    for (size_t i = 1; i < count; i++) {
        const layout_region key = regions[i];
        size_t j = i;
        while (j > 0 && regions[j - 1].begin > key.begin) {
            regions[j] = regions[j - 1];
            j--;
        }
        regions[j] = key;
    }
}

/* Checks that header, table and sections do not overlap, and that every
 * byte between them (the padding) is zero. */
static picotag_status check_overlap_and_padding(picotag_model *model, picotag_error *error) {
    layout_region regions[MODEL_SECTION_TYPE_COUNT + 2];
    size_t count = 0;

    regions[count].begin = 0;
    regions[count].end = MODEL_HEADER_SIZE;
    snprintf(regions[count].label, sizeof(regions[count].label), "the header");
    count++;

    const uint32_t section_count = load_u32_le(model->bytes + MODEL_HEADER_SECTION_COUNT_OFFSET);
    const uint64_t table_offset = load_u64_le(model->bytes + MODEL_HEADER_SECTION_TABLE_OFFSET);
    regions[count].begin = table_offset;
    regions[count].end = table_offset + (uint64_t)section_count * MODEL_SECTION_ENTRY_SIZE;
    snprintf(regions[count].label, sizeof(regions[count].label), "the section table");
    count++;

    for (uint32_t type = 1; type <= MODEL_SECTION_TYPE_COUNT; type++) {
        const model_section *section = &model->sections[type];
        if (section->size == 0) {
            continue;
        }
        regions[count].begin = section->offset;
        regions[count].end = section->offset + section->size;
        snprintf(regions[count].label, sizeof(regions[count].label), "section table entry %" PRIu32 " (%s)",
                 section->table_index, model_section_name(type));
        count++;
    }

    sort_regions(regions, count);
    for (size_t i = 1; i < count; i++) {
        if (regions[i].begin < regions[i - 1].end) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "%s at bytes [%" PRIu64 ", %" PRIu64 ") overlaps %s at bytes [%" PRIu64
                              ", %" PRIu64 ")",
                              regions[i].label, regions[i].begin, regions[i].end, regions[i - 1].label,
                              regions[i - 1].begin, regions[i - 1].end);
        }
    }

    for (size_t i = 0; i < count; i++) {
        const uint64_t gap_end = i + 1 < count ? regions[i + 1].begin : model->size;
        for (uint64_t at = regions[i].end; at < gap_end; at++) {
            if (model->bytes[at] != 0) {
                return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                                  "padding byte at offset %" PRIu64 " after %s is 0x%02x, expected 0",
                                  at, regions[i].label, model->bytes[at]);
            }
        }
    }
    return PICOTAG_OK;
}

picotag_status model_validate_section_table(picotag_model *model, picotag_error *error) {
    picotag_status status = read_section_entries(model, error);
    if (status != PICOTAG_OK) {
        return status;
    }

    /* Bounds are checked in table order, so the message names the first
     * damaged entry a reader meets in the file. */
    const uint32_t section_count = load_u32_le(model->bytes + MODEL_HEADER_SECTION_COUNT_OFFSET);
    for (uint32_t i = 0; i < section_count; i++) {
        for (uint32_t type = 1; type <= MODEL_SECTION_TYPE_COUNT; type++) {
            if (model->sections[type].table_index != i) {
                continue;
            }
            status = check_section_bounds(model, type, error);
            if (status != PICOTAG_OK) {
                return status;
            }
        }
    }

    return check_overlap_and_padding(model, error);
}
