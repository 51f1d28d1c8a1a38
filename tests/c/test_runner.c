/* The runner against a naive evaluation of the same model, and its planning errors. */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "naive_network.h"
#include "picotag.h"
#include "test_check.h"
#include "test_model_writer.h"
#include "test_network_support.h"

/* The random_image stream of this test, unlike those of the other tests. */
#define IMAGE_STREAM 1

/* Runs `model` at height x width with both memory plans and compares the
 * logits and, with keep_all_values, every activation with the naive
 * evaluation. Returns the number of mismatching values. */
static int compare_with_naive(const test_model *description, const picotag_model *model, int height,
                              int width, uint32_t image_seed) {
    uint8_t *rgb = random_image(height, width, image_seed, IMAGE_STREAM);
    naive_network_result expected;
    CHECK_EQ(0, naive_network_run(description, height, width, rgb, &expected));
    const uint32_t logits_value = description->ops[description->op_count - 1][2];
    const int classes = picotag_model_class_count(model);
    int mismatches = 0;

    for (int keep_all = 0; keep_all <= 1; keep_all++) {
        picotag_runner *runner = NULL;
        picotag_error error;
        const picotag_runner_options options = {.kernels = "reference", .threads = 1, .keep_all_values = keep_all};
        picotag_status status = picotag_runner_create(model, height, width, &options, &runner, &error);
        if (!CHECK_STATUS(PICOTAG_OK, status, error.message)) {
            mismatches++;
            continue;
        }

        int32_t logits[PICOTAG_MAX_CLASSES];
        status = picotag_runner_run(runner, rgb, logits, &error);
        CHECK_STATUS(PICOTAG_OK, status, error.message);
        if (memcmp(logits, expected.values[logits_value], sizeof(int32_t) * (size_t)classes) != 0) {
            printf("  %dx%d keep_all %d: logits differ, first: expected %d, got %d\n", height, width,
                   keep_all, expected.values[logits_value][0], logits[0]);
            mismatches++;
        }

        for (uint32_t v = 0; keep_all && v < description->value_count; v++) {
            if (v == logits_value || expected.values[v] == NULL) {
                continue;
            }
            const size_t count = (size_t)expected.height[v] * expected.width[v] * description->values[v].channels;
            uint8_t *actual = malloc(count);
            size_t size = 0;
            int h = 0, w = 0, c = 0;
            status = picotag_runner_value(runner, (int)v, actual, count, &size, &h, &w, &c);
            int same = status == PICOTAG_OK && size == count && h == expected.height[v] && w == expected.width[v];
            for (size_t i = 0; same && i < count; i++) {
                const int32_t got = description->values[v].dtype == TM_I8 ? (int32_t)(int8_t)actual[i] : actual[i];
                same = got == expected.values[v][i];
            }
            if (!same) {
                printf("  %dx%d: value %u differs from the naive evaluation\n", height, width, v);
                mismatches++;
            }
            free(actual);
        }
        picotag_runner_free(runner);
    }

    naive_network_free(&expected);
    free(rgb);
    return mismatches;
}

static void runner_matches_naive_network_on_mini_resnet(void) {
    static const int sizes[][2] = {{32, 32}, {17, 23}, {9, 9}, {1, 1}, {64, 48}, {3, 40}};
    for (uint64_t seed = 1; seed <= 4; seed++) {
        test_model *description = tm_mini_resnet(seed);
        picotag_model *model = load_test_model(description, "runner-test.ptm");
        for (size_t i = 0; model != NULL && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            CHECK_EQ(0, compare_with_naive(description, model, sizes[i][0], sizes[i][1], (uint32_t)(seed * 10 + i)));
        }
        picotag_model_free(model);
        tm_destroy(description);
    }
}

static void runner_matches_naive_network_on_tiny_model(void) {
    test_model *description = tm_tiny_model(77);
    picotag_model *model = load_test_model(description, "runner-test.ptm");
    CHECK_EQ(0, compare_with_naive(description, model, 32, 32, 5));
    CHECK_EQ(0, compare_with_naive(description, model, 8, 13, 6));
    picotag_model_free(model);
    tm_destroy(description);
}

