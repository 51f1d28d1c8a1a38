/* Validation of the TENSORS section: descriptors of the constant tensors. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/byte_order.h"
#include "engine/model_internal.h"

void model_format_shape(const uint32_t *dims, uint32_t ndim, char *buffer, size_t capacity) {
    size_t used = 0;
    buffer[0] = '\0';
    for (uint32_t d = 0; d < ndim && used < capacity; d++) {
        const int written = snprintf(buffer + used, capacity - used, "%s%" PRIu32,
                                     d == 0 ? "[" : ",", dims[d]);
        if (written < 0) {
            return;
        }
        used += (size_t)written;
    }
    if (used < capacity) {
        snprintf(buffer + used, capacity - used, "]");
    }
}

uint64_t model_dtype_size(uint32_t dtype) {
    return dtype == MODEL_DTYPE_I32 ? 4 : 1;
}

/* Reads descriptor `index` into *tensor and checks it on its own; overlap
 * with other tensors is checked afterwards. */
static picotag_status read_tensor(picotag_model *model, uint32_t index, model_tensor *tensor,
                                  picotag_error *error) {
    const uint8_t *record =
        model_section_bytes(model, MODEL_SECTION_TENSORS) + (uint64_t)index * MODEL_TENSOR_RECORD_SIZE;
    const uint64_t data_size = model->sections[MODEL_SECTION_DATA].size;

    tensor->dtype = load_u32_le(record + 0);
    tensor->ndim = load_u32_le(record + 4);
    for (int d = 0; d < 4; d++) {
        tensor->dims[d] = load_u32_le(record + 8 + 4 * d);
    }
    tensor->offset = load_u64_le(record + 24);
    tensor->nbytes = load_u64_le(record + 32);

    if (tensor->dtype < MODEL_DTYPE_U8 || tensor->dtype > MODEL_DTYPE_I32) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "tensor %" PRIu32 ": dtype %" PRIu32 " is unknown (1 = U8, 2 = I8, 3 = I32)",
                          index, tensor->dtype);
    }
    if (tensor->ndim < 1 || tensor->ndim > 4) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "tensor %" PRIu32 ": ndim %" PRIu32 " is out of range (1 to 4)", index,
                          tensor->ndim);
    }

    /* Each dimension is at most 2^20, so the product of four is at most
     * 2^80: multiply in steps and stop before uint64 would wrap. */
    uint64_t elements = 1;
    int too_large = 0;
    for (uint32_t d = 0; d < 4; d++) {
        const uint32_t dim = tensor->dims[d];
        if (d < tensor->ndim && (dim < 1 || dim > MODEL_TENSOR_MAX_DIM)) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "tensor %" PRIu32 ": dims[%" PRIu32 "] is %" PRIu32
                              ", out of range (1 to %u)",
                              index, d, dim, MODEL_TENSOR_MAX_DIM);
        }
        if (d >= tensor->ndim && dim != 0) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "tensor %" PRIu32 ": dims[%" PRIu32 "] is %" PRIu32
                              ", expected 0 beyond ndim %" PRIu32,
                              index, d, dim, tensor->ndim);
        }
        if (d < tensor->ndim) {
            if (elements > UINT64_MAX / 4 / dim) {
                too_large = 1;
            } else {
                elements *= dim;
            }
        }
    }

    char shape[64];
    model_format_shape(tensor->dims, tensor->ndim, shape, sizeof(shape));
    if (too_large || elements * model_dtype_size(tensor->dtype) > data_size) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "tensor %" PRIu32 ": shape %s of %s needs more bytes than DATA holds (%" PRIu64
                          " bytes)",
                          index, shape, model_dtype_name(tensor->dtype), data_size);
    }
    const uint64_t expected_nbytes = elements * model_dtype_size(tensor->dtype);
    if (tensor->nbytes != expected_nbytes) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "tensor %" PRIu32 ": nbytes is %" PRIu64 ", expected %" PRIu64
                          " for shape %s of %s",
                          index, tensor->nbytes, expected_nbytes, shape, model_dtype_name(tensor->dtype));
    }

    if (tensor->offset % MODEL_TENSOR_ALIGNMENT != 0) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "tensor %" PRIu32 ": offset %" PRIu64 " in DATA is not a multiple of %u",
                          index, tensor->offset, MODEL_TENSOR_ALIGNMENT);
    }
    if (tensor->offset > data_size || tensor->nbytes > data_size - tensor->offset) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "tensor %" PRIu32 ": offset %" PRIu64 " + nbytes %" PRIu64
                          " lies outside DATA (%" PRIu64 " bytes)",
                          index, tensor->offset, tensor->nbytes, data_size);
    }

    for (uint32_t i = 40; i < MODEL_TENSOR_RECORD_SIZE; i++) {
        if (record[i] != 0) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "tensor %" PRIu32 ": reserved byte %" PRIu32 " is 0x%02x, expected 0",
                              index, i, record[i]);
        }
    }

    tensor->bytes = model_section_bytes(model, MODEL_SECTION_DATA) + tensor->offset;
    return PICOTAG_OK;
}

