/*
 * The parsed, validated model. The loader checks every field here before
 * any other code reads it. Pointers point into the file bytes that the
 * model owns, which are a read-only mapping or an aligned copy.
 */
#ifndef PICOTAG_ENGINE_MODEL_INTERNAL_H
#define PICOTAG_ENGINE_MODEL_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/error.h"
#include "engine/model_format.h"
#include "picotag.h"

struct picotag_kernel_set;

/* Convolution weights packed for one kernel set and input size. Every runner
 * of the model with that set and size reads them, and the last of those
 * runners frees them. */
typedef struct model_packed_weights {
    struct model_packed_weights *next;
    const struct picotag_kernel_set *kernels;
    uint32_t height;
    uint32_t width;
    uint8_t *data;
    size_t bytes;
    int runners;             /* runners that read `data` */
} model_packed_weights;

/* The packed weights of a model's runners. Runners may be created and freed
 * on several threads at once, so the list is read and changed under `lock`. */
typedef struct model_packed_cache {
    pthread_mutex_t lock;
    model_packed_weights *entries;
} model_packed_cache;

typedef struct model_section {
    uint32_t table_index;    /* entry index in the section table */
    uint64_t offset;         /* bytes from the start of the file */
    uint64_t size;           /* bytes */
} model_section;

typedef struct model_tensor {
    uint32_t dtype;          /* model_dtype */
    uint32_t ndim;
    uint32_t dims[4];
    uint64_t offset;         /* bytes from the start of DATA */
    uint64_t nbytes;
    const uint8_t *bytes;    /* the tensor's bytes inside the file */
    /* For I32 tensors: the values decoded to native int32, so kernels can
     * read them without caring about byte order. NULL for U8 and I8. */
    const int32_t *i32;
} model_tensor;

typedef struct model_value {
    uint32_t dtype;          /* model_dtype */
    uint32_t channels;
    float step;              /* real value of one integer unit */
    /* Index of the operator that writes this value; -1 for value 0 (the
     * image) and for a value that no operator writes. */
    int32_t producer;
} model_value;

typedef struct model_op {
    uint32_t type;           /* model_op_type */
    uint32_t input;          /* value indices; residual is MODEL_NONE when absent */
    uint32_t output;
    uint32_t residual;
    uint32_t kernel_height;
    uint32_t kernel_width;
    uint32_t stride_height;
    uint32_t stride_width;
    uint32_t pad_height;
    uint32_t pad_width;
    /* Tensor indices, MODEL_NONE when unused. */
    uint32_t weight_tensor;
    uint32_t bias_tensor;
    uint32_t multiplier_tensor;
    uint32_t residual_multiplier_tensor;
    uint32_t shift_tensor;
    uint32_t zero_point_tensor;
    /* GLOBAL_AVGPOOL: M0 = s_x / s_p as m0 * 2^-s0. */
    uint32_t avgpool_multiplier;
    uint32_t avgpool_shift;

    /* Resolved tensor data, NULL when unused. */
    const int8_t *weight;
    const int32_t *bias;
    const int32_t *multiplier;
    const int32_t *residual_multiplier;
    const int32_t *shift;
    const uint8_t *input_zero_point;
} model_op;

typedef struct model_meta_entry {
    const char *key;
    const char *value;
} model_meta_entry;

struct picotag_model {
    char *name;              /* file name for messages */
    const uint8_t *bytes;
    uint64_t size;
    void *mapping;           /* from mmap, or NULL */
    uint8_t *copy;           /* from picotag_model_load_memory, or NULL */

    /* Indexed by model_section_type; entry 0 is unused. */
    model_section sections[MODEL_SECTION_TYPE_COUNT + 1];

    picotag_preprocess preprocess;

    model_tensor *tensors;
    uint32_t tensor_count;
    int32_t *i32_storage;    /* backing store of every model_tensor.i32 */

    model_value *values;
    uint32_t value_count;

    model_op *ops;
    uint32_t op_count;

    picotag_label *labels;
    int class_count;

    model_meta_entry *meta;
    int meta_count;

    picotag_model_summary summary;

    /* Allocated with the model, so that runners of a const model can share
     * packed weights through it. */
    model_packed_cache *packed;
};

/* Fills `error` with "<model name>: <message>" and returns `status`. */
picotag_status model_fail(const picotag_model *model, picotag_error *error, picotag_status status,
                          const char *format, ...) PICOTAG_PRINTF_FORMAT(4, 5);

/* Returns the name of a section type, e.g. "OPS", or "unknown". */
const char *model_section_name(uint32_t type);
/* Returns the name of an operator type, e.g. "CONV2D", or "unknown". */
const char *model_op_name(uint32_t type);
/* Returns the name of a dtype, e.g. "I8", or "unknown". */
const char *model_dtype_name(uint32_t dtype);

/* The validation steps, in the order docs/MODEL_FORMAT.md gives. Each one
 * relies on the steps before it having passed. */
picotag_status model_validate_header(picotag_model *model, picotag_error *error);
picotag_status model_validate_section_table(picotag_model *model, picotag_error *error);
picotag_status model_validate_preprocess(picotag_model *model, picotag_error *error);
picotag_status model_validate_strings(picotag_model *model, picotag_error *error);
picotag_status model_validate_tensors(picotag_model *model, picotag_error *error);
picotag_status model_validate_values(picotag_model *model, picotag_error *error);
picotag_status model_validate_ops(picotag_model *model, picotag_error *error);
picotag_status model_validate_labels(picotag_model *model, picotag_error *error);
picotag_status model_validate_meta(picotag_model *model, picotag_error *error);
picotag_status model_validate_checksum(picotag_model *model, picotag_error *error);

/* Writes a shape as "[64,3,3,32]". */
void model_format_shape(const uint32_t *dims, uint32_t ndim, char *buffer, size_t capacity);
/* Returns the bytes per element of a dtype. */
uint64_t model_dtype_size(uint32_t dtype);

/* Returns the CRC-32 (zlib polynomial) of a whole model file of at least
 * 64 bytes, computed as if the checksum field were zero. */
uint32_t model_compute_checksum(const uint8_t *bytes, uint64_t size);

/* Returns a pointer to the first byte of a section. */
static inline const uint8_t *model_section_bytes(const picotag_model *model, model_section_type type) {
    return model->bytes + model->sections[type].offset;
}

/* Looks up the NUL-terminated string at `offset` in STRINGS, checking that
 * the offset lies inside the blob and the string is valid UTF-8. `what`
 * names the field for the message, e.g. "label 3 name_en". */
picotag_status model_string_at(const picotag_model *model, uint32_t offset, const char *what,
                               const char **string, picotag_error *error);

#endif
