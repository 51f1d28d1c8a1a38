/*
 * The runner's state, shared by the files that plan (runner.c), run
 * (runner_run.c) and describe (runner_describe.c) it.
 */
#ifndef PICOTAG_ENGINE_RUNNER_INTERNAL_H
#define PICOTAG_ENGINE_RUNNER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/model_internal.h"
#include "engine/thread_pool.h"
#include "kernels/kernels.h"
#include "picotag.h"

#define RUNNER_BUFFER_ALIGNMENT 64u

typedef struct runner_value {
    uint32_t height;
    uint32_t width;
    uint32_t channels;
    size_t bytes;            /* height * width * channels, one byte per element */
    uint8_t *data;           /* in the arena; NULL when the value has no buffer */
} runner_value;

typedef struct runner_op {
    /* GLOBAL_AVGPOOL: multiplier and shift derived for this input size. */
    uint32_t avgpool_multiplier;
    uint32_t avgpool_shift;
    /* CONV2D: weights in the kernel set's own layout, inside the model's
     * packed weights for this kernel set and input size, or NULL when the
     * set reads the file's layout (the reference kernels always do). */
    const void *packed_weights;
} runner_op;

struct picotag_runner {
    const picotag_model *model;
    const picotag_kernel_set *kernels;
    uint32_t height;
    uint32_t width;
    int keep_all_values;
    /* NULL when the runner uses the calling thread only. */
    thread_pool *pool;
    int threads;
    runner_value *values;
    runner_op *ops;
    uint8_t *arena;
    size_t arena_bytes;
    /* The packed weights of every CONV2D, shared with the model's other
     * runners of the same kernel set and input size. NULL when the set does
     * not pack. */
    model_packed_weights *packed;
    size_t packed_weight_bytes;
    /* The working memory of the kernel set's convolutions (im2col rows):
     * `threads` slices of kernel_scratch_stride bytes, one per thread,
     * because concurrent calls must not share it. */
    uint8_t *kernel_scratch;
    size_t kernel_scratch_stride;
    size_t kernel_scratch_bytes;
    /* Bytes of mapped model file pages given back after packing. */
    size_t released_weight_bytes;
};

/* Returns the bytes of value `v`; value 0 is the image of this run. */
static inline const uint8_t *runner_value_data(const picotag_runner *runner, uint32_t v,
                                               const uint8_t *image) {
    return v == 0 ? image : runner->values[v].data;
}

/* Returns the parameters of CONV2D op `op_index` for all output rows, with
 * thread 0's scratch. `image` is the input of this run, or NULL while
 * planning: then the data pointers may be NULL, but shapes, weights, bias
 * and zero point are set. */
picotag_conv2d_params runner_conv2d_params(const picotag_runner *runner, uint32_t op_index,
                                           const uint8_t *image);

#endif
