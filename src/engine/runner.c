/*
 * The runner: plans one input size for a validated model (shapes, the
 * average pool multipliers, the memory plan), allocates all scratch once,
 * and runs the operators in file order with the chosen kernel set.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/avgpool_multiplier.h"
#include "engine/memory_plan.h"
#include "engine/runner_internal.h"

static picotag_status choose_kernel_set(const picotag_model *model, const picotag_runner_options *options,
                                        const picotag_kernel_set **kernels, picotag_error *error) {
    const char *name = options != NULL ? options->kernels : NULL;
    if (name == NULL) {
        name = getenv("PICOTAG_KERNELS");
        if (name != NULL && name[0] == '\0') {
            name = NULL;
        }
    }
    if (name == NULL) {
        *kernels = picotag_kernel_set_best();
        return PICOTAG_OK;
    }

    char available[256];
    picotag_kernel_set_names(available, sizeof(available));
    const picotag_kernel_set *found = picotag_kernel_set_find(name);
    if (found == NULL) {
        return model_fail(model, error, PICOTAG_ERROR_UNSUPPORTED,
                          "unknown kernel set \"%s\" (available: %s)", name, available);
    }
    if (!found->is_supported()) {
        return model_fail(model, error, PICOTAG_ERROR_UNSUPPORTED,
                          "kernel set \"%s\" is not supported by this CPU (available: %s)", name,
                          available);
    }
    *kernels = found;
    return PICOTAG_OK;
}

/* Computes floor((in + 2 * pad - kernel) / stride) + 1, or returns 0 when
 * the window does not fit even once. */
static uint32_t window_output_size(uint32_t in, uint32_t kernel, uint32_t stride, uint32_t pad) {
    const int64_t span = (int64_t)in + 2 * (int64_t)pad - (int64_t)kernel;
    if (span < 0) {
        return 0;
    }
    return (uint32_t)(span / stride + 1);
}

static picotag_status plan_window_op(picotag_runner *runner, uint32_t op_index, picotag_error *error) {
    const picotag_model *model = runner->model;
    const model_op *op = &model->ops[op_index];
    const runner_value *in = &runner->values[op->input];
    runner_value *out = &runner->values[op->output];

    out->height = window_output_size(in->height, op->kernel_height, op->stride_height, op->pad_height);
    out->width = window_output_size(in->width, op->kernel_width, op->stride_width, op->pad_width);
    if (out->height < 1 || out->width < 1) {
        return model_fail(model, error, PICOTAG_ERROR_INVALID_ARGUMENT,
                          "input %" PRIu32 "x%" PRIu32 " is too small: op %" PRIu32
                          " (%s) gets %" PRIu32 "x%" PRIu32 " and its %" PRIu32 "x%" PRIu32
                          " window (pad %" PRIu32 "x%" PRIu32 ") does not fit",
                          runner->height, runner->width, op_index, model_op_name(op->type),
                          in->height, in->width, op->kernel_height, op->kernel_width,
                          op->pad_height, op->pad_width);
    }

    if (op->residual != MODEL_NONE) {
        const runner_value *residual = &runner->values[op->residual];
        if (residual->height != out->height || residual->width != out->width) {
            return model_fail(model, error, PICOTAG_ERROR_INVALID_ARGUMENT,
                              "input %" PRIu32 "x%" PRIu32 ": op %" PRIu32
                              " (CONV2D) adds residual value %" PRIu32 " of %" PRIu32 "x%" PRIu32
                              " to an output of %" PRIu32 "x%" PRIu32,
                              runner->height, runner->width, op_index, op->residual,
                              residual->height, residual->width, out->height, out->width);
        }
    }
    return PICOTAG_OK;
}

