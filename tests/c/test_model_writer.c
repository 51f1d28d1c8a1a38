#include "test_model_writer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/crc32.h"

test_model *tm_create(uint64_t seed) {
    test_model *model = calloc(1, sizeof(*model));
    if (model == NULL) {
        return NULL;
    }
    model->input_height = 32;
    model->input_width = 32;
    model->resize_mode = 1;
    model->resize_short = 36;
    model->interpolation = 1;
    model->channel_order = 1;
    /* ImageNet statistics: rhu(255 * mean) = 124, 116, 104. */
    model->mean[0] = 0.485f;
    model->mean[1] = 0.456f;
    model->mean[2] = 0.406f;
    model->std[0] = 0.229f;
    model->std[1] = 0.224f;
    model->std[2] = 0.225f;
    for (int c = 0; c < 3; c++) {
        model->zero_point[c] = (uint8_t)floor(255.0 * model->mean[c] + 0.5);
    }
    model->random_state = seed;
    tm_add_value(model, TM_U8, 3);
    return model;
}

void tm_destroy(test_model *model) {
    if (model == NULL) {
        return;
    }
    for (uint32_t i = 0; i < model->tensor_count; i++) {
        free(model->tensors[i].data);
    }
    free(model);
}

/* splitmix64 */
uint32_t tm_random(test_model *model) {
    uint64_t z = (model->random_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

int32_t tm_random_range(test_model *model, int32_t lo, int32_t hi) {
    const uint64_t span = (uint64_t)((int64_t)hi - lo) + 1;
    return (int32_t)((int64_t)lo + (int64_t)(tm_random(model) % span));
}

uint32_t tm_add_value(test_model *model, uint32_t dtype, uint32_t channels) {
    tm_value *value = &model->values[model->value_count];
    value->dtype = dtype;
    value->channels = channels;
    value->step = 0.05f + 0.01f * (float)model->value_count;
    return model->value_count++;
}

static size_t dtype_size(uint32_t dtype) {
    return dtype == TM_I32 ? 4 : 1;
}

uint32_t tm_add_tensor(test_model *model, uint32_t dtype, uint32_t ndim, const uint32_t *dims,
                       const void *data) {
    tm_tensor *tensor = &model->tensors[model->tensor_count];
    tensor->dtype = dtype;
    tensor->ndim = ndim;
    size_t elements = 1;
    for (uint32_t d = 0; d < ndim; d++) {
        tensor->dims[d] = dims[d];
        elements *= dims[d];
    }
    tensor->nbytes = elements * dtype_size(dtype);
    tensor->data = malloc(tensor->nbytes);
    if (dtype == TM_I32) {
        /* Store little-endian whatever the host order. */
        const int32_t *values = data;
        for (size_t i = 0; i < elements; i++) {
            const uint32_t bits = (uint32_t)values[i];
            for (int b = 0; b < 4; b++) {
                tensor->data[4 * i + (size_t)b] = (uint8_t)(bits >> (8 * b));
            }
        }
    } else {
        memcpy(tensor->data, data, tensor->nbytes);
    }
    return model->tensor_count++;
}

void tm_quantize_multiplier(double real_multiplier, int32_t *multiplier, int32_t *shift) {
    int exponent = 0;
    const double fraction = frexp(real_multiplier, &exponent);
    int64_t m = (int64_t)floor(fraction * 2147483648.0 + 0.5);
    int64_t s = 31 - exponent;
    if (m == (INT64_C(1) << 31)) {
        m /= 2;
        s -= 1;
    }
    if (s > 62) {
        s = 62;
        m = (int64_t)floor(ldexp(real_multiplier, 62) + 0.5);
    }
    *multiplier = (int32_t)m;
    *shift = (int32_t)s;
}

static void new_op(test_model *model, uint32_t type, uint32_t input, uint32_t output) {
    uint32_t *words = model->ops[model->op_count];
    memset(words, 0, 32 * sizeof(uint32_t));
    words[0] = type;
    words[1] = input;
    words[2] = output;
    for (int w = 3; w <= 15; w++) {
        if (w != 4 && w != 5 && w != 6 && w != 7 && w != 8 && w != 9) {
            words[w] = TM_NONE;
        }
    }
}

uint32_t tm_add_conv(test_model *model, uint32_t input, uint32_t output, uint32_t residual,
                     uint32_t kernel, uint32_t stride, uint32_t pad) {
    const uint32_t in_c = model->values[input].channels;
    const uint32_t out_c = model->values[output].channels;
    const uint32_t taps = kernel * kernel * in_c;

    int8_t *weight = malloc((size_t)out_c * taps);
    int32_t *bias = malloc(out_c * sizeof(int32_t));
    int32_t *multiplier = malloc(out_c * sizeof(int32_t));
    int32_t *residual_multiplier = malloc(out_c * sizeof(int32_t));
    int32_t *shift = malloc(out_c * sizeof(int32_t));

    for (uint32_t i = 0; i < out_c * taps; i++) {
        weight[i] = (int8_t)tm_random_range(model, -127, 127);
    }
    /* A uniform int8 weight has a mean |w| of about 64, and the inputs
     * average about 100 away from zero, so the accumulator's spread is
     * about sqrt(taps) * 64 * 100; scale that to about 60 output units. */
    const double accumulator_spread = sqrt((double)taps) * 64.0 * 100.0;
    for (uint32_t o = 0; o < out_c; o++) {
        bias[o] = tm_random_range(model, -(int32_t)accumulator_spread, (int32_t)accumulator_spread);
        const double real_multiplier = 60.0 / accumulator_spread * (0.5 + (tm_random(model) % 1000) / 1000.0);
        if (residual == TM_NONE) {
            tm_quantize_multiplier(real_multiplier, &multiplier[o], &shift[o]);
        } else {
            /* m and m_r share the shift of the larger multiplier. */
            const double real_residual = 0.4 + (tm_random(model) % 1000) / 2000.0;
            tm_quantize_multiplier(real_residual, &residual_multiplier[o], &shift[o]);
            multiplier[o] = (int32_t)floor(ldexp(real_multiplier, shift[o]) + 0.5);
        }
    }

    new_op(model, TM_CONV2D, input, output);
    uint32_t *words = model->ops[model->op_count];
    words[3] = residual;
    words[4] = words[5] = kernel;
    words[6] = words[7] = stride;
    words[8] = words[9] = pad;
    const uint32_t weight_dims[4] = {out_c, kernel, kernel, in_c};
    const uint32_t channel_dims[1] = {out_c};
    words[10] = tm_add_tensor(model, TM_I8, 4, weight_dims, weight);
    words[11] = tm_add_tensor(model, TM_I32, 1, channel_dims, bias);
    words[12] = tm_add_tensor(model, TM_I32, 1, channel_dims, multiplier);
    if (residual != TM_NONE) {
        words[13] = tm_add_tensor(model, TM_I32, 1, channel_dims, residual_multiplier);
    }
    words[14] = tm_add_tensor(model, TM_I32, 1, channel_dims, shift);
    if (input == 0) {
        const uint32_t zero_point_dims[1] = {in_c};
        words[15] = tm_add_tensor(model, TM_U8, 1, zero_point_dims, model->zero_point);
    }

    free(weight);
    free(bias);
    free(multiplier);
    free(residual_multiplier);
    free(shift);
    return model->op_count++;
}

uint32_t tm_add_maxpool(test_model *model, uint32_t input, uint32_t output, uint32_t kernel,
                        uint32_t stride, uint32_t pad) {
    new_op(model, TM_MAXPOOL, input, output);
    uint32_t *words = model->ops[model->op_count];
    words[4] = words[5] = kernel;
    words[6] = words[7] = stride;
    words[8] = words[9] = pad;
    return model->op_count++;
}

uint32_t tm_add_global_avgpool(test_model *model, uint32_t input, uint32_t output, uint32_t m0,
                               uint32_t s0) {
    new_op(model, TM_GLOBAL_AVGPOOL, input, output);
    uint32_t *words = model->ops[model->op_count];
    words[16] = m0;
    words[17] = s0;
    return model->op_count++;
}

uint32_t tm_add_fully_connected(test_model *model, uint32_t input, uint32_t output) {
    const uint32_t in_c = model->values[input].channels;
    const uint32_t out_c = model->values[output].channels;
    int8_t *weight = malloc((size_t)out_c * in_c);
    int32_t *bias = malloc(out_c * sizeof(int32_t));
    for (uint32_t i = 0; i < out_c * in_c; i++) {
        weight[i] = (int8_t)tm_random_range(model, -127, 127);
    }
    for (uint32_t o = 0; o < out_c; o++) {
        bias[o] = tm_random_range(model, -20000, 20000);
    }

    new_op(model, TM_FULLY_CONNECTED, input, output);
    uint32_t *words = model->ops[model->op_count];
    const uint32_t weight_dims[2] = {out_c, in_c};
    const uint32_t class_dims[1] = {out_c};
    words[10] = tm_add_tensor(model, TM_I8, 2, weight_dims, weight);
    words[11] = tm_add_tensor(model, TM_I32, 1, class_dims, bias);
    free(weight);
    free(bias);
    return model->op_count++;
}

void tm_add_label(test_model *model, const char *name_en, const char *name_ko, const char *group_en,
                  const char *group_ko, int32_t threshold, float logit_scale) {
    tm_label *label = &model->labels[model->label_count++];
    label->name_en = name_en;
    label->name_ko = name_ko;
    label->group_en = group_en;
    label->group_ko = group_ko;
    label->threshold = threshold;
    label->logit_scale = logit_scale;
}

void tm_add_meta(test_model *model, const char *key, const char *value) {
    model->meta[model->meta_count].key = key;
    model->meta[model->meta_count].value = value;
    model->meta_count++;
}

static void add_default_meta(test_model *model) {
    tm_add_meta(model, "arch", "resnet18-w32");
    tm_add_meta(model, "created", "2024-05-01");
    tm_add_meta(model, "quantization", "lsq-qat");
    tm_add_meta(model, "description", "random weights for engine tests, 한국어 포함");
}

test_model *tm_tiny_model(uint64_t seed) {
    test_model *model = tm_create(seed);
    const uint32_t features = tm_add_value(model, TM_U8, 8);
    const uint32_t pooled = tm_add_value(model, TM_U8, 8);
    const uint32_t logits = tm_add_value(model, TM_I32, 3);
    tm_add_conv(model, 0, features, TM_NONE, 3, 2, 1);
    tm_add_global_avgpool(model, features, pooled, 1717986918u, 31); /* M0 = 0.8 */
    tm_add_fully_connected(model, pooled, logits);
    tm_add_label(model, "person", "사람", "person", "사람", 1000, 0.01f);
    tm_add_label(model, "dog", "개", "animal", "동물", -500, 0.02f);
    tm_add_label(model, "car", "자동차", "vehicle", "탈것", 0, 0.015f);
    add_default_meta(model);
    return model;
}

test_model *tm_mini_resnet(uint64_t seed) {
    test_model *model = tm_create(seed);
    const uint32_t stem = tm_add_value(model, TM_U8, 8);
    const uint32_t pooled = tm_add_value(model, TM_U8, 8);
    const uint32_t block1_a = tm_add_value(model, TM_U8, 8);
    const uint32_t block1_out = tm_add_value(model, TM_U8, 8);
    const uint32_t projection = tm_add_value(model, TM_I8, 16);
    const uint32_t block2_a = tm_add_value(model, TM_U8, 16);
    const uint32_t block2_out = tm_add_value(model, TM_U8, 16);
    const uint32_t features = tm_add_value(model, TM_U8, 16);
    const uint32_t logits = tm_add_value(model, TM_I32, 5);

    tm_add_conv(model, 0, stem, TM_NONE, 3, 2, 1);
    tm_add_maxpool(model, stem, pooled, 3, 2, 1);
    tm_add_conv(model, pooled, block1_a, TM_NONE, 3, 1, 1);
    tm_add_conv(model, block1_a, block1_out, pooled, 3, 1, 1);
    tm_add_conv(model, block1_out, projection, TM_NONE, 1, 2, 0);
    tm_add_conv(model, block1_out, block2_a, TM_NONE, 3, 2, 1);
    tm_add_conv(model, block2_a, block2_out, projection, 3, 1, 1);
    tm_add_global_avgpool(model, block2_out, features, 1717986918u, 31);
    tm_add_fully_connected(model, features, logits);

    tm_add_label(model, "person", "사람", "person", "사람", 1000, 0.01f);
    tm_add_label(model, "bicycle", "자전거", "vehicle", "탈것", 200, 0.012f);
    tm_add_label(model, "car", "자동차", "vehicle", "탈것", -300, 0.011f);
    tm_add_label(model, "dog", "개", "animal", "동물", 0, 0.02f);
    tm_add_label(model, "cat", "고양이", "animal", "동물", 50, 0.013f);
    add_default_meta(model);
    return model;
}

test_model *tm_coco_model(uint64_t seed) {
    test_model *model = tm_create(seed);
    const uint32_t stem = tm_add_value(model, TM_U8, 16);
    const uint32_t block = tm_add_value(model, TM_U8, 16);
    const uint32_t features = tm_add_value(model, TM_U8, 16);
    const uint32_t logits = tm_add_value(model, TM_I32, TM_COCO_CLASSES);

    tm_add_conv(model, 0, stem, TM_NONE, 3, 2, 1);
    tm_add_conv(model, stem, block, TM_NONE, 3, 2, 1);
    tm_add_global_avgpool(model, block, features, 1717986918u, 31); /* M0 = 0.8 */
    tm_add_fully_connected(model, features, logits);

    for (int k = 0; k < TM_COCO_CLASSES; k++) {
        const tm_label *label = &tm_coco_labels[k];
        tm_add_label(model, label->name_en, label->name_ko, label->group_en, label->group_ko, 0,
                     0.002f);
    }
    add_default_meta(model);
    return model;
}

/* Adds a basic block (two 3x3 convolutions and the shortcut added before
 * the second one's ReLU) and returns its output value. */
static uint32_t add_basic_block(test_model *model, uint32_t input, uint32_t channels, uint32_t stride) {
    uint32_t shortcut = input;
    if (stride != 1 || model->values[input].channels != channels) {
        shortcut = tm_add_value(model, TM_I8, channels);
        tm_add_conv(model, input, shortcut, TM_NONE, 1, stride, 0);
    }
    const uint32_t middle = tm_add_value(model, TM_U8, channels);
    const uint32_t output = tm_add_value(model, TM_U8, channels);
    tm_add_conv(model, input, middle, TM_NONE, 3, stride, 1);
    tm_add_conv(model, middle, output, shortcut, 3, 1, 1);
    return output;
}

test_model *tm_resnet18(uint64_t seed, uint32_t width, uint32_t input_size) {
    test_model *model = tm_create(seed);
    model->input_height = input_size;
    model->input_width = input_size;
    model->resize_short = input_size + input_size / 8;

    const uint32_t stem = tm_add_value(model, TM_U8, width);
    const uint32_t pooled = tm_add_value(model, TM_U8, width);
    tm_add_conv(model, 0, stem, TM_NONE, 7, 2, 3);
    tm_add_maxpool(model, stem, pooled, 3, 2, 1);

    uint32_t value = pooled;
    for (uint32_t stage = 0; stage < 4; stage++) {
        const uint32_t channels = width << stage;
        value = add_basic_block(model, value, channels, stage == 0 ? 1 : 2);
        value = add_basic_block(model, value, channels, 1);
    }

    const uint32_t features = tm_add_value(model, TM_U8, 8 * width);
    const uint32_t logits = tm_add_value(model, TM_I32, TM_COCO_CLASSES);
    tm_add_global_avgpool(model, value, features, 1717986918u, 31); /* M0 = 0.8 */
    tm_add_fully_connected(model, features, logits);

    for (int k = 0; k < TM_COCO_CLASSES; k++) {
        const tm_label *label = &tm_coco_labels[k];
        tm_add_label(model, label->name_en, label->name_ko, label->group_en, label->group_ko, 0,
                     0.002f);
    }
    add_default_meta(model);
    return model;
}

static uint64_t align64(uint64_t offset) {
    return (offset + 63) & ~(uint64_t)63;
}

void tm_put_u32(test_model_file *file, uint64_t offset, uint32_t value) {
    for (int b = 0; b < 4; b++) {
        file->bytes[offset + (uint64_t)b] = (uint8_t)(value >> (8 * b));
    }
}

void tm_put_u64(test_model_file *file, uint64_t offset, uint64_t value) {
    tm_put_u32(file, offset, (uint32_t)value);
    tm_put_u32(file, offset + 4, (uint32_t)(value >> 32));
}

void tm_put_f32(test_model_file *file, uint64_t offset, float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof(bits));
    tm_put_u32(file, offset, bits);
}

uint32_t tm_get_u32(const test_model_file *file, uint64_t offset) {
    uint32_t value = 0;
    for (int b = 0; b < 4; b++) {
        value |= (uint32_t)file->bytes[offset + (uint64_t)b] << (8 * b);
    }
    return value;
}

/* The strings blob under construction. */
typedef struct string_blob {
    uint8_t *bytes;
    size_t size;
    size_t capacity;
} string_blob;

static uint32_t blob_add(string_blob *blob, const char *text) {
    const size_t length = strlen(text) + 1;
    if (blob->size + length > blob->capacity) {
        blob->capacity = (blob->size + length) * 2;
        blob->bytes = realloc(blob->bytes, blob->capacity);
    }
    memcpy(blob->bytes + blob->size, text, length);
    const uint32_t offset = (uint32_t)blob->size;
    blob->size += length;
    return offset;
}

int tm_serialize(const test_model *model, test_model_file *file) {
    memset(file, 0, sizeof(*file));

    string_blob blob = {0};
    uint32_t (*label_offsets)[4] = calloc(model->label_count + 1, sizeof(*label_offsets));
    uint32_t meta_offsets[TM_MAX_META][2];
    for (uint32_t k = 0; k < model->label_count; k++) {
        label_offsets[k][0] = blob_add(&blob, model->labels[k].name_en);
        label_offsets[k][1] = blob_add(&blob, model->labels[k].name_ko);
        label_offsets[k][2] = blob_add(&blob, model->labels[k].group_en);
        label_offsets[k][3] = blob_add(&blob, model->labels[k].group_ko);
        for (int s = 0; s < 4; s++) {
            file->label_strings[k][s] = label_offsets[k][s];
        }
    }
    for (uint32_t i = 0; i < model->meta_count; i++) {
        meta_offsets[i][0] = blob_add(&blob, model->meta[i].key);
        meta_offsets[i][1] = blob_add(&blob, model->meta[i].value);
    }
    if (blob.size == 0) {
        blob_add(&blob, "");
    }

    /* DATA: each tensor at a multiple of 64. */
    uint64_t tensor_data_offset[TM_MAX_TENSORS];
    uint64_t data_size = 0;
    for (uint32_t t = 0; t < model->tensor_count; t++) {
        tensor_data_offset[t] = align64(data_size);
        data_size = tensor_data_offset[t] + model->tensors[t].nbytes;
    }

    const uint64_t sizes[9] = {
        0,
        64,
        (uint64_t)model->value_count * 16,
        (uint64_t)model->op_count * 128,
        (uint64_t)model->tensor_count * 48,
        data_size,
        (uint64_t)model->label_count * 24,
        blob.size,
        (uint64_t)model->meta_count * 8,
    };
    file->table_offset = 64;
    uint64_t end = file->table_offset + 8 * 24;
    for (int type = 1; type <= 8; type++) {
        file->section_offset[type] = align64(end);
        file->section_size[type] = sizes[type];
        end = file->section_offset[type] + sizes[type];
    }
    file->size = (size_t)end;
    file->bytes = calloc(1, file->size);
    if (file->bytes == NULL || label_offsets == NULL) {
        free(blob.bytes);
        free(label_offsets);
        return -1;
    }

    memcpy(file->bytes, "PICOTAG", 8);
    tm_put_u32(file, 8, 1);
    tm_put_u32(file, 12, 64);
    tm_put_u64(file, 16, file->size);
    tm_put_u32(file, 28, 8);
    tm_put_u64(file, 32, file->table_offset);
    for (uint32_t type = 1; type <= 8; type++) {
        const uint64_t entry = file->table_offset + (type - 1) * 24;
        tm_put_u32(file, entry, type);
        tm_put_u64(file, entry + 8, file->section_offset[type]);
        tm_put_u64(file, entry + 16, file->section_size[type]);
    }

    const uint64_t pre = file->section_offset[TM_PREPROCESS];
    tm_put_u32(file, pre + 0, model->input_height);
    tm_put_u32(file, pre + 4, model->input_width);
    tm_put_u32(file, pre + 8, model->resize_mode);
    tm_put_u32(file, pre + 12, model->resize_short);
    tm_put_u32(file, pre + 16, model->interpolation);
    tm_put_u32(file, pre + 20, model->channel_order);
    for (int c = 0; c < 3; c++) {
        file->bytes[pre + 24 + (uint64_t)c] = model->zero_point[c];
        tm_put_f32(file, pre + 28 + 4 * (uint64_t)c, model->mean[c]);
        tm_put_f32(file, pre + 40 + 4 * (uint64_t)c, model->std[c]);
    }

    for (uint32_t v = 0; v < model->value_count; v++) {
        const uint64_t at = file->section_offset[TM_VALUES] + 16 * (uint64_t)v;
        tm_put_u32(file, at, model->values[v].dtype);
        tm_put_u32(file, at + 4, model->values[v].channels);
        tm_put_f32(file, at + 8, model->values[v].step);
    }
    for (uint32_t i = 0; i < model->op_count; i++) {
        for (uint32_t w = 0; w < 32; w++) {
            tm_put_u32(file, file->section_offset[TM_OPS] + 128 * (uint64_t)i + 4 * w, model->ops[i][w]);
        }
    }
    for (uint32_t t = 0; t < model->tensor_count; t++) {
        const tm_tensor *tensor = &model->tensors[t];
        const uint64_t at = file->section_offset[TM_TENSORS] + 48 * (uint64_t)t;
        tm_put_u32(file, at, tensor->dtype);
        tm_put_u32(file, at + 4, tensor->ndim);
        for (uint32_t d = 0; d < 4; d++) {
            tm_put_u32(file, at + 8 + 4 * d, d < tensor->ndim ? tensor->dims[d] : 0);
        }
        tm_put_u64(file, at + 24, tensor_data_offset[t]);
        tm_put_u64(file, at + 32, tensor->nbytes);
        file->tensor_offset[t] = file->section_offset[TM_DATA] + tensor_data_offset[t];
        memcpy(file->bytes + file->tensor_offset[t], tensor->data, tensor->nbytes);
    }
    for (uint32_t k = 0; k < model->label_count; k++) {
        const uint64_t at = file->section_offset[TM_LABELS] + 24 * (uint64_t)k;
        for (int s = 0; s < 4; s++) {
            tm_put_u32(file, at + 4 * (uint64_t)s, label_offsets[k][s]);
        }
        tm_put_u32(file, at + 16, (uint32_t)model->labels[k].threshold);
        tm_put_f32(file, at + 20, model->labels[k].logit_scale);
    }
    memcpy(file->bytes + file->section_offset[TM_STRINGS], blob.bytes, blob.size);
    for (uint32_t i = 0; i < model->meta_count; i++) {
        const uint64_t at = file->section_offset[TM_META] + 8 * (uint64_t)i;
        tm_put_u32(file, at, meta_offsets[i][0]);
        tm_put_u32(file, at + 4, meta_offsets[i][1]);
    }

    free(blob.bytes);
    free(label_offsets);
    tm_reseal(file);
    return 0;
}

void tm_file_free(test_model_file *file) {
    free(file->bytes);
    file->bytes = NULL;
}

void tm_reseal(test_model_file *file) {
    tm_put_u32(file, 24, 0);
    tm_put_u32(file, 24, picotag_crc32_update(0, file->bytes, file->size));
}

int tm_write_file(const test_model_file *file, const char *path) {
    FILE *stream = fopen(path, "wb");
    if (stream == NULL) {
        return -1;
    }
    const size_t written = fwrite(file->bytes, 1, file->size, stream);
    const int closed = fclose(stream);
    return written == file->size && closed == 0 ? 0 : -1;
}

uint64_t tm_section_entry_offset(const test_model_file *file, uint32_t type) {
    return file->table_offset + (uint64_t)(type - 1) * 24;
}

uint64_t tm_value_offset(const test_model_file *file, uint32_t value) {
    return file->section_offset[TM_VALUES] + 16 * (uint64_t)value;
}

uint64_t tm_op_word_offset(const test_model_file *file, uint32_t op, uint32_t word) {
    return file->section_offset[TM_OPS] + 128 * (uint64_t)op + 4 * (uint64_t)word;
}

uint64_t tm_tensor_record_offset(const test_model_file *file, uint32_t tensor) {
    return file->section_offset[TM_TENSORS] + 48 * (uint64_t)tensor;
}

uint64_t tm_label_offset(const test_model_file *file, uint32_t label) {
    return file->section_offset[TM_LABELS] + 24 * (uint64_t)label;
}

uint64_t tm_meta_offset(const test_model_file *file, uint32_t entry) {
    return file->section_offset[TM_META] + 8 * (uint64_t)entry;
}