/* The logits must vary with the image, or the comparisons above would
 * pass on a network that ignores its input. */
static void runner_logits_depend_on_the_image(void) {
    test_model *description = tm_mini_resnet(3);
    picotag_model *model = load_test_model(description, "runner-test.ptm");
    picotag_runner *runner = NULL;
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 32, 32, NULL, &runner, NULL), "");
    uint8_t *first = random_image(32, 32, 1, IMAGE_STREAM);
    uint8_t *second = random_image(32, 32, 2, IMAGE_STREAM);
    int32_t logits_first[5], logits_second[5], logits_again[5];
    CHECK_STATUS(PICOTAG_OK, picotag_runner_run(runner, first, logits_first, NULL), "");
    CHECK_STATUS(PICOTAG_OK, picotag_runner_run(runner, second, logits_second, NULL), "");
    CHECK_STATUS(PICOTAG_OK, picotag_runner_run(runner, first, logits_again, NULL), "");
    CHECK(memcmp(logits_first, logits_second, sizeof(logits_first)) != 0);
    CHECK(memcmp(logits_first, logits_again, sizeof(logits_first)) == 0);
    free(first);
    free(second);
    picotag_runner_free(runner);
    picotag_model_free(model);
    tm_destroy(description);
}

/* Returns floor(numerator / denominator) for denominator > 0, computed
 * differently from the runner's version. */
static int64_t floored_quotient(int64_t numerator, int64_t denominator) {
    int64_t quotient = numerator / denominator;
    if (quotient * denominator > numerator) {
        quotient--;
    }
    return quotient;
}

/* picotag_runner_run_views: the per-class mean of the views' logits,
 * rounded half up, and picotag_runner_run for one view. */
static void runner_averages_views(void) {
    test_model *description = tm_mini_resnet(3);
    picotag_model *model = load_test_model(description, "runner-test.ptm");
    picotag_runner *runner = NULL;
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 32, 32, NULL, &runner, NULL), "");

    enum { VIEWS = 3, CLASSES = 5, VIEW_BYTES = 32 * 32 * 3 };
    uint8_t *views = malloc(VIEWS * VIEW_BYTES);
    int32_t single[VIEWS][CLASSES];
    for (int v = 0; v < VIEWS; v++) {
        uint8_t *image = random_image(32, 32, 10 + (uint32_t)v, IMAGE_STREAM);
        memcpy(views + v * VIEW_BYTES, image, VIEW_BYTES);
        free(image);
        CHECK_STATUS(PICOTAG_OK, picotag_runner_run(runner, views + v * VIEW_BYTES, single[v], NULL), "");
    }

    for (int count = 1; count <= VIEWS; count++) {
        int32_t mean[CLASSES];
        picotag_error error;
        CHECK_STATUS(PICOTAG_OK, picotag_runner_run_views(runner, views, count, mean, &error),
                     error.message);
        for (int c = 0; c < CLASSES; c++) {
            int64_t sum = 0;
            for (int v = 0; v < count; v++) {
                sum += single[v][c];
            }
            CHECK_EQ(floored_quotient(2 * sum + count, 2 * (int64_t)count), (int64_t)mean[c]);
        }
    }

    int32_t unused[CLASSES];
    picotag_error error;
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_runner_run_views(runner, views, 0, unused, &error),
                 error.message);
    free(views);
    picotag_runner_free(runner);
    picotag_model_free(model);
    tm_destroy(description);
}

static void runner_shared_plan_uses_less_scratch(void) {
    test_model *description = tm_mini_resnet(2);
    picotag_model *model = load_test_model(description, "runner-test.ptm");
    picotag_runner *shared = NULL;
    picotag_runner *separate = NULL;
    const picotag_runner_options keep = {.kernels = NULL, .threads = 0, .keep_all_values = 1};
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 32, 32, NULL, &shared, NULL), "");
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 32, 32, &keep, &separate, NULL), "");
    CHECK(picotag_runner_scratch_bytes(shared) > 0);
    CHECK(picotag_runner_scratch_bytes(shared) < picotag_runner_scratch_bytes(separate));
    picotag_runner_free(shared);
    picotag_runner_free(separate);
    picotag_model_free(model);
    tm_destroy(description);
}

