/*
 * A test-only writer of picotag model files (format version 1), written
 * from docs/MODEL_FORMAT.md independently of the loader, so that tests can
 * build valid models and then damage them field by field.
 */
#ifndef PICOTAG_TESTS_TEST_MODEL_WRITER_H
#define PICOTAG_TESTS_TEST_MODEL_WRITER_H

#include <stddef.h>
#include <stdint.h>

#define TM_NONE 0xFFFFFFFFu
#define TM_MAX_VALUES 64
#define TM_MAX_OPS 64
#define TM_MAX_TENSORS 256
#define TM_MAX_LABELS 5000
#define TM_MAX_META 16

enum { TM_U8 = 1, TM_I8 = 2, TM_I32 = 3 };
enum { TM_CONV2D = 1, TM_MAXPOOL = 2, TM_GLOBAL_AVGPOOL = 3, TM_FULLY_CONNECTED = 4 };
enum {
    TM_PREPROCESS = 1,
    TM_VALUES = 2,
    TM_OPS = 3,
    TM_TENSORS = 4,
    TM_DATA = 5,
    TM_LABELS = 6,
    TM_STRINGS = 7,
    TM_META = 8
};

typedef struct tm_tensor {
    uint32_t dtype;
    uint32_t ndim;
    uint32_t dims[4];
    uint8_t *data;           /* little-endian bytes */
    size_t nbytes;
} tm_tensor;

typedef struct tm_value {
    uint32_t dtype;
    uint32_t channels;
    float step;
} tm_value;

typedef struct tm_label {
    const char *name_en;
    const char *name_ko;
    const char *group_en;
    const char *group_ko;
    int32_t threshold;
    float logit_scale;
} tm_label;

typedef struct tm_meta {
    const char *key;
    const char *value;
} tm_meta;

/* A model description: the fields of every section before layout. */
typedef struct test_model {
    uint32_t input_height;
    uint32_t input_width;
    uint32_t resize_mode;
    uint32_t resize_short;
    uint32_t interpolation;
    uint32_t channel_order;
    uint8_t zero_point[3];
    float mean[3];
    float std[3];

    tm_value values[TM_MAX_VALUES];
    uint32_t value_count;
    uint32_t ops[TM_MAX_OPS][32];
    uint32_t op_count;
    tm_tensor tensors[TM_MAX_TENSORS];
    uint32_t tensor_count;
    tm_label labels[TM_MAX_LABELS];
    uint32_t label_count;
    tm_meta meta[TM_MAX_META];
    uint32_t meta_count;

    uint64_t random_state;
} test_model;

/* A serialized model and where its parts lie, for patching. */
typedef struct test_model_file {
    uint8_t *bytes;
    size_t size;
    uint64_t table_offset;
    uint64_t section_offset[9];      /* by section type */
    uint64_t section_size[9];
    uint64_t tensor_offset[TM_MAX_TENSORS]; /* absolute file offset of each tensor's bytes */
    uint64_t label_strings[TM_MAX_LABELS][4]; /* STRINGS offsets of each label's four strings */
} test_model_file;

/* Creates an empty model with valid PREPROCESS fields for a 32x32 input
 * and value 0 (the image). */
test_model *tm_create(uint64_t seed);
void tm_destroy(test_model *model);

uint32_t tm_random(test_model *model);
/* Returns a uniform integer in [lo, hi]. */
int32_t tm_random_range(test_model *model, int32_t lo, int32_t hi);

uint32_t tm_add_value(test_model *model, uint32_t dtype, uint32_t channels);
uint32_t tm_add_tensor(test_model *model, uint32_t dtype, uint32_t ndim, const uint32_t *dims,
                       const void *data);

/* Quantizes a real multiplier M as m * 2^-shift the way docs/QUANTIZATION.md
 * prescribes for the training side. */
void tm_quantize_multiplier(double real_multiplier, int32_t *multiplier, int32_t *shift);

