/*
 * The runner with several threads per run computes the same integers as
 * with one: the logits and every activation value, bit for bit. The tests
 * cover every kernel set this CPU supports, random models, and input sizes
 * whose output heights are below, equal to and above the thread count.
 * Runners of one model created on several threads at once share its
 * packed weights and compute the same logits.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/runner_internal.h"
#include "kernels/kernels.h"
#include "picotag.h"
#include "test_check.h"
#include "test_model_writer.h"
#include "test_network_support.h"

static const int thread_counts[] = {2, 3, 5};
#define THREAD_COUNT_CASES (sizeof(thread_counts) / sizeof(thread_counts[0]))

/* The random_image stream of this test, unlike those of the other tests. */
#define IMAGE_STREAM 3

/* Returns the number of (kernel set, thread count) pairs whose logits or
 * values differ from the same set on one thread. */
static int compare_thread_counts(const test_model *description, const picotag_model *model, int height,
                                 int width, uint32_t image_seed) {
    uint8_t *rgb = random_image(height, width, image_seed, IMAGE_STREAM);
    const size_t logit_bytes = sizeof(int32_t) * (size_t)picotag_model_class_count(model);
    int failing = 0;

    for (size_t s = 0; s < picotag_kernel_set_count(); s++) {
        const picotag_kernel_set *set = picotag_kernel_set_at(s);
        if (!set->is_supported()) {
            continue;
        }
        network_run expected;
        run_network(model, set->name, 1, 1, height, width, rgb, description->value_count, &expected);

        for (size_t t = 0; t < THREAD_COUNT_CASES; t++) {
            network_run shared_plan;
            run_network(model, set->name, thread_counts[t], 0, height, width, rgb, description->value_count,
                        &shared_plan);
            int same = memcmp(shared_plan.logits, expected.logits, logit_bytes) == 0;
            if (!same) {
                printf("  %s, %d threads, %dx%d, shared buffers: logits differ, first: expected %d, got %d\n",
                       set->name, thread_counts[t], height, width, expected.logits[0], shared_plan.logits[0]);
            }

            network_run actual;
            run_network(model, set->name, thread_counts[t], 1, height, width, rgb, description->value_count,
                        &actual);
            if (memcmp(actual.logits, expected.logits, logit_bytes) != 0) {
                same = 0;
                printf("  %s, %d threads, %dx%d: logits differ, first: expected %d, got %d\n", set->name,
                       thread_counts[t], height, width, expected.logits[0], actual.logits[0]);
            }
            for (uint32_t v = 0; v < description->value_count; v++) {
                if (expected.values[v] == NULL) {
                    continue;
                }
                if (actual.sizes[v] != expected.sizes[v] ||
                    memcmp(actual.values[v], expected.values[v], expected.sizes[v]) != 0) {
                    printf("  %s, %d threads, %dx%d: value %u differs\n", set->name, thread_counts[t], height,
                           width, v);
                    same = 0;
                }
            }
            failing += !same;
            free_network_run(&actual);
        }
        free_network_run(&expected);
    }
    free(rgb);
    return failing;
}

static void threads_match_one_thread_on_mini_resnet(void) {
    /* Output heights run from 1 (every thread but one idle) upward. */
    static const int sizes[][2] = {{1, 1}, {3, 40}, {9, 9}, {17, 23}, {40, 36}};
    for (uint64_t seed = 1; seed <= 3; seed++) {
        test_model *description = tm_mini_resnet(seed);
        picotag_model *model = load_test_model(description, "threads.ptm");
        for (size_t i = 0; model != NULL && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            CHECK_EQ(0, compare_thread_counts(description, model, sizes[i][0], sizes[i][1],
                                              (uint32_t)(seed * 10 + i)));
        }
        picotag_model_free(model);
        tm_destroy(description);
    }
}

static void threads_match_one_thread_on_resnet18(void) {
    static const int sizes[][2] = {{64, 64}, {45, 37}};
    test_model *description = tm_resnet18(7, 16, 64);
    picotag_model *model = load_test_model(description, "threads.ptm");
    for (size_t i = 0; model != NULL && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        CHECK_EQ(0, compare_thread_counts(description, model, sizes[i][0], sizes[i][1], (uint32_t)(200 + i)));
    }
    picotag_model_free(model);
    tm_destroy(description);
}