static void runner_value_rejects_bad_requests(void) {
    test_model *description = tm_tiny_model(5);
    picotag_model *model = load_test_model(description, "runner-test.ptm");
    picotag_runner *shared = NULL;
    picotag_runner *keep = NULL;
    const picotag_runner_options keep_options = {.kernels = NULL, .threads = 1, .keep_all_values = 1};
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 16, 16, NULL, &shared, NULL), "");
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 16, 16, &keep_options, &keep, NULL), "");

    uint8_t buffer[16 * 16 * 3];
    size_t size = 0;
    int h = 0, w = 0, c = 0;
    /* Without keep_all_values the buffers are shared, so nothing is readable. */
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 picotag_runner_value(shared, 1, buffer, sizeof(buffer), &size, &h, &w, &c), "");
    /* Value 3 is the I32 logits. */
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 picotag_runner_value(keep, 3, buffer, sizeof(buffer), &size, &h, &w, &c), "");
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 picotag_runner_value(keep, 4, buffer, sizeof(buffer), &size, &h, &w, &c), "");
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 picotag_runner_value(keep, -1, buffer, sizeof(buffer), &size, &h, &w, &c), "");
    /* Too small a buffer still reports the size needed: value 1 is 8x8x8. */
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_runner_value(keep, 1, buffer, 10, &size, &h, &w, &c), "");
    CHECK_EQ(8 * 8 * 8, size);
    CHECK_EQ(8, h);
    CHECK_EQ(8, w);
    CHECK_EQ(8, c);
    /* Value 0 is a copy of the image of the last run. */
    uint8_t *rgb = random_image(16, 16, 9, IMAGE_STREAM);
    int32_t logits[3];
    CHECK_STATUS(PICOTAG_OK, picotag_runner_run(keep, rgb, logits, NULL), "");
    CHECK_STATUS(PICOTAG_OK, picotag_runner_value(keep, 0, buffer, sizeof(buffer), &size, &h, &w, &c), "");
    CHECK_EQ(16 * 16 * 3, size);
    CHECK(memcmp(buffer, rgb, size) == 0);

    free(rgb);
    picotag_runner_free(shared);
    picotag_runner_free(keep);
    picotag_model_free(model);
    tm_destroy(description);
}

static void runner_create_rejects_invalid_arguments(void) {
    test_model *description = tm_tiny_model(5);
    picotag_model *model = load_test_model(description, "runner-test.ptm");
    picotag_runner *runner = (picotag_runner *)&runner;  /* must be reset to NULL */
    picotag_error error;

    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_runner_create(model, 0, 32, NULL, &runner, &error),
                 error.message);
    CHECK(runner == NULL);
    CHECK_CONTAINS(error.message, "input size 0x32 is invalid");
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_runner_create(model, 32, -4, NULL, &runner, &error),
                 error.message);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_runner_create(NULL, 32, 32, NULL, &runner, &error),
                 error.message);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_runner_create(model, 32, 32, NULL, NULL, NULL), "");
    const picotag_runner_options negative_threads = {.kernels = NULL, .threads = -1, .keep_all_values = 0};
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 picotag_runner_create(model, 32, 32, &negative_threads, &runner, &error), error.message);
    CHECK_CONTAINS(error.message, "threads is -1");

    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 32, 32, NULL, &runner, &error), error.message);
    int32_t logits[3];
    uint8_t rgb[32 * 32 * 3] = {0};
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_runner_run(runner, NULL, logits, &error), error.message);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_runner_run(runner, rgb, NULL, &error), error.message);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_runner_run(NULL, rgb, logits, NULL), "");
    picotag_runner_free(runner);
    picotag_runner_free(NULL);

    picotag_model_free(model);
    tm_destroy(description);
}

