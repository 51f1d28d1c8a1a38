/*
 * What a runner reports about itself: per-operator times of a profiled
 * run, the operators' shapes and multiply-accumulates, and its memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernels/kernels.h"
#include "picotag.h"
#include "test_check.h"
#include "test_model_writer.h"
#include "test_network_support.h"

static uint8_t *patterned_image(int height, int width) {
    uint8_t *rgb = malloc((size_t)height * width * 3);
    for (size_t i = 0; i < (size_t)height * width * 3; i++) {
        rgb[i] = (uint8_t)(i * 53u + 5u);
    }
    return rgb;
}

static uint64_t monotonic_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * UINT64_C(1000000000) + (uint64_t)now.tv_nsec;
}

static void profiled_run_matches_plain_run(void) {
    test_model *description = tm_mini_resnet(21);
    picotag_model *model = load_test_model(description, "profile.ptm");
    uint8_t *rgb = patterned_image(30, 26);
    for (int threads = 1; threads <= 2; threads++) {
        picotag_error error;
        picotag_runner *runner = NULL;
        const picotag_runner_options options = {.kernels = NULL, .threads = threads};
        CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 30, 26, &options, &runner, &error), error.message);

        int32_t plain[PICOTAG_MAX_CLASSES];
        int32_t profiled[PICOTAG_MAX_CLASSES];
        uint64_t op_nanoseconds[TM_MAX_OPS];
        CHECK_STATUS(PICOTAG_OK, picotag_runner_run(runner, rgb, plain, &error), error.message);
        CHECK_STATUS(PICOTAG_OK,
                     picotag_runner_run_profiled(runner, rgb, profiled, op_nanoseconds, TM_MAX_OPS, &error),
                     error.message);
        const size_t logit_bytes = sizeof(int32_t) * (size_t)picotag_model_class_count(model);
        CHECK(memcmp(plain, profiled, logit_bytes) == 0);
        picotag_runner_free(runner);
    }
    free(rgb);
    picotag_model_free(model);
    tm_destroy(description);
}

/* The operator times are consecutive intervals of one monotonic clock
 * inside the call, so their sum cannot exceed the call's own time. */
static void op_times_fit_inside_the_run(void) {
    test_model *description = tm_mini_resnet(22);
    picotag_model *model = load_test_model(description, "profile.ptm");
    uint8_t *rgb = patterned_image(48, 40);
    picotag_error error;
    picotag_runner *runner = NULL;
    const picotag_runner_options options = {.kernels = NULL, .threads = 2};
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 48, 40, &options, &runner, &error), error.message);

    const int op_count = picotag_runner_op_count(runner);
    CHECK_EQ((int64_t)description->op_count, op_count);
    uint64_t op_nanoseconds[TM_MAX_OPS];
    int32_t logits[PICOTAG_MAX_CLASSES];
    const uint64_t start = monotonic_nanoseconds();
    CHECK_STATUS(PICOTAG_OK,
                 picotag_runner_run_profiled(runner, rgb, logits, op_nanoseconds, (size_t)op_count, &error),
                 error.message);
    const uint64_t elapsed = monotonic_nanoseconds() - start;

    uint64_t sum = 0;
    for (int i = 0; i < op_count; i++) {
        sum += op_nanoseconds[i];
    }
    CHECK(sum <= elapsed);

    picotag_runner_free(runner);
    free(rgb);
    picotag_model_free(model);
    tm_destroy(description);
}

