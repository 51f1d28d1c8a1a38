/*
 * Validation of the graph: the VALUES section (activation tensors) and the
 * OPS section (operators), including the shapes and contents of the
 * tensors that each operator reads.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/byte_order.h"
#include "engine/model_internal.h"

picotag_status model_validate_values(picotag_model *model, picotag_error *error) {
    const model_section *section = &model->sections[MODEL_SECTION_VALUES];
    const uint64_t count = section->size / MODEL_VALUE_RECORD_SIZE;
    if (count == 0) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "section table entry %" PRIu32 " (VALUES) is empty; value 0, the image, is required",
                          section->table_index);
    }
    model->value_count = (uint32_t)count;
    model->values = calloc((size_t)count, sizeof(*model->values));
    if (model->values == NULL) {
        return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                          "out of memory reading %" PRIu64 " values", count);
    }

    for (uint32_t i = 0; i < model->value_count; i++) {
        const uint8_t *record = model_section_bytes(model, MODEL_SECTION_VALUES) +
                                (uint64_t)i * MODEL_VALUE_RECORD_SIZE;
        model_value *value = &model->values[i];
        value->dtype = load_u32_le(record + 0);
        value->channels = load_u32_le(record + 4);
        value->step = load_f32_le(record + 8);
        value->producer = -1;
        const uint32_t reserved = load_u32_le(record + 12);

        if (value->dtype < MODEL_DTYPE_U8 || value->dtype > MODEL_DTYPE_I32) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "value %" PRIu32 ": dtype %" PRIu32 " is unknown (1 = U8, 2 = I8, 3 = I32)",
                              i, value->dtype);
        }
        if (value->channels < 1 || value->channels > MODEL_MAX_CHANNELS) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "value %" PRIu32 ": channels %" PRIu32 " is out of range (1 to %u)", i,
                              value->channels, MODEL_MAX_CHANNELS);
        }
        if (!isfinite(value->step) || !(value->step > 0.0f)) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "value %" PRIu32 ": step %g is not a finite value > 0", i,
                              (double)value->step);
        }
        if (reserved != 0) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "value %" PRIu32 ": reserved field is 0x%08" PRIx32 ", expected 0", i,
                              reserved);
        }
    }

    const model_value *image = &model->values[0];
    if (image->dtype != MODEL_DTYPE_U8 || image->channels != 3) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "value 0 (the image) is %s with %" PRIu32 " channels, expected U8 with 3",
                          model_dtype_name(image->dtype), image->channels);
    }
    return PICOTAG_OK;
}

/* State shared by the checks of one operator. */
typedef struct op_check {
    picotag_model *model;
    picotag_error *error;
    uint32_t index;
    model_op *op;
    uint8_t *tensor_referenced;
} op_check;

#define OP_FAIL(check, format, ...)                                                               \
    model_fail((check)->model, (check)->error, PICOTAG_ERROR_FORMAT, "op %" PRIu32 " (%s): " format, \
               (check)->index, model_op_name((check)->op->type), __VA_ARGS__)

static void read_op(const uint8_t *record, model_op *op, uint32_t words[MODEL_OP_WORD_COUNT]) {
    for (uint32_t w = 0; w < MODEL_OP_WORD_COUNT; w++) {
        words[w] = load_u32_le(record + 4 * w);
    }
    op->type = words[MODEL_OP_WORD_TYPE];
    op->input = words[MODEL_OP_WORD_INPUT];
    op->output = words[MODEL_OP_WORD_OUTPUT];
    op->residual = words[MODEL_OP_WORD_RESIDUAL];
    op->kernel_height = words[MODEL_OP_WORD_KERNEL_H];
    op->kernel_width = words[MODEL_OP_WORD_KERNEL_W];
    op->stride_height = words[MODEL_OP_WORD_STRIDE_H];
    op->stride_width = words[MODEL_OP_WORD_STRIDE_W];
    op->pad_height = words[MODEL_OP_WORD_PAD_H];
    op->pad_width = words[MODEL_OP_WORD_PAD_W];
    op->weight_tensor = words[MODEL_OP_WORD_WEIGHT];
    op->bias_tensor = words[MODEL_OP_WORD_BIAS];
    op->multiplier_tensor = words[MODEL_OP_WORD_MULTIPLIER];
    op->residual_multiplier_tensor = words[MODEL_OP_WORD_RESIDUAL_MULTIPLIER];
    op->shift_tensor = words[MODEL_OP_WORD_SHIFT];
    op->zero_point_tensor = words[MODEL_OP_WORD_INPUT_ZERO_POINT];
    op->avgpool_multiplier = words[MODEL_OP_WORD_AVGPOOL_MULTIPLIER];
    op->avgpool_shift = words[MODEL_OP_WORD_AVGPOOL_SHIFT];
}