static picotag_status plan_global_avgpool(picotag_runner *runner, uint32_t op_index,
                                          picotag_error *error) {
    const picotag_model *model = runner->model;
    const model_op *op = &model->ops[op_index];
    const runner_value *in = &runner->values[op->input];
    const uint64_t positions = (uint64_t)in->height * in->width;

    /* The per-channel sum of uint8 values must fit int32. */
    if (255 * positions >= (UINT64_C(1) << 31)) {
        return model_fail(model, error, PICOTAG_ERROR_INVALID_ARGUMENT,
                          "input %" PRIu32 "x%" PRIu32 " is too large: op %" PRIu32
                          " (GLOBAL_AVGPOOL) averages %" PRIu64 " positions, and 255 * %" PRIu64
                          " does not fit int32",
                          runner->height, runner->width, op_index, positions, positions);
    }
    runner_op *planned = &runner->ops[op_index];
    if (!picotag_derive_avgpool_multiplier(op->avgpool_multiplier, op->avgpool_shift, positions,
                                           &planned->avgpool_multiplier, &planned->avgpool_shift)) {
        return model_fail(model, error, PICOTAG_ERROR_INVALID_ARGUMENT,
                          "input %" PRIu32 "x%" PRIu32 ": op %" PRIu32
                          " (GLOBAL_AVGPOOL) over %" PRIu64 " positions needs a shift above 62 "
                          "(s0 = %" PRIu32 ")",
                          runner->height, runner->width, op_index, positions, op->avgpool_shift);
    }

    runner->values[op->output].height = 1;
    runner->values[op->output].width = 1;
    return PICOTAG_OK;
}

/* Computes every value's spatial size for the requested input size. */
static picotag_status plan_shapes(picotag_runner *runner, picotag_error *error) {
    const picotag_model *model = runner->model;

    for (uint32_t v = 0; v < model->value_count; v++) {
        runner->values[v].channels = model->values[v].channels;
    }
    runner->values[0].height = runner->height;
    runner->values[0].width = runner->width;

    for (uint32_t i = 0; i < model->op_count; i++) {
        const model_op *op = &model->ops[i];
        picotag_status status = PICOTAG_OK;
        switch (op->type) {
        case MODEL_OP_CONV2D:
        case MODEL_OP_MAXPOOL:
            status = plan_window_op(runner, i, error);
            break;
        case MODEL_OP_GLOBAL_AVGPOOL:
            status = plan_global_avgpool(runner, i, error);
            break;
        default:
            /* The loader checked that a GLOBAL_AVGPOOL (1x1) feeds it. */
            runner->values[op->output].height = 1;
            runner->values[op->output].width = 1;
            break;
        }
        if (status != PICOTAG_OK) {
            return status;
        }
    }
    return PICOTAG_OK;
}

/* Returns height * width * channels in *bytes, or 0 if it overflows size_t. */
static int value_bytes(const runner_value *value, size_t *bytes) {
    const uint64_t pixels = (uint64_t)value->height * value->width;
    if (pixels != 0 && value->channels > UINT64_MAX / pixels) {
        return 0;
    }
    const uint64_t total = pixels * value->channels;
    if (total > SIZE_MAX) {
        return 0;
    }
    *bytes = (size_t)total;
    return 1;
}

/*
 * Lays out the activation buffers. The image (value 0) is read from the
 * caller's memory and the logits are written to the caller's array, so
 * neither needs a buffer, except that keep_all_values keeps a copy of the
 * image for picotag_runner_value.
 */