static void profiled_run_rejects_short_array(void) {
    test_model *description = tm_mini_resnet(23);
    picotag_model *model = load_test_model(description, "profile.ptm");
    uint8_t *rgb = patterned_image(16, 16);
    picotag_error error;
    picotag_runner *runner = NULL;
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 16, 16, NULL, &runner, &error), error.message);

    uint64_t op_nanoseconds[TM_MAX_OPS];
    int32_t logits[PICOTAG_MAX_CLASSES];
    const size_t short_capacity = (size_t)picotag_runner_op_count(runner) - 1;
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 picotag_runner_run_profiled(runner, rgb, logits, op_nanoseconds, short_capacity, &error),
                 error.message);
    CHECK_CONTAINS(error.message, "op_nanoseconds has room for");
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 picotag_runner_run_profiled(runner, rgb, logits, NULL, TM_MAX_OPS, &error), error.message);

    picotag_runner_free(runner);
    free(rgb);
    picotag_model_free(model);
    tm_destroy(description);
}

/* tm_tiny_model: CONV2D -> GLOBAL_AVGPOOL -> FULLY_CONNECTED (3 classes). */
static void op_info_states_shapes_and_macs(void) {
    test_model *description = tm_tiny_model(24);
    picotag_model *model = load_test_model(description, "profile.ptm");
    picotag_error error;
    picotag_runner *runner = NULL;
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 20, 18, NULL, &runner, &error), error.message);
    CHECK_EQ(3, picotag_runner_op_count(runner));

    picotag_op_info conv;
    CHECK_STATUS(PICOTAG_OK, picotag_runner_op_info(runner, 0, &conv), "");
    CHECK(strcmp(conv.type, "CONV2D") == 0);
    CHECK_EQ(3, conv.input_channels);
    const uint64_t conv_macs = (uint64_t)conv.output_height * (uint64_t)conv.output_width *
                               (uint64_t)conv.output_channels * (uint64_t)conv.kernel_height *
                               (uint64_t)conv.kernel_width * (uint64_t)conv.input_channels;
    CHECK_EQ((int64_t)conv_macs, (int64_t)conv.macs);
    CHECK(conv.macs > 0);

    picotag_op_info pool;
    CHECK_STATUS(PICOTAG_OK, picotag_runner_op_info(runner, 1, &pool), "");
    CHECK(strcmp(pool.type, "GLOBAL_AVGPOOL") == 0);
    CHECK_EQ(1, pool.output_height);
    CHECK_EQ(0, (int64_t)pool.macs);

    picotag_op_info classifier;
    CHECK_STATUS(PICOTAG_OK, picotag_runner_op_info(runner, 2, &classifier), "");
    CHECK(strcmp(classifier.type, "FULLY_CONNECTED") == 0);
    CHECK_EQ(3, classifier.output_channels);
    CHECK_EQ((int64_t)classifier.input_channels * 3, (int64_t)classifier.macs);

    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_runner_op_info(runner, 3, &classifier), "");
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_runner_op_info(runner, -1, &classifier), "");

    picotag_runner_free(runner);
    picotag_model_free(model);
    tm_destroy(description);
}

static void memory_usage_adds_up_to_scratch_bytes(void) {
    test_model *description = tm_resnet18(25, 16, 64);
    picotag_model *model = load_test_model(description, "profile.ptm");
    for (size_t s = 0; s < picotag_kernel_set_count(); s++) {
        const picotag_kernel_set *set = picotag_kernel_set_at(s);
        if (!set->is_supported()) {
            continue;
        }
        size_t one_thread_kernel_scratch = 0;
        for (int threads = 1; threads <= 3; threads++) {
            picotag_error error;
            picotag_runner *runner = NULL;
            const picotag_runner_options options = {.kernels = set->name, .threads = threads};
            CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 64, 64, &options, &runner, &error),
                         error.message);
            picotag_runner_memory memory;
            picotag_runner_memory_usage(runner, &memory);
            CHECK_EQ((int64_t)picotag_runner_scratch_bytes(runner),
                     (int64_t)(memory.activation_bytes + memory.kernel_scratch_bytes));
            /* The stem: 64x64x3 input and 32x32x16 output. */
            CHECK(memory.largest_op_bytes >= 64 * 64 * 3 + 32 * 32 * 16);
            CHECK(memory.activation_bytes > 0);
            /* A model loaded from memory is never given back. */
            CHECK_EQ(0, (int64_t)memory.released_weight_bytes);
            if (threads == 1) {
                one_thread_kernel_scratch = memory.kernel_scratch_bytes;
            }
            CHECK_EQ((int64_t)(one_thread_kernel_scratch * (size_t)threads), (int64_t)memory.kernel_scratch_bytes);
            picotag_runner_free(runner);
        }
    }
    picotag_model_free(model);
    tm_destroy(description);
}