static picotag_status expect_none(const op_check *check, const char *field, uint32_t word) {
    if (word != MODEL_NONE) {
        return OP_FAIL(check, "%s must be NONE for this operator, found %" PRIu32, field, word);
    }
    return PICOTAG_OK;
}

static picotag_status expect_zero(const op_check *check, const char *field, uint32_t word) {
    if (word != 0) {
        return OP_FAIL(check, "%s must be 0 for this operator, found %" PRIu32, field, word);
    }
    return PICOTAG_OK;
}

/* Checks that `value_index` names a value that value 0 or an earlier
 * operator produced, which also rules out cycles. */
static picotag_status check_read_value(const op_check *check, const char *role, uint32_t value_index) {
    const picotag_model *model = check->model;
    if (value_index >= model->value_count) {
        return OP_FAIL(check, "%s value %" PRIu32 " does not exist (the model has %" PRIu32 " values)",
                       role, value_index, model->value_count);
    }
    if (value_index != 0 && model->values[value_index].producer < 0) {
        return OP_FAIL(check, "reads %s value %" PRIu32 ", which no earlier operator writes", role,
                       value_index);
    }
    return PICOTAG_OK;
}

static picotag_status check_written_value(const op_check *check, uint32_t value_index) {
    const picotag_model *model = check->model;
    if (value_index >= model->value_count) {
        return OP_FAIL(check, "output value %" PRIu32 " does not exist (the model has %" PRIu32 " values)",
                       value_index, model->value_count);
    }
    if (value_index == 0) {
        return OP_FAIL(check, "writes value %d, the input image", 0);
    }
    if (model->values[value_index].producer >= 0) {
        return OP_FAIL(check, "writes value %" PRIu32 ", which op %" PRId32 " already writes",
                       value_index, model->values[value_index].producer);
    }
    return PICOTAG_OK;
}

static picotag_status check_value_dtype(const op_check *check, const char *role, uint32_t value_index,
                                        uint32_t allowed_a, uint32_t allowed_b) {
    const uint32_t dtype = check->model->values[value_index].dtype;
    if (dtype == allowed_a || dtype == allowed_b) {
        return PICOTAG_OK;
    }
    if (allowed_a == allowed_b) {
        return OP_FAIL(check, "%s value %" PRIu32 " is %s, expected %s", role, value_index,
                       model_dtype_name(dtype), model_dtype_name(allowed_a));
    }
    return OP_FAIL(check, "%s value %" PRIu32 " is %s, expected %s or %s", role, value_index,
                   model_dtype_name(dtype), model_dtype_name(allowed_a), model_dtype_name(allowed_b));
}

/* Checks that tensor reference `tensor_index` exists and has the expected
 * dtype and shape, marks it referenced, and returns it in *tensor. */