typedef struct tensor_extent {
    uint64_t begin;
    uint64_t end;
    uint32_t index;
} tensor_extent;

static int compare_extents(const void *a, const void *b) {
    const tensor_extent *x = a;
    const tensor_extent *y = b;
    if (x->begin != y->begin) {
        return x->begin < y->begin ? -1 : 1;
    }
    return x->index < y->index ? -1 : (x->index > y->index);
}

static picotag_status check_no_overlap(picotag_model *model, picotag_error *error) {
    const uint32_t count = model->tensor_count;
    if (count < 2) {
        return PICOTAG_OK;
    }
    tensor_extent *extents = malloc((size_t)count * sizeof(*extents));
    if (extents == NULL) {
        return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                          "out of memory while checking %" PRIu32 " tensors", count);
    }
    for (uint32_t i = 0; i < count; i++) {
        extents[i].begin = model->tensors[i].offset;
        extents[i].end = model->tensors[i].offset + model->tensors[i].nbytes;
        extents[i].index = i;
    }
    qsort(extents, count, sizeof(*extents), compare_extents);

    picotag_status status = PICOTAG_OK;
    for (uint32_t k = 1; k < count; k++) {
        if (extents[k].begin < extents[k - 1].end) {
            status = model_fail(model, error, PICOTAG_ERROR_FORMAT,
                                "tensor %" PRIu32 " at DATA bytes [%" PRIu64 ", %" PRIu64
                                ") overlaps tensor %" PRIu32 " at [%" PRIu64 ", %" PRIu64 ")",
                                extents[k].index, extents[k].begin, extents[k].end,
                                extents[k - 1].index, extents[k - 1].begin, extents[k - 1].end);
            break;
        }
    }
    free(extents);
    return status;
}

/* Decodes every I32 tensor to native int32 in one block. */
static picotag_status decode_i32_tensors(picotag_model *model, picotag_error *error) {
    uint64_t total = 0;
    for (uint32_t i = 0; i < model->tensor_count; i++) {
        if (model->tensors[i].dtype == MODEL_DTYPE_I32) {
            total += model->tensors[i].nbytes / 4;
        }
    }
    if (total > SIZE_MAX / sizeof(int32_t)) {
        return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                          "%" PRIu64 " int32 tensor elements do not fit in memory", total);
    }
    model->i32_storage = malloc(total > 0 ? (size_t)total * sizeof(int32_t) : 1);
    if (model->i32_storage == NULL) {
        return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                          "out of memory decoding %" PRIu64 " int32 tensor elements", total);
    }

    int32_t *next = model->i32_storage;
    for (uint32_t i = 0; i < model->tensor_count; i++) {
        model_tensor *tensor = &model->tensors[i];
        if (tensor->dtype != MODEL_DTYPE_I32) {
            continue;
        }
        const uint64_t count = tensor->nbytes / 4;
        for (uint64_t k = 0; k < count; k++) {
            next[k] = load_i32_le(tensor->bytes + 4 * k);
        }
        tensor->i32 = next;
        next += count;
    }
    return PICOTAG_OK;
}

picotag_status model_validate_tensors(picotag_model *model, picotag_error *error) {
    const uint64_t count = model->sections[MODEL_SECTION_TENSORS].size / MODEL_TENSOR_RECORD_SIZE;
    model->tensor_count = (uint32_t)count;
    model->tensors = calloc(count > 0 ? (size_t)count : 1, sizeof(*model->tensors));
    if (model->tensors == NULL) {
        return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                          "out of memory reading %" PRIu64 " tensor descriptors", count);
    }

    for (uint32_t i = 0; i < model->tensor_count; i++) {
        const picotag_status status = read_tensor(model, i, &model->tensors[i], error);
        if (status != PICOTAG_OK) {
            return status;
        }
    }

    const picotag_status status = check_no_overlap(model, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    return decode_i32_tensors(model, error);
}
