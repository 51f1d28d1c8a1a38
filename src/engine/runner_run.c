/*
 * Running the network: the operators in file order. With a thread pool,
 * each convolution and max pooling is split into one share of output rows
 * per thread, and the calling thread and the workers each claim shares
 * until none is left. Every output row is computed by one thread with the
 * same kernel on the same inputs, so the integers do not depend on the
 * thread count.
 */
#include <string.h>
#include <time.h>

#include "engine/runner_internal.h"

/* One operator of one run, handed to every thread of the pool. */
typedef struct op_task {
    const picotag_runner *runner;
    uint32_t op_index;
    const uint8_t *image;
    int32_t *logits;
} op_task;

/* Rows [*begin, *end) of `rows` in share `share` of `share_count`:
 * contiguous shares that differ by at most one row. */
static void share_row_range(uint32_t rows, uint32_t share, uint32_t share_count, uint32_t *begin,
                            uint32_t *end) {
    *begin = (uint32_t)((uint64_t)rows * share / share_count);
    *end = (uint32_t)((uint64_t)rows * (share + 1) / share_count);
}

static void run_conv2d_rows(const op_task *task, int thread_index, uint32_t share, uint32_t share_count) {
    const picotag_runner *runner = task->runner;
    picotag_conv2d_params params = runner_conv2d_params(runner, task->op_index, task->image);
    share_row_range(params.output_height, share, share_count, &params.output_row_begin,
                    &params.output_row_end);
    if (params.output_row_begin == params.output_row_end) {
        return;
    }
    if (runner->kernel_scratch != NULL) {
        params.scratch = runner->kernel_scratch + (size_t)thread_index * runner->kernel_scratch_stride;
    }
    runner->kernels->conv2d_u8i8(&params);
}

static void run_maxpool_rows(const op_task *task, uint32_t share, uint32_t share_count) {
    const picotag_runner *runner = task->runner;
    const model_op *op = &runner->model->ops[task->op_index];
    const runner_value *in = &runner->values[op->input];
    const runner_value *out = &runner->values[op->output];
    picotag_maxpool_params params = {
        .input = runner_value_data(runner, op->input, task->image),
        .input_height = in->height,
        .input_width = in->width,
        .channels = in->channels,
        .kernel_height = op->kernel_height,
        .kernel_width = op->kernel_width,
        .stride_height = op->stride_height,
        .stride_width = op->stride_width,
        .pad_height = op->pad_height,
        .pad_width = op->pad_width,
        .output = out->data,
        .output_height = out->height,
        .output_width = out->width,
    };
    share_row_range(out->height, share, share_count, &params.output_row_begin, &params.output_row_end);
    if (params.output_row_begin < params.output_row_end) {
        runner->kernels->maxpool_u8(&params);
    }
}

static void run_global_avgpool(const op_task *task) {
    const picotag_runner *runner = task->runner;
    const model_op *op = &runner->model->ops[task->op_index];
    const runner_value *in = &runner->values[op->input];
    const picotag_global_avgpool_params params = {
        .input = runner_value_data(runner, op->input, task->image),
        .input_height = in->height,
        .input_width = in->width,
        .channels = in->channels,
        .multiplier = runner->ops[task->op_index].avgpool_multiplier,
        .shift = runner->ops[task->op_index].avgpool_shift,
        .output = runner->values[op->output].data,
    };
    runner->kernels->global_avgpool_u8(&params);
}

static void run_fully_connected(const op_task *task) {
    const picotag_runner *runner = task->runner;
    const model_op *op = &runner->model->ops[task->op_index];
    const picotag_fully_connected_params params = {
        .input = runner->values[op->input].data,
        .input_channels = runner->values[op->input].channels,
        .weight = op->weight,
        .packed_weights = runner->ops[task->op_index].packed_weights,
        .bias = op->bias,
        .output = task->logits,
        .output_channels = runner->values[op->output].channels,
    };
    runner->kernels->fully_connected_u8i8(&params);
}

/* The thread pool task: one share of the rows of a convolution or max
 * pooling, computed with the kernel scratch of thread `thread_index`. */
static void run_op_rows(void *context, int thread_index, uint32_t share, uint32_t share_count) {
    const op_task *task = context;
    if (task->runner->model->ops[task->op_index].type == MODEL_OP_CONV2D) {
        run_conv2d_rows(task, thread_index, share, share_count);
    } else {
        run_maxpool_rows(task, share, share_count);
    }
}

/* Runs one operator on all of the runner's threads. Global average pooling
 * and the fully connected layer stay on the calling thread: they take
 * about 0.4 % of a ResNet-50 run, and their kernels take no row range. */