static picotag_status check_tensor(const op_check *check, const char *role, uint32_t tensor_index,
                                   uint32_t dtype, uint32_t ndim, const uint32_t *dims,
                                   const model_tensor **tensor) {
    const picotag_model *model = check->model;
    char expected_shape[64];
    model_format_shape(dims, ndim, expected_shape, sizeof(expected_shape));

    if (tensor_index == MODEL_NONE) {
        return OP_FAIL(check, "%s tensor is NONE, expected %s %s", role, model_dtype_name(dtype),
                       expected_shape);
    }
    if (tensor_index >= model->tensor_count) {
        return OP_FAIL(check, "%s tensor %" PRIu32 " does not exist (the model has %" PRIu32 " tensors)",
                       role, tensor_index, model->tensor_count);
    }

    const model_tensor *t = &model->tensors[tensor_index];
    if (t->dtype != dtype) {
        return OP_FAIL(check, "%s tensor %" PRIu32 " has dtype %s, expected %s", role, tensor_index,
                       model_dtype_name(t->dtype), model_dtype_name(dtype));
    }
    int same_shape = t->ndim == ndim;
    for (uint32_t d = 0; same_shape && d < ndim; d++) {
        same_shape = t->dims[d] == dims[d];
    }
    if (!same_shape) {
        char actual_shape[64];
        model_format_shape(t->dims, t->ndim, actual_shape, sizeof(actual_shape));
        return OP_FAIL(check, "%s tensor %" PRIu32 " has shape %s, expected %s", role, tensor_index,
                       actual_shape, expected_shape);
    }

    check->tensor_referenced[tensor_index] = 1;
    *tensor = t;
    return PICOTAG_OK;
}

/* Checks a per-output-channel requantization multiplier: 0 <= m < 2^31. */
static picotag_status check_multipliers(const op_check *check, const char *role, uint32_t tensor_index,
                                        uint32_t channels, const int32_t **multipliers) {
    const uint32_t dims[1] = {channels};
    const model_tensor *tensor = NULL;
    const picotag_status status = check_tensor(check, role, tensor_index, MODEL_DTYPE_I32, 1, dims, &tensor);
    if (status != PICOTAG_OK) {
        return status;
    }
    for (uint32_t c = 0; c < channels; c++) {
        if (tensor->i32[c] < 0) {
            return OP_FAIL(check, "%s tensor %" PRIu32 ": channel %" PRIu32 " has %" PRId32
                           ", expected 0 <= m < 2^31",
                           role, tensor_index, c, tensor->i32[c]);
        }
    }
    *multipliers = tensor->i32;
    return PICOTAG_OK;
}

static picotag_status check_shifts(const op_check *check, uint32_t channels) {
    const uint32_t dims[1] = {channels};
    const model_tensor *tensor = NULL;
    const picotag_status status =
        check_tensor(check, "shift", check->op->shift_tensor, MODEL_DTYPE_I32, 1, dims, &tensor);
    if (status != PICOTAG_OK) {
        return status;
    }
    for (uint32_t c = 0; c < channels; c++) {
        const int32_t shift = tensor->i32[c];
        if (shift < 1 || shift > (int32_t)MODEL_MAX_REQUANTIZE_SHIFT) {
            return OP_FAIL(check, "shift tensor %" PRIu32 ": channel %" PRIu32 " has %" PRId32
                           ", expected 1 to %u",
                           check->op->shift_tensor, c, shift, MODEL_MAX_REQUANTIZE_SHIFT);
        }
    }
    check->op->shift = tensor->i32;
    return PICOTAG_OK;
}

/* Checks |bias| + 255 * sum |w| < 2^31 for every output channel, so that
 * the int32 accumulator cannot overflow for any uint8 input, including
 * x - z of the first convolution, which lies in [-255, 255]. */
static picotag_status check_accumulator_bound(const op_check *check, uint32_t output_channels,
                                              uint64_t weights_per_channel) {
    const model_op *op = check->op;
    for (uint32_t o = 0; o < output_channels; o++) {
        const int8_t *w = op->weight + (uint64_t)o * weights_per_channel;
        uint64_t absolute_sum = 0;
        for (uint64_t k = 0; k < weights_per_channel; k++) {
            absolute_sum += (uint64_t)(w[k] < 0 ? -(int32_t)w[k] : w[k]);
        }
        const int64_t bias = op->bias[o];
        const uint64_t bound = (uint64_t)(bias < 0 ? -bias : bias) + 255u * absolute_sum;
        if (bound >= (UINT64_C(1) << 31)) {
            return OP_FAIL(check, "output channel %" PRIu32 " can overflow the int32 accumulator: "
                           "|bias| + 255 * sum |weight| = %" PRIu64 ", must be below 2^31",
                           o, bound);
        }
    }
    return PICOTAG_OK;
}

