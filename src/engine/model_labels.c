/* Validation of the LABELS and META sections. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/byte_order.h"
#include "engine/model_internal.h"

static picotag_status read_label_string(const picotag_model *model, uint32_t label_index,
                                        const char *field, uint32_t offset, int must_be_non_empty,
                                        const char **string, picotag_error *error) {
    char what[64];
    snprintf(what, sizeof(what), "label %" PRIu32 " %s", label_index, field);
    const picotag_status status = model_string_at(model, offset, what, string, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    if (must_be_non_empty && (*string)[0] == '\0') {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT, "%s is empty", what);
    }
    return PICOTAG_OK;
}

picotag_status model_validate_labels(picotag_model *model, picotag_error *error) {
    const model_section *section = &model->sections[MODEL_SECTION_LABELS];
    const uint64_t count = section->size / MODEL_LABEL_RECORD_SIZE;

    /* model_validate_ops guarantees that the last operator is the fully
     * connected layer whose output is the logits. */
    const model_op *classifier = &model->ops[model->op_count - 1];
    const uint32_t classes = model->values[classifier->output].channels;
    if (count != classes) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "section table entry %" PRIu32 " (LABELS) has %" PRIu64
                          " labels, but the model has %" PRIu32 " classes (value %" PRIu32 ")",
                          section->table_index, count, classes, classifier->output);
    }

    model->labels = calloc((size_t)count, sizeof(*model->labels));
    if (model->labels == NULL) {
        return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                          "out of memory reading %" PRIu64 " labels", count);
    }
    model->class_count = (int)count;

    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *record = model_section_bytes(model, MODEL_SECTION_LABELS) +
                                (uint64_t)i * MODEL_LABEL_RECORD_SIZE;
        picotag_label *label = &model->labels[i];

        picotag_status status =
            read_label_string(model, i, "name_en", load_u32_le(record + 0), 1, &label->name_en, error);
        if (status == PICOTAG_OK) {
            status = read_label_string(model, i, "name_ko", load_u32_le(record + 4), 1,
                                       &label->name_ko, error);
        }
        if (status == PICOTAG_OK) {
            status = read_label_string(model, i, "group_en", load_u32_le(record + 8), 0,
                                       &label->group_en, error);
        }
        if (status == PICOTAG_OK) {
            status = read_label_string(model, i, "group_ko", load_u32_le(record + 12), 0,
                                       &label->group_ko, error);
        }
        if (status != PICOTAG_OK) {
            return status;
        }

        label->threshold = load_i32_le(record + 16);
        label->logit_scale = load_f32_le(record + 20);
        if (!isfinite(label->logit_scale) || !(label->logit_scale > 0.0f)) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "label %" PRIu32 " (%s): logit_scale is %g, expected a finite value > 0",
                              i, label->name_en, (double)label->logit_scale);
        }
    }
    return PICOTAG_OK;
}

typedef struct meta_key_ref {
    const char *key;
    uint32_t index;
} meta_key_ref;

static int compare_meta_keys(const void *a, const void *b) {
    const meta_key_ref *x = a;
    const meta_key_ref *y = b;
    const int order = strcmp(x->key, y->key);
    if (order != 0) {
        return order;
    }
    return x->index < y->index ? -1 : (x->index > y->index);
}

/* Sorts the keys, so that a file with many entries costs n log n rather
 * than n^2 comparisons. */
static picotag_status check_unique_keys(picotag_model *model, picotag_error *error) {
    const size_t count = (size_t)model->meta_count;
    if (count < 2) {
        return PICOTAG_OK;
    }
    meta_key_ref *refs = malloc(count * sizeof(*refs));
    if (refs == NULL) {
        return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                          "out of memory checking %zu META keys", count);
    }
    for (size_t i = 0; i < count; i++) {
        refs[i].key = model->meta[i].key;
        refs[i].index = (uint32_t)i;
    }
    qsort(refs, count, sizeof(*refs), compare_meta_keys);

    picotag_status status = PICOTAG_OK;
    for (size_t i = 1; i < count; i++) {
        if (strcmp(refs[i].key, refs[i - 1].key) == 0) {
            status = model_fail(model, error, PICOTAG_ERROR_FORMAT,
                                "META entry %" PRIu32 ": key \"%s\" repeats entry %" PRIu32,
                                refs[i].index, refs[i].key, refs[i - 1].index);
            break;
        }
    }
    free(refs);
    return status;
}

picotag_status model_validate_meta(picotag_model *model, picotag_error *error) {
    const uint64_t count = model->sections[MODEL_SECTION_META].size / MODEL_META_RECORD_SIZE;
    model->meta = calloc(count > 0 ? (size_t)count : 1, sizeof(*model->meta));
    if (model->meta == NULL) {
        return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                          "out of memory reading %" PRIu64 " META entries", count);
    }
    model->meta_count = (int)count;

    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *record = model_section_bytes(model, MODEL_SECTION_META) +
                                (uint64_t)i * MODEL_META_RECORD_SIZE;
        model_meta_entry *entry = &model->meta[i];
        char what[48];

        snprintf(what, sizeof(what), "META entry %" PRIu32 " key", i);
        picotag_status status = model_string_at(model, load_u32_le(record + 0), what, &entry->key, error);
        if (status != PICOTAG_OK) {
            return status;
        }
        snprintf(what, sizeof(what), "META entry %" PRIu32 " (%s) value", i, entry->key);
        status = model_string_at(model, load_u32_le(record + 4), what, &entry->value, error);
        if (status != PICOTAG_OK) {
            return status;
        }

        if (entry->key[0] == '\0') {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT, "META entry %" PRIu32 " has an empty key", i);
        }
    }
    return check_unique_keys(model, error);
}