/* A runner is reused for many runs: later runs give the first run's logits. */
static void threaded_runner_repeats_its_logits(void) {
    test_model *description = tm_mini_resnet(4);
    picotag_model *model = load_test_model(description, "threads.ptm");
    uint8_t *rgb = random_image(33, 31, 4, IMAGE_STREAM);
    picotag_error error;
    picotag_runner *runner = NULL;
    const picotag_runner_options options = {.kernels = NULL, .threads = 3, .keep_all_values = 0};
    CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 33, 31, &options, &runner, &error), error.message);

    int32_t first[PICOTAG_MAX_CLASSES];
    int32_t again[PICOTAG_MAX_CLASSES];
    const size_t logit_bytes = sizeof(int32_t) * (size_t)picotag_model_class_count(model);
    CHECK_STATUS(PICOTAG_OK, picotag_runner_run(runner, rgb, first, &error), error.message);
    int differing_runs = 0;
    for (int repeat = 0; repeat < 200; repeat++) {
        CHECK_STATUS(PICOTAG_OK, picotag_runner_run(runner, rgb, again, &error), error.message);
        differing_runs += memcmp(first, again, logit_bytes) != 0;
    }
    CHECK_EQ(0, differing_runs);

    picotag_runner_free(runner);
    free(rgb);
    picotag_model_free(model);
    tm_destroy(description);
}

static void runner_rejects_too_many_threads(void) {
    test_model *description = tm_tiny_model(2);
    picotag_model *model = load_test_model(description, "threads.ptm");
    picotag_error error;
    picotag_runner *runner = NULL;
    const picotag_runner_options options = {.kernels = NULL, .threads = PICOTAG_MAX_THREADS + 1};
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 picotag_runner_create(model, 16, 16, &options, &runner, &error), error.message);
    CHECK_CONTAINS(error.message, "threads is 257");
    CHECK(runner == NULL);
    picotag_model_free(model);
    tm_destroy(description);
}

static void runner_rejects_invalid_spin_setting(void) {
    test_model *description = tm_tiny_model(2);
    picotag_model *model = load_test_model(description, "threads.ptm");
    const picotag_runner_options options = {.kernels = NULL, .threads = 2};
    static const char *const invalid[] = {"abc", "12x", "-1", "+5", " 200", "1000001", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        picotag_error error;
        picotag_runner *runner = NULL;
        setenv("PICOTAG_SPIN_MICROSECONDS", invalid[i], 1);
        CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                     picotag_runner_create(model, 16, 16, &options, &runner, &error), invalid[i]);
        CHECK_CONTAINS(error.message, "invalid PICOTAG_SPIN_MICROSECONDS");
        CHECK_CONTAINS(error.message, invalid[i]);
        CHECK(runner == NULL);
    }
    static const char *const valid[] = {"0", "1000000", ""};
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        picotag_error error;
        picotag_runner *runner = NULL;
        setenv("PICOTAG_SPIN_MICROSECONDS", valid[i], 1);
        CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 16, 16, &options, &runner, &error), error.message);
        picotag_runner_free(runner);
    }
    unsetenv("PICOTAG_SPIN_MICROSECONDS");
    picotag_model_free(model);
    tm_destroy(description);
}

/* Creating and freeing runners with workers that never ran a task joins
 * them; ASan and TSan builds report a leak or race here if it does not. */
static void threaded_runner_frees_without_a_run(void) {
    test_model *description = tm_tiny_model(5);
    picotag_model *model = load_test_model(description, "threads.ptm");
    int created = 0;
    for (int threads = 2; threads <= 8; threads++) {
        picotag_error error;
        picotag_runner *runner = NULL;
        const picotag_runner_options options = {.kernels = NULL, .threads = threads};
        created += picotag_runner_create(model, 16, 16, &options, &runner, &error) == PICOTAG_OK;
        picotag_runner_free(runner);
    }
    CHECK_EQ(7, created);
    picotag_model_free(model);
    tm_destroy(description);
}

/* One thread's share of the concurrent-runner test: create a runner, run
 * it several times, compare with `expected`, free it. CHECK is not used on
 * these threads; the main thread checks the counts. */
typedef struct runner_thread_task {
    const picotag_model *model;
    const char *kernels;
    int height;
    int width;
    const uint8_t *rgb;
    const int32_t *expected;
    size_t logit_bytes;
    int create_failures;
    int differing_runs;
} runner_thread_task;