static picotag_status check_window(const op_check *check) {
    const model_op *op = check->op;
    const uint32_t kernel[2] = {op->kernel_height, op->kernel_width};
    const uint32_t stride[2] = {op->stride_height, op->stride_width};
    const uint32_t pad[2] = {op->pad_height, op->pad_width};
    const char *const axis[2] = {"h", "w"};

    for (int a = 0; a < 2; a++) {
        if (kernel[a] < 1 || kernel[a] > MODEL_MAX_KERNEL) {
            return OP_FAIL(check, "kernel_%s %" PRIu32 " is out of range (1 to %u)", axis[a],
                           kernel[a], MODEL_MAX_KERNEL);
        }
        if (stride[a] < 1 || stride[a] > MODEL_MAX_STRIDE) {
            return OP_FAIL(check, "stride_%s %" PRIu32 " is out of range (1 to %u)", axis[a],
                           stride[a], MODEL_MAX_STRIDE);
        }
        if (pad[a] > kernel[a] - 1) {
            return OP_FAIL(check, "pad_%s %" PRIu32 " is out of range (0 to kernel_%s - 1 = %" PRIu32 ")",
                           axis[a], pad[a], axis[a], kernel[a] - 1);
        }
    }
    return PICOTAG_OK;
}

/* For operators without a window: kernel, stride and pad words are 0. */
static picotag_status check_no_window(const op_check *check) {
    const model_op *op = check->op;
    picotag_status status = expect_zero(check, "kernel_h", op->kernel_height);
    if (status == PICOTAG_OK) status = expect_zero(check, "kernel_w", op->kernel_width);
    if (status == PICOTAG_OK) status = expect_zero(check, "stride_h", op->stride_height);
    if (status == PICOTAG_OK) status = expect_zero(check, "stride_w", op->stride_width);
    if (status == PICOTAG_OK) status = expect_zero(check, "pad_h", op->pad_height);
    if (status == PICOTAG_OK) status = expect_zero(check, "pad_w", op->pad_width);
    return status;
}

static picotag_status check_no_avgpool_fields(const op_check *check) {
    picotag_status status = expect_zero(check, "m0", check->op->avgpool_multiplier);
    if (status == PICOTAG_OK) {
        status = expect_zero(check, "s0", check->op->avgpool_shift);
    }
    return status;
}

static picotag_status check_same_channels(const op_check *check) {
    const model_op *op = check->op;
    const uint32_t in = check->model->values[op->input].channels;
    const uint32_t out = check->model->values[op->output].channels;
    if (in != out) {
        return OP_FAIL(check, "output value %" PRIu32 " has %" PRIu32
                       " channels, expected %" PRIu32 " (the input's)",
                       op->output, out, in);
    }
    return PICOTAG_OK;
}

static picotag_status check_input_zero_point(const op_check *check, uint32_t input_channels) {
    model_op *op = check->op;
    if (op->input != 0) {
        return expect_none(check, "input zero point tensor", op->zero_point_tensor);
    }

    const uint32_t dims[1] = {input_channels};
    const model_tensor *tensor = NULL;
    const picotag_status status = check_tensor(check, "input zero point", op->zero_point_tensor,
                                               MODEL_DTYPE_U8, 1, dims, &tensor);
    if (status != PICOTAG_OK) {
        return status;
    }
    /* The PREPROCESS zero points are these zero points; a file where the
     * two disagree would be normalized differently by different readers. */
    const uint8_t *preprocess = check->model->preprocess.zero_point;
    for (uint32_t c = 0; c < input_channels; c++) {
        if (tensor->bytes[c] != preprocess[c]) {
            return OP_FAIL(check, "input zero point tensor %" PRIu32 ": channel %" PRIu32
                           " is %u, but PREPROCESS gives %u",
                           op->zero_point_tensor, c, tensor->bytes[c], preprocess[c]);
        }
    }
    op->input_zero_point = tensor->bytes;
    return PICOTAG_OK;
}