static picotag_status plan_memory(picotag_runner *runner, picotag_error *error) {
    const picotag_model *model = runner->model;
    const uint32_t logits = model->ops[model->op_count - 1].output;
    memory_plan_buffer *buffers = calloc(model->value_count, sizeof(*buffers));
    if (buffers == NULL) {
        return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                          "out of memory planning %" PRIu32 " values", model->value_count);
    }

    picotag_status status = PICOTAG_OK;
    for (uint32_t v = 0; v < model->value_count && status == PICOTAG_OK; v++) {
        runner_value *value = &runner->values[v];
        const int32_t producer = model->values[v].producer;
        const int needs_buffer = v == 0 ? runner->keep_all_values : producer >= 0 && v != logits;

        buffers[v].first_op = producer;
        buffers[v].last_op = producer;
        if (!needs_buffer) {
            continue;
        }
        if (!value_bytes(value, &value->bytes)) {
            status = model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                "input %" PRIu32 "x%" PRIu32 ": value %" PRIu32
                                " (%" PRIu32 "x%" PRIu32 "x%" PRIu32 ") is too large",
                                runner->height, runner->width, v, value->height, value->width,
                                value->channels);
        }
        buffers[v].bytes = value->bytes;
    }
    for (uint32_t i = 0; i < model->op_count; i++) {
        const model_op *op = &model->ops[i];
        buffers[op->input].last_op = (int32_t)i;
        if (op->residual != MODEL_NONE) {
            buffers[op->residual].last_op = (int32_t)i;
        }
    }

    if (status == PICOTAG_OK) {
        status = memory_plan_compute(buffers, model->value_count, !runner->keep_all_values,
                                     RUNNER_BUFFER_ALIGNMENT, &runner->arena_bytes);
        if (status != PICOTAG_OK) {
            status = model_fail(model, error, status,
                                "input %" PRIu32 "x%" PRIu32 ": the activation buffers do not fit "
                                "in memory",
                                runner->height, runner->width);
        }
    }
    if (status == PICOTAG_OK) {
        /* aligned_alloc needs a non-zero size that is a multiple of the alignment. */
        const size_t capacity = runner->arena_bytes > 0 ? runner->arena_bytes : RUNNER_BUFFER_ALIGNMENT;
        runner->arena = aligned_alloc(RUNNER_BUFFER_ALIGNMENT, capacity);
        if (runner->arena == NULL) {
            status = model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                "input %" PRIu32 "x%" PRIu32 ": out of memory allocating %zu bytes "
                                "of activation scratch",
                                runner->height, runner->width, capacity);
        } else {
            /* Values read before the first run are zeros, not garbage. */
            memset(runner->arena, 0, capacity);
        }
    }
    if (status == PICOTAG_OK) {
        for (uint32_t v = 0; v < model->value_count; v++) {
            if (buffers[v].bytes > 0) {
                runner->values[v].data = runner->arena + buffers[v].offset;
            }
        }
    }
    free(buffers);
    return status;
}

/* Returns `bytes` rounded up to the buffer alignment, or 0 on overflow. */
static size_t round_up_to_alignment(size_t bytes) {
    if (bytes > SIZE_MAX - (RUNNER_BUFFER_ALIGNMENT - 1)) {
        return 0;
    }
    return (bytes + RUNNER_BUFFER_ALIGNMENT - 1) & ~(size_t)(RUNNER_BUFFER_ALIGNMENT - 1);
}

static size_t conv_weight_bytes(const picotag_conv2d_params *params) {
    return (size_t)params->output_channels * params->kernel_height * params->kernel_width *
           params->input_channels;
}

/*
 * Gives back the resident pages of a mapped model file that lie wholly
 * inside [data, data + bytes), once the kernel set has a packed copy, so
 * that the weights are not resident twice. The mapping is a read-only
 * MAP_PRIVATE file mapping that nothing writes, so a later read (another
 * runner packing, or the reference kernels) faults the same bytes back in
 * from the file. A model loaded from memory is a heap copy and is left
 * alone, because MADV_DONTNEED would zero anonymous memory.
 */
static void release_mapped_pages(picotag_runner *runner, const void *data, size_t bytes) {
    const picotag_model *model = runner->model;
    const long page_size = sysconf(_SC_PAGESIZE);
    if (model->mapping == NULL || data == NULL || page_size <= 0) {
        return;
    }
    const uintptr_t page = (uintptr_t)page_size;
    const uintptr_t begin = ((uintptr_t)data + page - 1) & ~(page - 1);
    const uintptr_t end = ((uintptr_t)data + bytes) & ~(page - 1);
    if (begin < end && madvise((void *)begin, end - begin, MADV_DONTNEED) == 0) {
        runner->released_weight_bytes += end - begin;
    }
}

static int packed_weights_match(const model_packed_weights *entry, const picotag_runner *runner,
                                 size_t bytes) {
    return entry->kernels == runner->kernels && entry->height == runner->height &&
           entry->width == runner->width && entry->bytes == bytes;
}

/*
 * Points the runner's convolutions at the model's packed weights for its
 * kernel set and input size, packing them first (`bytes` in one block, each
 * convolution at offsets[i]) when no other runner of the model has. Runners
 * created on several threads at once take turns under the model's lock.
 */