static void runner_selects_kernels_by_name(void) {
    test_model *description = tm_tiny_model(5);
    picotag_model *model = load_test_model(description, "runner-test.ptm");
    picotag_runner *runner = NULL;
    picotag_error error;

    /* Without a name, the fastest set that this CPU supports. */
    unsetenv("PICOTAG_KERNELS");
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 16, 16, NULL, &runner, &error), error.message);
    CHECK_CONTAINS(picotag_runner_kernels(runner), picotag_kernel_set_best()->name);
    picotag_runner_free(runner);

    const picotag_runner_options unknown = {.kernels = "avx9000", .threads = 1, .keep_all_values = 0};
    CHECK_STATUS(PICOTAG_ERROR_UNSUPPORTED, picotag_runner_create(model, 16, 16, &unknown, &runner, &error),
                 error.message);
    CHECK_CONTAINS(error.message, "unknown kernel set \"avx9000\"");
    CHECK_CONTAINS(error.message, "available: ");
    CHECK_CONTAINS(error.message, "reference)");

    setenv("PICOTAG_KERNELS", "neon-from-env", 1);
    CHECK_STATUS(PICOTAG_ERROR_UNSUPPORTED, picotag_runner_create(model, 16, 16, NULL, &runner, &error),
                 error.message);
    CHECK_CONTAINS(error.message, "neon-from-env");
    /* An explicit name wins over the environment. */
    const picotag_runner_options reference = {.kernels = "reference", .threads = 1, .keep_all_values = 0};
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 16, 16, &reference, &runner, &error), error.message);
    picotag_runner_free(runner);
    setenv("PICOTAG_KERNELS", "reference", 1);
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 16, 16, NULL, &runner, &error), error.message);
    CHECK_CONTAINS(picotag_runner_kernels(runner), "reference");
    picotag_runner_free(runner);
    unsetenv("PICOTAG_KERNELS");

    /* Every built-in set by name: used when this CPU supports it, rejected
     * with a clear message otherwise. */
    for (size_t i = 0; i < picotag_kernel_set_count(); i++) {
        const picotag_kernel_set *set = picotag_kernel_set_at(i);
        const picotag_runner_options named = {.kernels = set->name, .threads = 1, .keep_all_values = 0};
        const picotag_status status = picotag_runner_create(model, 16, 16, &named, &runner, &error);
        if (set->is_supported()) {
            CHECK_STATUS(PICOTAG_OK, status, error.message);
            CHECK_CONTAINS(picotag_runner_kernels(runner), set->name);
            picotag_runner_free(runner);
        } else {
            CHECK_STATUS(PICOTAG_ERROR_UNSUPPORTED, status, error.message);
            CHECK_CONTAINS(error.message, "is not supported by this CPU");
        }
    }

    picotag_model_free(model);
    tm_destroy(description);
}

static void runner_rejects_input_too_small_for_a_window(void) {
    test_model *description = tm_create(11);
    const uint32_t features = tm_add_value(description, TM_U8, 4);
    const uint32_t pooled = tm_add_value(description, TM_U8, 4);
    const uint32_t logits = tm_add_value(description, TM_I32, 2);
    tm_add_conv(description, 0, features, TM_NONE, 7, 2, 0);
    tm_add_global_avgpool(description, features, pooled, 1u << 30, 30);
    tm_add_fully_connected(description, pooled, logits);
    tm_add_label(description, "a", "가", "", "", 0, 1.0f);
    tm_add_label(description, "b", "나", "", "", 0, 1.0f);
    picotag_model *model = load_test_model(description, "runner-test.ptm");

    picotag_runner *runner = NULL;
    picotag_error error;
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_runner_create(model, 6, 20, NULL, &runner, &error),
                 error.message);
    CHECK_CONTAINS(error.message, "runner-test.ptm: input 6x20 is too small: op 0 (CONV2D)");
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 7, 7, NULL, &runner, &error), error.message);
    picotag_runner_free(runner);

    picotag_model_free(model);
    tm_destroy(description);
}

/* A residual whose spatial size matches the output only for even inputs:
 * a 2x2 stride 2 main path against a 1x1 stride 2 shortcut. */