static picotag_status check_residual(const op_check *check, uint32_t output_channels) {
    model_op *op = check->op;
    if (op->residual == MODEL_NONE) {
        return expect_none(check, "residual multiplier tensor", op->residual_multiplier_tensor);
    }

    picotag_status status = check_read_value(check, "residual", op->residual);
    if (status == PICOTAG_OK) {
        status = check_value_dtype(check, "residual", op->residual, MODEL_DTYPE_U8, MODEL_DTYPE_I8);
    }
    if (status != PICOTAG_OK) {
        return status;
    }
    const uint32_t residual_channels = check->model->values[op->residual].channels;
    if (residual_channels != output_channels) {
        return OP_FAIL(check, "residual value %" PRIu32 " has %" PRIu32
                       " channels, expected %" PRIu32 " (the output's)",
                       op->residual, residual_channels, output_channels);
    }
    return check_multipliers(check, "residual multiplier", op->residual_multiplier_tensor,
                             output_channels, &op->residual_multiplier);
}

static picotag_status check_conv2d(const op_check *check) {
    model_op *op = check->op;
    picotag_status status = check_value_dtype(check, "input", op->input, MODEL_DTYPE_U8, MODEL_DTYPE_U8);
    if (status == PICOTAG_OK) {
        status = check_value_dtype(check, "output", op->output, MODEL_DTYPE_U8, MODEL_DTYPE_I8);
    }
    if (status == PICOTAG_OK) {
        status = check_window(check);
    }
    if (status == PICOTAG_OK) {
        status = check_no_avgpool_fields(check);
    }
    if (status != PICOTAG_OK) {
        return status;
    }

    const uint32_t in_c = check->model->values[op->input].channels;
    const uint32_t out_c = check->model->values[op->output].channels;
    const uint32_t weight_dims[4] = {out_c, op->kernel_height, op->kernel_width, in_c};
    const uint32_t channel_dims[1] = {out_c};
    const model_tensor *weight = NULL;
    const model_tensor *bias = NULL;

    status = check_tensor(check, "weight", op->weight_tensor, MODEL_DTYPE_I8, 4, weight_dims, &weight);
    if (status == PICOTAG_OK) {
        status = check_tensor(check, "bias", op->bias_tensor, MODEL_DTYPE_I32, 1, channel_dims, &bias);
    }
    if (status == PICOTAG_OK) {
        status = check_multipliers(check, "multiplier", op->multiplier_tensor, out_c, &op->multiplier);
    }
    if (status == PICOTAG_OK) {
        status = check_shifts(check, out_c);
    }
    if (status == PICOTAG_OK) {
        status = check_residual(check, out_c);
    }
    if (status == PICOTAG_OK) {
        status = check_input_zero_point(check, in_c);
    }
    if (status != PICOTAG_OK) {
        return status;
    }

    op->weight = (const int8_t *)weight->bytes;
    op->bias = bias->i32;
    return check_accumulator_bound(check, out_c, (uint64_t)op->kernel_height * op->kernel_width * in_c);
}

/* Checks that every tensor and residual word is NONE, for operators
 * without tensors. `except_weight_and_bias` leaves words 10 and 11. */
static picotag_status check_no_tensors(const op_check *check, int except_weight_and_bias) {
    const model_op *op = check->op;
    picotag_status status = expect_none(check, "residual value", op->residual);
    if (status == PICOTAG_OK && !except_weight_and_bias) {
        status = expect_none(check, "weight tensor", op->weight_tensor);
    }
    if (status == PICOTAG_OK && !except_weight_and_bias) {
        status = expect_none(check, "bias tensor", op->bias_tensor);
    }
    if (status == PICOTAG_OK) status = expect_none(check, "multiplier tensor", op->multiplier_tensor);
    if (status == PICOTAG_OK) {
        status = expect_none(check, "residual multiplier tensor", op->residual_multiplier_tensor);
    }
    if (status == PICOTAG_OK) status = expect_none(check, "shift tensor", op->shift_tensor);
    if (status == PICOTAG_OK) {
        status = expect_none(check, "input zero point tensor", op->zero_point_tensor);
    }
    return status;
}

static picotag_status check_maxpool(const op_check *check) {
    picotag_status status = check_value_dtype(check, "input", check->op->input, MODEL_DTYPE_U8, MODEL_DTYPE_U8);
    if (status == PICOTAG_OK) {
        status = check_value_dtype(check, "output", check->op->output, MODEL_DTYPE_U8, MODEL_DTYPE_U8);
    }
    if (status == PICOTAG_OK) status = check_same_channels(check);
    if (status == PICOTAG_OK) status = check_window(check);
    if (status == PICOTAG_OK) status = check_no_tensors(check, 0);
    if (status == PICOTAG_OK) status = check_no_avgpool_fields(check);
    return status;
}