static void *run_own_runner(void *argument) {
    runner_thread_task *task = argument;
    const picotag_runner_options options = {.kernels = task->kernels, .threads = 1, .keep_all_values = 0};
    picotag_runner *runner = NULL;
    picotag_error error;
    if (picotag_runner_create(task->model, task->height, task->width, &options, &runner, &error) != PICOTAG_OK) {
        task->create_failures++;
        return NULL;
    }
    int32_t logits[PICOTAG_MAX_CLASSES];
    for (int repeat = 0; repeat < 20; repeat++) {
        if (picotag_runner_run(runner, task->rgb, logits, &error) != PICOTAG_OK ||
            memcmp(logits, task->expected, task->logit_bytes) != 0) {
            task->differing_runs++;
        }
    }
    picotag_runner_free(runner);
    return NULL;
}

/* Runners of one model, kernel set and input size share one block of
 * packed weights, and another input size gets its own block. The block
 * lives until its last runner is freed. */
static void runners_share_packed_weights(void) {
    test_model *description = tm_resnet18(11, 16, 32);
    picotag_model *model = load_test_model(description, "shared.ptm");
    if (model == NULL) {
        tm_destroy(description);
        return;
    }
    uint8_t *rgb = random_image(40, 36, 11, IMAGE_STREAM);
    const size_t logit_bytes = sizeof(int32_t) * (size_t)picotag_model_class_count(model);

    for (size_t s = 0; s < picotag_kernel_set_count(); s++) {
        const picotag_kernel_set *set = picotag_kernel_set_at(s);
        if (!set->is_supported()) {
            continue;
        }
        const picotag_runner_options options = {.kernels = set->name, .threads = 1, .keep_all_values = 0};
        picotag_runner *first = NULL;
        picotag_runner *second = NULL;
        picotag_runner *other_size = NULL;
        picotag_error error;
        CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 40, 36, &options, &first, &error), error.message);
        CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 40, 36, &options, &second, &error), error.message);
        CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 24, 24, &options, &other_size, &error),
                     error.message);
        if (first == NULL || second == NULL || other_size == NULL) {
            picotag_runner_free(first);
            picotag_runner_free(second);
            picotag_runner_free(other_size);
            continue;
        }
        const int packs = set->conv2d_u8i8_pack != NULL;
        CHECK(first->packed == second->packed);
        CHECK(packs ? first->packed != NULL : first->packed == NULL);
        CHECK(packs ? other_size->packed != first->packed : other_size->packed == NULL);

        int32_t expected[PICOTAG_MAX_CLASSES];
        CHECK_STATUS(PICOTAG_OK, picotag_runner_run(first, rgb, expected, &error), error.message);
        picotag_runner_free(first);
        int32_t again[PICOTAG_MAX_CLASSES];
        CHECK_STATUS(PICOTAG_OK, picotag_runner_run(second, rgb, again, &error), error.message);
        CHECK(memcmp(expected, again, logit_bytes) == 0);

        enum { THREADS = 4 };
        pthread_t threads[THREADS];
        runner_thread_task tasks[THREADS];
        int started = 0;
        for (int t = 0; t < THREADS; t++) {
            tasks[t] = (runner_thread_task){.model = model, .kernels = set->name, .height = 40, .width = 36,
                                            .rgb = rgb, .expected = expected, .logit_bytes = logit_bytes};
            started += pthread_create(&threads[t], NULL, run_own_runner, &tasks[t]) == 0;
        }
        CHECK_EQ(THREADS, started);
        for (int t = 0; t < started; t++) {
            pthread_join(threads[t], NULL);
            CHECK_EQ(0, tasks[t].create_failures);
            CHECK_EQ(0, tasks[t].differing_runs);
        }

        picotag_runner_free(second);
        picotag_runner_free(other_size);
        CHECK(model->packed->entries == NULL);
    }
    free(rgb);
    picotag_model_free(model);
    tm_destroy(description);
}

int main(void) {
    RUN_TEST(threads_match_one_thread_on_mini_resnet);
    RUN_TEST(threads_match_one_thread_on_resnet18);
    RUN_TEST(threaded_runner_repeats_its_logits);
    RUN_TEST(runner_rejects_too_many_threads);
    RUN_TEST(runner_rejects_invalid_spin_setting);
    RUN_TEST(threaded_runner_frees_without_a_run);
    RUN_TEST(runners_share_packed_weights);
    return test_summary();
}