static void runner_rejects_residual_size_mismatch(void) {
    test_model *description = tm_create(12);
    description->input_height = 16;
    description->input_width = 16;
    description->resize_short = 16;
    const uint32_t a = tm_add_value(description, TM_U8, 4);
    const uint32_t b = tm_add_value(description, TM_U8, 4);
    const uint32_t shortcut = tm_add_value(description, TM_I8, 4);
    const uint32_t c = tm_add_value(description, TM_U8, 4);
    const uint32_t pooled = tm_add_value(description, TM_U8, 4);
    const uint32_t logits = tm_add_value(description, TM_I32, 2);
    tm_add_conv(description, 0, a, TM_NONE, 3, 1, 1);
    tm_add_conv(description, a, b, TM_NONE, 2, 2, 0);
    tm_add_conv(description, a, shortcut, TM_NONE, 1, 2, 0);
    tm_add_conv(description, b, c, shortcut, 3, 1, 1);
    tm_add_global_avgpool(description, c, pooled, 1u << 30, 30);
    tm_add_fully_connected(description, pooled, logits);
    tm_add_label(description, "a", "가", "", "", 0, 1.0f);
    tm_add_label(description, "b", "나", "", "", 0, 1.0f);
    picotag_model *model = load_test_model(description, "runner-test.ptm");

    picotag_runner *runner = NULL;
    picotag_error error;
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 16, 16, NULL, &runner, &error), error.message);
    picotag_runner_free(runner);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_runner_create(model, 15, 16, NULL, &runner, &error),
                 error.message);
    CHECK_CONTAINS(error.message, "op 3 (CONV2D) adds residual value 3 of 8x8 to an output of 7x8");
    CHECK_EQ(0, compare_with_naive(description, model, 16, 16, 3));

    picotag_model_free(model);
    tm_destroy(description);
}

static test_model *pool_only_model(uint32_t s0) {
    test_model *description = tm_create(13);
    const uint32_t pooled = tm_add_value(description, TM_U8, 3);
    const uint32_t logits = tm_add_value(description, TM_I32, 2);
    tm_add_global_avgpool(description, 0, pooled, 1717986918u, s0);
    tm_add_fully_connected(description, pooled, logits);
    tm_add_label(description, "a", "가", "", "", 0, 1.0f);
    tm_add_label(description, "b", "나", "", "", 0, 1.0f);
    return description;
}

static void runner_rejects_average_pool_sum_overflow(void) {
    test_model *description = pool_only_model(31);
    picotag_model *model = load_test_model(description, "runner-test.ptm");
    picotag_runner *runner = NULL;
    picotag_error error;
    /* 2902 * 2902 * 255 >= 2^31, 2900 * 2900 * 255 < 2^31. */
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_runner_create(model, 2902, 2902, NULL, &runner, &error),
                 error.message);
    CHECK_CONTAINS(error.message, "averages 8421604 positions");
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 2900, 2900, NULL, &runner, &error), error.message);
    picotag_runner_free(runner);
    CHECK_EQ(0, compare_with_naive(description, model, 5, 7, 1));
    picotag_model_free(model);
    tm_destroy(description);
}

static void runner_rejects_average_pool_shift_above_62(void) {
    test_model *description = pool_only_model(40);
    picotag_model *model = load_test_model(description, "runner-test.ptm");
    picotag_runner *runner = NULL;
    picotag_error error;
    /* n = 2^23: k = 23 and m = m0, so the shift is 40 + 23 = 63. */
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_runner_create(model, 4096, 2048, NULL, &runner, &error),
                 error.message);
    CHECK_CONTAINS(error.message, "needs a shift above 62");
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 2048, 2048, NULL, &runner, &error), error.message);
    picotag_runner_free(runner);
    picotag_model_free(model);
    tm_destroy(description);
}

int main(void) {
    RUN_TEST(runner_matches_naive_network_on_mini_resnet);
    RUN_TEST(runner_matches_naive_network_on_tiny_model);
    RUN_TEST(runner_logits_depend_on_the_image);
    RUN_TEST(runner_averages_views);
    RUN_TEST(runner_shared_plan_uses_less_scratch);
    RUN_TEST(runner_value_rejects_bad_requests);
    RUN_TEST(runner_create_rejects_invalid_arguments);
    RUN_TEST(runner_selects_kernels_by_name);
    RUN_TEST(runner_rejects_input_too_small_for_a_window);
    RUN_TEST(runner_rejects_residual_size_mismatch);
    RUN_TEST(runner_rejects_average_pool_sum_overflow);
    RUN_TEST(runner_rejects_average_pool_shift_above_62);
    return test_summary();
}
