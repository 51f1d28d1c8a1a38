/* Descriptions of a planned runner: its values, operators and memory. */
#include <string.h>

#include "engine/runner_internal.h"

picotag_status picotag_runner_value(const picotag_runner *runner, int value_index, void *out,
                                    size_t capacity, size_t *size, int *height, int *width,
                                    int *channels) {
    if (runner == NULL || !runner->keep_all_values || value_index < 0 ||
        (uint32_t)value_index >= runner->model->value_count) {
        return PICOTAG_ERROR_INVALID_ARGUMENT;
    }
    const runner_value *value = &runner->values[value_index];
    if (value->data == NULL) {
        /* The logits, or a value that no operator writes. */
        return PICOTAG_ERROR_INVALID_ARGUMENT;
    }

    if (size != NULL) {
        *size = value->bytes;
    }
    if (height != NULL) {
        *height = (int)value->height;
    }
    if (width != NULL) {
        *width = (int)value->width;
    }
    if (channels != NULL) {
        *channels = (int)value->channels;
    }
    if (out == NULL || capacity < value->bytes) {
        return PICOTAG_ERROR_INVALID_ARGUMENT;
    }
    memcpy(out, value->data, value->bytes);
    return PICOTAG_OK;
}

int picotag_runner_threads(const picotag_runner *runner) {
    return runner != NULL ? runner->threads : 0;
}

int picotag_runner_op_count(const picotag_runner *runner) {
    return runner != NULL ? (int)runner->model->op_count : 0;
}

/* Bytes of value `v` for this runner's input size, by its element type. */
static size_t planned_value_bytes(const picotag_runner *runner, uint32_t v) {
    const runner_value *value = &runner->values[v];
    const uint64_t element_bytes = model_dtype_size(runner->model->values[v].dtype);
    return (size_t)value->height * value->width * value->channels * (size_t)element_bytes;
}

/* Bytes of an operator's int8 weights: OHWI for CONV2D, [out, in] for
 * FULLY_CONNECTED. */
static uint64_t weight_bytes(const picotag_runner *runner, const model_op *op) {
    const uint64_t in_channels = runner->values[op->input].channels;
    const uint64_t out_channels = runner->values[op->output].channels;
    if (op->type == MODEL_OP_CONV2D) {
        return out_channels * op->kernel_height * op->kernel_width * in_channels;
    }
    return out_channels * in_channels;
}

static uint64_t op_macs(const picotag_runner *runner, const model_op *op) {
    const runner_value *in = &runner->values[op->input];
    const runner_value *out = &runner->values[op->output];
    switch (op->type) {
    case MODEL_OP_CONV2D:
        return (uint64_t)out->height * out->width * out->channels * op->kernel_height *
               op->kernel_width * in->channels;
    case MODEL_OP_FULLY_CONNECTED:
        return (uint64_t)in->channels * out->channels;
    default:
        return 0;
    }
}

picotag_status picotag_runner_op_info(const picotag_runner *runner, int op_index, picotag_op_info *info) {
    if (runner == NULL || info == NULL || op_index < 0 || (uint32_t)op_index >= runner->model->op_count) {
        return PICOTAG_ERROR_INVALID_ARGUMENT;
    }
    const model_op *op = &runner->model->ops[op_index];
    const runner_value *in = &runner->values[op->input];
    const runner_value *out = &runner->values[op->output];
    const int windowed = op->type == MODEL_OP_CONV2D || op->type == MODEL_OP_MAXPOOL;

    memset(info, 0, sizeof(*info));
    info->type = model_op_name(op->type);
    info->input_height = (int)in->height;
    info->input_width = (int)in->width;
    info->input_channels = (int)in->channels;
    info->output_height = (int)out->height;
    info->output_width = (int)out->width;
    info->output_channels = (int)out->channels;
    if (windowed) {
        info->kernel_height = (int)op->kernel_height;
        info->kernel_width = (int)op->kernel_width;
        info->stride_height = (int)op->stride_height;
        info->stride_width = (int)op->stride_width;
    }
    info->has_residual = op->type == MODEL_OP_CONV2D && op->residual != MODEL_NONE;
    info->macs = op_macs(runner, op);
    return PICOTAG_OK;
}

void picotag_runner_memory_usage(const picotag_runner *runner, picotag_runner_memory *memory) {
    memset(memory, 0, sizeof(*memory));
    if (runner == NULL) {
        return;
    }
    memory->activation_bytes = runner->arena_bytes;
    memory->kernel_scratch_bytes = runner->kernel_scratch_bytes;
    memory->packed_weight_bytes = runner->packed_weight_bytes;
    memory->released_weight_bytes = runner->released_weight_bytes;

    for (uint32_t i = 0; i < runner->model->op_count; i++) {
        const model_op *op = &runner->model->ops[i];
        const int has_weights = op->type == MODEL_OP_CONV2D || op->type == MODEL_OP_FULLY_CONNECTED;
        if (has_weights && runner->ops[i].packed_weights == NULL) {
            memory->unpacked_weight_bytes += (size_t)weight_bytes(runner, op);
        }

        size_t bytes = planned_value_bytes(runner, op->input) + planned_value_bytes(runner, op->output);
        if (op->type == MODEL_OP_CONV2D && op->residual != MODEL_NONE) {
            bytes += planned_value_bytes(runner, op->residual);
        }
        if (bytes > memory->largest_op_bytes) {
            memory->largest_op_bytes = bytes;
        }
    }
}