static void run_op(const picotag_runner *runner, uint32_t op_index, const uint8_t *image,
                   int32_t *logits) {
    op_task task = {.runner = runner, .op_index = op_index, .image = image, .logits = logits};
    switch (runner->model->ops[op_index].type) {
    case MODEL_OP_CONV2D:
    case MODEL_OP_MAXPOOL:
        if (runner->pool != NULL) {
            thread_pool_run(runner->pool, run_op_rows, &task, (uint32_t)runner->threads);
        } else {
            run_op_rows(&task, 0, 0, 1);
        }
        break;
    case MODEL_OP_GLOBAL_AVGPOOL:
        run_global_avgpool(&task);
        break;
    default:
        run_fully_connected(&task);
        break;
    }
}

static uint64_t monotonic_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * UINT64_C(1000000000) + (uint64_t)now.tv_nsec;
}

/* Runs every operator; with `op_nanoseconds`, stores the wall-clock time of
 * each one there, read on the calling thread. */
static picotag_status run_network(picotag_runner *runner, const uint8_t *rgb, int32_t *logits,
                                  uint64_t *op_nanoseconds, picotag_error *error) {
    if (runner == NULL || rgb == NULL || logits == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "picotag_runner_run: runner, rgb and logits must not be NULL");
    }
    const picotag_model *model = runner->model;

    const uint8_t *image = rgb;
    if (runner->keep_all_values) {
        memcpy(runner->values[0].data, rgb, runner->values[0].bytes);
        image = runner->values[0].data;
    }

    if (op_nanoseconds == NULL) {
        for (uint32_t i = 0; i < model->op_count; i++) {
            run_op(runner, i, image, logits);
        }
    } else {
        uint64_t start = monotonic_nanoseconds();
        for (uint32_t i = 0; i < model->op_count; i++) {
            run_op(runner, i, image, logits);
            const uint64_t end = monotonic_nanoseconds();
            op_nanoseconds[i] = end - start;
            start = end;
        }
    }

    picotag_error_clear(error);
    return PICOTAG_OK;
}

picotag_status picotag_runner_run(picotag_runner *runner, const uint8_t *rgb, int32_t *logits,
                                  picotag_error *error) {
    return run_network(runner, rgb, logits, NULL, error);
}

picotag_status picotag_runner_run_profiled(picotag_runner *runner, const uint8_t *rgb, int32_t *logits,
                                           uint64_t *op_nanoseconds, size_t capacity,
                                           picotag_error *error) {
    if (runner != NULL && (op_nanoseconds == NULL || capacity < runner->model->op_count)) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "picotag_runner_run_profiled: op_nanoseconds has room for %zu "
                                 "operators, the model has %u",
                                 op_nanoseconds == NULL ? (size_t)0 : capacity,
                                 (unsigned)runner->model->op_count);
    }
    return run_network(runner, rgb, logits, op_nanoseconds, error);
}

/* Returns floor(numerator / denominator) for denominator > 0. C division
 * truncates towards zero, so negative quotients need the correction. */
static int64_t floor_divide(int64_t numerator, int64_t denominator) {
    const int64_t quotient = numerator / denominator;
    return quotient - (numerator % denominator < 0 ? 1 : 0);
}

picotag_status picotag_runner_run_views(picotag_runner *runner, const uint8_t *rgb, int view_count,
                                        int32_t *logits, picotag_error *error) {
    if (runner == NULL || rgb == NULL || logits == NULL || view_count < 1) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "picotag_runner_run_views: runner, rgb and logits must not be NULL "
                                 "and view_count (%d) must be at least 1",
                                 view_count);
    }
    if (view_count == 1) {
        return run_network(runner, rgb, logits, NULL, error);
    }
    const int class_count = picotag_model_class_count(runner->model);
    const size_t view_bytes = (size_t)runner->height * runner->width * 3;
    int32_t view_logits[PICOTAG_MAX_CLASSES];
    int64_t sums[PICOTAG_MAX_CLASSES];
    memset(sums, 0, (size_t)class_count * sizeof(sums[0]));
    for (int view = 0; view < view_count; view++) {
        const picotag_status status =
            run_network(runner, rgb + (size_t)view * view_bytes, view_logits, NULL, error);
        if (status != PICOTAG_OK) {
            return status;
        }
        for (int c = 0; c < class_count; c++) {
            sums[c] += view_logits[c];
        }
    }
    /* The mean of int32 values lies within the int32 range. */
    for (int c = 0; c < class_count; c++) {
        logits[c] = (int32_t)floor_divide(2 * sums[c] + view_count, 2 * (int64_t)view_count);
    }
    return PICOTAG_OK;
}