/* A kernel set that packs weights gives back the mapped file pages of the
 * originals. The logits stay those of the same model loaded from memory. */
static void packed_runner_releases_mapped_weights(void) {
    test_model *description = tm_resnet18(26, 64, 64);
    test_model_file file;
    CHECK_EQ(0, tm_serialize(description, &file));
    char directory[] = "/tmp/picotag-profile-XXXXXX";
    CHECK(mkdtemp(directory) != NULL);
    char path[64];
    snprintf(path, sizeof(path), "%s/resnet18.ptm", directory);
    CHECK_EQ(0, tm_write_file(&file, path));

    picotag_error error;
    picotag_model *mapped = NULL;
    picotag_model *copied = NULL;
    CHECK_STATUS(PICOTAG_OK, picotag_model_load(path, &mapped, &error), error.message);
    CHECK_STATUS(PICOTAG_OK, picotag_model_load_memory(file.bytes, file.size, "copy.ptm", &copied, &error),
                 error.message);
    uint8_t *rgb = patterned_image(64, 64);

    picotag_runner *from_file = NULL;
    picotag_runner *from_memory = NULL;
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(mapped, 64, 64, NULL, &from_file, &error), error.message);
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(copied, 64, 64, NULL, &from_memory, &error), error.message);
    picotag_runner_memory memory;
    picotag_runner_memory_usage(from_file, &memory);
    if (memory.packed_weight_bytes > 0) {
        CHECK(memory.released_weight_bytes > 0);
    } else {
        CHECK_EQ(0, (int64_t)memory.released_weight_bytes);
    }

    int32_t file_logits[PICOTAG_MAX_CLASSES];
    int32_t memory_logits[PICOTAG_MAX_CLASSES];
    CHECK_STATUS(PICOTAG_OK, picotag_runner_run(from_file, rgb, file_logits, &error), error.message);
    CHECK_STATUS(PICOTAG_OK, picotag_runner_run(from_memory, rgb, memory_logits, &error), error.message);
    CHECK(memcmp(file_logits, memory_logits, sizeof(int32_t) * TM_COCO_CLASSES) == 0);

    /* A reference runner created afterwards reads the given-back pages
     * again from the file. */
    picotag_runner *reference = NULL;
    const picotag_runner_options reference_options = {.kernels = "reference"};
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(mapped, 64, 64, &reference_options, &reference, &error),
                 error.message);
    int32_t reference_logits[PICOTAG_MAX_CLASSES];
    CHECK_STATUS(PICOTAG_OK, picotag_runner_run(reference, rgb, reference_logits, &error), error.message);
    CHECK(memcmp(reference_logits, memory_logits, sizeof(int32_t) * TM_COCO_CLASSES) == 0);

    picotag_runner_free(reference);
    picotag_runner_free(from_file);
    picotag_runner_free(from_memory);
    picotag_model_free(mapped);
    picotag_model_free(copied);
    free(rgb);
    unlink(path);
    rmdir(directory);
    tm_file_free(&file);
    tm_destroy(description);
}

int main(void) {
    RUN_TEST(profiled_run_matches_plain_run);
    RUN_TEST(op_times_fit_inside_the_run);
    RUN_TEST(profiled_run_rejects_short_array);
    RUN_TEST(op_info_states_shapes_and_macs);
    RUN_TEST(memory_usage_adds_up_to_scratch_bytes);
    RUN_TEST(packed_runner_releases_mapped_weights);
    return test_summary();
}