static picotag_status share_packed_weights(picotag_runner *runner, const size_t *offsets, size_t bytes,
                                           picotag_error *error) {
    const picotag_model *model = runner->model;
    const picotag_kernel_set *kernels = runner->kernels;
    model_packed_cache *cache = model->packed;

    pthread_mutex_lock(&cache->lock);
    model_packed_weights *entry = cache->entries;
    while (entry != NULL && !packed_weights_match(entry, runner, bytes)) {
        entry = entry->next;
    }
    if (entry == NULL) {
        entry = calloc(1, sizeof(*entry));
        uint8_t *data = entry != NULL ? aligned_alloc(RUNNER_BUFFER_ALIGNMENT, bytes) : NULL;
        if (data == NULL) {
            pthread_mutex_unlock(&cache->lock);
            free(entry);
            return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                              "kernel set %s: out of memory allocating %zu bytes of packed weights",
                              kernels->name, bytes);
        }
        for (uint32_t i = 0; i < model->op_count; i++) {
            if (model->ops[i].type != MODEL_OP_CONV2D) {
                continue;
            }
            const picotag_conv2d_params params = runner_conv2d_params(runner, i, NULL);
            kernels->conv2d_u8i8_pack(&params, data + offsets[i]);
            release_mapped_pages(runner, params.weight, conv_weight_bytes(&params));
        }
        entry->kernels = kernels;
        entry->height = runner->height;
        entry->width = runner->width;
        entry->data = data;
        entry->bytes = bytes;
        entry->next = cache->entries;
        cache->entries = entry;
    }
    entry->runners++;
    pthread_mutex_unlock(&cache->lock);

    runner->packed = entry;
    runner->packed_weight_bytes = bytes;
    for (uint32_t i = 0; i < model->op_count; i++) {
        if (model->ops[i].type == MODEL_OP_CONV2D) {
            runner->ops[i].packed_weights = entry->data + offsets[i];
        }
    }
    return PICOTAG_OK;
}

/* Drops the runner's share of the model's packed weights, and frees them
 * when no other runner reads them. */
static void unshare_packed_weights(picotag_runner *runner) {
    model_packed_weights *entry = runner->packed;
    if (entry == NULL) {
        return;
    }
    model_packed_cache *cache = runner->model->packed;
    pthread_mutex_lock(&cache->lock);
    entry->runners--;
    if (entry->runners == 0) {
        model_packed_weights **link = &cache->entries;
        while (*link != entry) {
            link = &(*link)->next;
        }
        *link = entry->next;
        free(entry->data);
        free(entry);
    }
    pthread_mutex_unlock(&cache->lock);
    runner->packed = NULL;
}

/*
 * Sizes the kernel set's packed weights (one block for all convolutions,
 * each at a 64-byte aligned offset) and shares them with the model's other
 * runners. Also allocates the largest working memory that one of the set's
 * convolutions needs.
 */