static picotag_status check_global_avgpool(const op_check *check) {
    const model_op *op = check->op;
    picotag_status status = check_value_dtype(check, "input", op->input, MODEL_DTYPE_U8, MODEL_DTYPE_U8);
    if (status == PICOTAG_OK) {
        status = check_value_dtype(check, "output", op->output, MODEL_DTYPE_U8, MODEL_DTYPE_U8);
    }
    if (status == PICOTAG_OK) status = check_same_channels(check);
    if (status == PICOTAG_OK) status = check_no_window(check);
    if (status == PICOTAG_OK) status = check_no_tensors(check, 0);
    if (status != PICOTAG_OK) {
        return status;
    }
    if (op->avgpool_multiplier >= (UINT32_C(1) << 31)) {
        return OP_FAIL(check, "m0 %" PRIu32 " is out of range (0 <= m0 < 2^31)", op->avgpool_multiplier);
    }
    if (op->avgpool_shift < 1 || op->avgpool_shift > MODEL_MAX_AVGPOOL_SHIFT) {
        return OP_FAIL(check, "s0 %" PRIu32 " is out of range (1 to %u)", op->avgpool_shift,
                       MODEL_MAX_AVGPOOL_SHIFT);
    }
    return PICOTAG_OK;
}

static picotag_status check_fully_connected(const op_check *check) {
    model_op *op = check->op;
    const picotag_model *model = check->model;

    if (check->index + 1 != model->op_count) {
        return OP_FAIL(check, "is not the last operator (the model has %" PRIu32
                       " operators); FULLY_CONNECTED must come last",
                       model->op_count);
    }
    picotag_status status = check_value_dtype(check, "input", op->input, MODEL_DTYPE_U8, MODEL_DTYPE_U8);
    if (status == PICOTAG_OK) {
        status = check_value_dtype(check, "output", op->output, MODEL_DTYPE_I32, MODEL_DTYPE_I32);
    }
    if (status != PICOTAG_OK) {
        return status;
    }

    const int32_t producer = model->values[op->input].producer;
    if (producer < 0 || model->ops[producer].type != MODEL_OP_GLOBAL_AVGPOOL) {
        return OP_FAIL(check, "input value %" PRIu32 " is %s, expected the output of a GLOBAL_AVGPOOL",
                       op->input, producer < 0 ? "the image" : model_op_name(model->ops[producer].type));
    }

    const uint32_t in_c = model->values[op->input].channels;
    const uint32_t out_c = model->values[op->output].channels;
    if (out_c > PICOTAG_MAX_CLASSES) {
        return OP_FAIL(check, "output value %" PRIu32 " has %" PRIu32
                       " classes, more than PICOTAG_MAX_CLASSES (%d)",
                       op->output, out_c, PICOTAG_MAX_CLASSES);
    }

    status = check_no_window(check);
    if (status == PICOTAG_OK) status = check_no_tensors(check, 1);
    if (status == PICOTAG_OK) status = check_no_avgpool_fields(check);
    if (status != PICOTAG_OK) {
        return status;
    }

    const uint32_t weight_dims[2] = {out_c, in_c};
    const uint32_t class_dims[1] = {out_c};
    const model_tensor *weight = NULL;
    const model_tensor *bias = NULL;
    status = check_tensor(check, "weight", op->weight_tensor, MODEL_DTYPE_I8, 2, weight_dims, &weight);
    if (status == PICOTAG_OK) {
        status = check_tensor(check, "bias", op->bias_tensor, MODEL_DTYPE_I32, 1, class_dims, &bias);
    }
    if (status != PICOTAG_OK) {
        return status;
    }
    op->weight = (const int8_t *)weight->bytes;
    op->bias = bias->i32;
    return check_accumulator_bound(check, out_c, in_c);
}