/* Adds a CONV2D with random weights, bias and multipliers that keep the
 * outputs spread over their range. `residual` is TM_NONE or a value. The
 * input zero point tensor is added when `input` is value 0. Returns the op
 * index. */
uint32_t tm_add_conv(test_model *model, uint32_t input, uint32_t output, uint32_t residual,
                     uint32_t kernel, uint32_t stride, uint32_t pad);
uint32_t tm_add_maxpool(test_model *model, uint32_t input, uint32_t output, uint32_t kernel,
                        uint32_t stride, uint32_t pad);
uint32_t tm_add_global_avgpool(test_model *model, uint32_t input, uint32_t output, uint32_t m0,
                               uint32_t s0);
uint32_t tm_add_fully_connected(test_model *model, uint32_t input, uint32_t output);
void tm_add_label(test_model *model, const char *name_en, const char *name_ko, const char *group_en,
                  const char *group_ko, int32_t threshold, float logit_scale);
void tm_add_meta(test_model *model, const char *key, const char *value);

/* CONV2D(zero point) -> GLOBAL_AVGPOOL -> FULLY_CONNECTED with 3 classes. */
test_model *tm_tiny_model(uint64_t seed);

/* A small ResNet: stem convolution with zero points, max pooling, a basic
 * block with a uint8 shortcut, a downsampling block with an int8 1x1
 * projection shortcut, global average pooling and 5 classes. */
test_model *tm_mini_resnet(uint64_t seed);

/* ResNet-18 (He et al., 2016, table 1) with random weights. A 7x7 stride-2
 * stem convolution with zero points and 3x3 stride-2 max pooling come
 * first. Then four stages of two basic blocks have width, 2, 4 and 8 x
 * width channels, with int8 1x1 projection shortcuts where a stage halves
 * the size. Global average pooling and the 80 COCO classes end it. `width`
 * 64 gives torchvision's channel counts. PREPROCESS states an input of
 * input_size x input_size. */
test_model *tm_resnet18(uint64_t seed, uint32_t width, uint32_t input_size);

/* The 80 COCO categories in the standard order, with Korean names and
 * supercategories in both languages; threshold and logit_scale are 0. */
#define TM_COCO_CLASSES 80
extern const tm_label tm_coco_labels[TM_COCO_CLASSES];

/* CONV2D(zero point, stride 2) -> CONV2D(stride 2) -> GLOBAL_AVGPOOL ->
 * FULLY_CONNECTED with the 80 COCO labels, for a 32 x 32 input. Every
 * threshold is 0 and every logit_scale 0.002; callers set the thresholds
 * they need in model->labels before serializing. */
test_model *tm_coco_model(uint64_t seed);

/* Lays out and serializes a model; returns 0 on success. */
int tm_serialize(const test_model *model, test_model_file *file);
void tm_file_free(test_model_file *file);
/* Recomputes the checksum after a patch. */
void tm_reseal(test_model_file *file);
int tm_write_file(const test_model_file *file, const char *path);

void tm_put_u32(test_model_file *file, uint64_t offset, uint32_t value);
void tm_put_u64(test_model_file *file, uint64_t offset, uint64_t value);
void tm_put_f32(test_model_file *file, uint64_t offset, float value);
uint32_t tm_get_u32(const test_model_file *file, uint64_t offset);

/* Absolute file offsets of records and fields. */
uint64_t tm_section_entry_offset(const test_model_file *file, uint32_t type);
uint64_t tm_value_offset(const test_model_file *file, uint32_t value);
uint64_t tm_op_word_offset(const test_model_file *file, uint32_t op, uint32_t word);
uint64_t tm_tensor_record_offset(const test_model_file *file, uint32_t tensor);
uint64_t tm_label_offset(const test_model_file *file, uint32_t label);
uint64_t tm_meta_offset(const test_model_file *file, uint32_t entry);

#endif