static picotag_status prepare_kernels(picotag_runner *runner, picotag_error *error) {
    const picotag_model *model = runner->model;
    const picotag_kernel_set *kernels = runner->kernels;
    size_t *offsets = calloc(model->op_count, sizeof(*offsets));
    if (offsets == NULL) {
        return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY, "out of memory creating a runner");
    }

    size_t packed_total = 0;
    size_t scratch = 0;
    int overflow = 0;
    for (uint32_t i = 0; i < model->op_count && !overflow; i++) {
        if (model->ops[i].type != MODEL_OP_CONV2D) {
            continue;
        }
        const picotag_conv2d_params params = runner_conv2d_params(runner, i, NULL);
        if (kernels->conv2d_u8i8_packed_bytes != NULL) {
            const size_t bytes = kernels->conv2d_u8i8_packed_bytes(&params);
            const size_t rounded = round_up_to_alignment(bytes);
            overflow = (bytes > 0 && rounded == 0) || rounded > SIZE_MAX - packed_total;
            offsets[i] = packed_total;
            packed_total += overflow ? 0 : rounded;
        }
        if (kernels->conv2d_u8i8_scratch_bytes != NULL) {
            const size_t bytes = kernels->conv2d_u8i8_scratch_bytes(&params);
            scratch = bytes > scratch ? bytes : scratch;
        }
    }
    /* One slice per thread, because concurrent calls must not share it. */
    const size_t scratch_stride = round_up_to_alignment(scratch);
    const size_t threads = (size_t)runner->threads;
    if (overflow || (scratch > 0 && scratch_stride == 0) || scratch_stride > SIZE_MAX / threads) {
        free(offsets);
        return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                          "kernel set %s: the packed weights or the kernel scratch do not fit in memory",
                          kernels->name);
    }
    scratch = scratch_stride * threads;

    if (scratch > 0) {
        runner->kernel_scratch = aligned_alloc(RUNNER_BUFFER_ALIGNMENT, scratch);
    }
    if (scratch > 0 && runner->kernel_scratch == NULL) {
        free(offsets);
        return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                          "kernel set %s: out of memory allocating %zu bytes of kernel scratch",
                          kernels->name, scratch);
    }
    runner->kernel_scratch_bytes = scratch;
    runner->kernel_scratch_stride = scratch_stride;
    if (scratch > 0) {
        memset(runner->kernel_scratch, 0, scratch);
    }

    picotag_status status = PICOTAG_OK;
    if (kernels->conv2d_u8i8_pack != NULL && packed_total > 0) {
        status = share_packed_weights(runner, offsets, packed_total, error);
    }
    free(offsets);
    return status;
}

/* How long an idle worker polls for the next operator before it sleeps,
 * in microseconds. Operators of a run follow each other within
 * microseconds, so a worker that spins this long reaches the next one
 * without a system call, and one that waits longer (between photos) gives
 * its core back. The environment variable PICOTAG_SPIN_MICROSECONDS (0 to
 * 1000000) overrides it, for measuring the wait on a given machine. */
#define RUNNER_SPIN_MICROSECONDS 200
#define RUNNER_MAX_SPIN_MICROSECONDS 1000000

/* Sets *nanoseconds from PICOTAG_SPIN_MICROSECONDS, or the default when it
 * is unset or empty. A value that is not a whole number from 0 to 1000000
 * fails runner creation, as an unknown PICOTAG_KERNELS does. */
static picotag_status spin_nanoseconds(const picotag_model *model, uint64_t *nanoseconds,
                                       picotag_error *error) {
    *nanoseconds = (uint64_t)RUNNER_SPIN_MICROSECONDS * 1000u;
    const char *text = getenv("PICOTAG_SPIN_MICROSECONDS");
    if (text == NULL || text[0] == '\0') {
        return PICOTAG_OK;
    }
    char *end = NULL;
    errno = 0;
    const long value = strtol(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || errno != 0 || *end != '\0' || value > RUNNER_MAX_SPIN_MICROSECONDS) {
        return model_fail(model, error, PICOTAG_ERROR_INVALID_ARGUMENT,
                          "invalid PICOTAG_SPIN_MICROSECONDS \"%s\": expected a whole number from 0 to %d",
                          text, RUNNER_MAX_SPIN_MICROSECONDS);
    }
    *nanoseconds = (uint64_t)value * 1000u;
    return PICOTAG_OK;
}