static picotag_status check_op(op_check *check, const uint32_t words[MODEL_OP_WORD_COUNT]) {
    const model_op *op = check->op;
    if (op->type < MODEL_OP_CONV2D || op->type > MODEL_OP_FULLY_CONNECTED) {
        return model_fail(check->model, check->error, PICOTAG_ERROR_FORMAT,
                          "op %" PRIu32 ": op_type %" PRIu32
                          " is unknown (1 = CONV2D, 2 = MAXPOOL, 3 = GLOBAL_AVGPOOL, "
                          "4 = FULLY_CONNECTED)",
                          check->index, op->type);
    }
    for (uint32_t w = MODEL_OP_WORD_FIRST_RESERVED; w < MODEL_OP_WORD_COUNT; w++) {
        if (words[w] != 0) {
            return OP_FAIL(check, "reserved word %" PRIu32 " is 0x%08" PRIx32 ", expected 0", w, words[w]);
        }
    }

    picotag_status status = check_read_value(check, "input", op->input);
    if (status == PICOTAG_OK) {
        status = check_written_value(check, op->output);
    }
    if (status != PICOTAG_OK) {
        return status;
    }

    switch (op->type) {
    case MODEL_OP_CONV2D:
        return check_conv2d(check);
    case MODEL_OP_MAXPOOL:
        return check_maxpool(check);
    case MODEL_OP_GLOBAL_AVGPOOL:
        return check_global_avgpool(check);
    default:
        return check_fully_connected(check);
    }
}

/* Checks what only the whole graph shows: the model ends with the fully
 * connected layer, only its output is I32, and every tensor is used. */
static picotag_status check_graph(picotag_model *model, const uint8_t *tensor_referenced,
                                  picotag_error *error) {
    const model_op *last = &model->ops[model->op_count - 1];
    if (last->type != MODEL_OP_FULLY_CONNECTED) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "the last operator, op %" PRIu32 ", is %s; the model must end with "
                          "FULLY_CONNECTED (missing classifier)",
                          model->op_count - 1, model_op_name(last->type));
    }
    for (uint32_t v = 0; v < model->value_count; v++) {
        if (model->values[v].dtype == MODEL_DTYPE_I32 && v != last->output) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "value %" PRIu32 " is I32, which only the logits (value %" PRIu32
                              ", the FULLY_CONNECTED output) may be",
                              v, last->output);
        }
    }
    for (uint32_t t = 0; t < model->tensor_count; t++) {
        if (!tensor_referenced[t]) {
            return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                              "tensor %" PRIu32 " is not referenced by any operator", t);
        }
    }
    return PICOTAG_OK;
}

picotag_status model_validate_ops(picotag_model *model, picotag_error *error) {
    const model_section *section = &model->sections[MODEL_SECTION_OPS];
    const uint64_t count = section->size / MODEL_OP_RECORD_SIZE;
    if (count == 0) {
        return model_fail(model, error, PICOTAG_ERROR_FORMAT,
                          "section table entry %" PRIu32 " (OPS) is empty; a model needs at least a "
                          "GLOBAL_AVGPOOL and a FULLY_CONNECTED operator",
                          section->table_index);
    }
    model->op_count = (uint32_t)count;
    model->ops = calloc((size_t)count, sizeof(*model->ops));
    uint8_t *tensor_referenced = calloc(model->tensor_count > 0 ? model->tensor_count : 1, 1);
    if (model->ops == NULL || tensor_referenced == NULL) {
        free(tensor_referenced);
        return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                          "out of memory reading %" PRIu64 " operators", count);
    }

    picotag_status status = PICOTAG_OK;
    for (uint32_t i = 0; i < model->op_count && status == PICOTAG_OK; i++) {
        uint32_t words[MODEL_OP_WORD_COUNT];
        read_op(model_section_bytes(model, MODEL_SECTION_OPS) + (uint64_t)i * MODEL_OP_RECORD_SIZE,
                &model->ops[i], words);

        op_check check = {model, error, i, &model->ops[i], tensor_referenced};
        status = check_op(&check, words);
        if (status == PICOTAG_OK) {
            model->values[model->ops[i].output].producer = (int32_t)i;
        }
    }
    if (status == PICOTAG_OK) {
        status = check_graph(model, tensor_referenced, error);
    }
    free(tensor_referenced);
    return status;
}