static picotag_status start_thread_pool(picotag_runner *runner, picotag_error *error) {
    uint64_t spin = 0;
    const picotag_status status = spin_nanoseconds(runner->model, &spin, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    if (thread_pool_create(runner->threads, spin, &runner->pool) != PICOTAG_OK) {
        return model_fail(runner->model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                          "cannot start %d worker threads", runner->threads - 1);
    }
    return PICOTAG_OK;
}

void picotag_runner_free(picotag_runner *runner) {
    if (runner == NULL) {
        return;
    }
    thread_pool_free(runner->pool);
    unshare_packed_weights(runner);
    free(runner->kernel_scratch);
    free(runner->arena);
    free(runner->values);
    free(runner->ops);
    free(runner);
}

picotag_status picotag_runner_create(const picotag_model *model, int height, int width,
                                     const picotag_runner_options *options, picotag_runner **runner,
                                     picotag_error *error) {
    if (runner != NULL) {
        *runner = NULL;
    }
    if (model == NULL || runner == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "picotag_runner_create: model and runner must not be NULL");
    }
    if (height < 1 || width < 1) {
        return model_fail(model, error, PICOTAG_ERROR_INVALID_ARGUMENT,
                          "input size %dx%d is invalid; height and width must be at least 1 pixel",
                          height, width);
    }
    if (options != NULL && (options->threads < 0 || options->threads > PICOTAG_MAX_THREADS)) {
        return model_fail(model, error, PICOTAG_ERROR_INVALID_ARGUMENT,
                          "threads is %d; use 0 or 1 for the calling thread, or up to %d",
                          options->threads, PICOTAG_MAX_THREADS);
    }

    const picotag_kernel_set *kernels = NULL;
    picotag_status status = choose_kernel_set(model, options, &kernels, error);
    if (status != PICOTAG_OK) {
        return status;
    }

    picotag_runner *created = calloc(1, sizeof(*created));
    if (created == NULL) {
        return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY, "out of memory creating a runner");
    }
    created->model = model;
    created->kernels = kernels;
    created->height = (uint32_t)height;
    created->width = (uint32_t)width;
    created->threads = options != NULL && options->threads > 1 ? options->threads : 1;
    created->keep_all_values = options != NULL && options->keep_all_values != 0;
    created->values = calloc(model->value_count, sizeof(*created->values));
    created->ops = calloc(model->op_count, sizeof(*created->ops));
    if (created->values == NULL || created->ops == NULL) {
        picotag_runner_free(created);
        return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY, "out of memory creating a runner");
    }

    status = plan_shapes(created, error);
    if (status == PICOTAG_OK) {
        status = plan_memory(created, error);
    }
    if (status == PICOTAG_OK) {
        status = prepare_kernels(created, error);
    }
    if (status == PICOTAG_OK && created->threads > 1) {
        status = start_thread_pool(created, error);
    }
    if (status != PICOTAG_OK) {
        picotag_runner_free(created);
        return status;
    }

    picotag_error_clear(error);
    *runner = created;
    return PICOTAG_OK;
}

size_t picotag_runner_scratch_bytes(const picotag_runner *runner) {
    return runner != NULL ? runner->arena_bytes + runner->kernel_scratch_bytes : 0;
}

const char *picotag_runner_kernels(const picotag_runner *runner) {
    return runner != NULL ? runner->kernels->name : NULL;
}

picotag_conv2d_params runner_conv2d_params(const picotag_runner *runner, uint32_t op_index,
                                           const uint8_t *image) {
    const model_op *op = &runner->model->ops[op_index];
    const runner_value *in = &runner->values[op->input];
    const runner_value *out = &runner->values[op->output];
    const model_value *out_info = &runner->model->values[op->output];

    picotag_conv2d_params params = {
        .input = runner_value_data(runner, op->input, image),
        .input_height = in->height,
        .input_width = in->width,
        .input_channels = in->channels,
        .input_zero_point = op->input_zero_point,
        .weight = op->weight,
        .packed_weights = runner->ops[op_index].packed_weights,
        .bias = op->bias,
        .multiplier = op->multiplier,
        .shift = op->shift,
        .kernel_height = op->kernel_height,
        .kernel_width = op->kernel_width,
        .stride_height = op->stride_height,
        .stride_width = op->stride_width,
        .pad_height = op->pad_height,
        .pad_width = op->pad_width,
        .output = out->data,
        .output_dtype = out_info->dtype == MODEL_DTYPE_I8 ? PICOTAG_ACTIVATION_I8 : PICOTAG_ACTIVATION_U8,
        .output_height = out->height,
        .output_width = out->width,
        .output_channels = out->channels,
        .output_row_begin = 0,
        .output_row_end = out->height,
        .scratch = runner->kernel_scratch,
    };
    if (op->residual != MODEL_NONE) {
        params.residual = runner_value_data(runner, op->residual, image);
        params.residual_dtype = runner->model->values[op->residual].dtype == MODEL_DTYPE_I8
                                    ? PICOTAG_ACTIVATION_I8
                                    : PICOTAG_ACTIVATION_U8;
        params.residual_multiplier = op->residual_multiplier;
    }
    return params;
}
