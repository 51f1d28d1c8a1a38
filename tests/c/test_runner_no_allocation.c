/*
 * picotag_runner_run allocates nothing: every allocation function the
 * library could reach is wrapped at link time (-Wl,--wrap=...), and the
 * wrappers count calls while a run is in progress.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "picotag.h"
#include "test_check.h"
#include "test_model_writer.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *pointer, size_t size);
int __real_posix_memalign(void **pointer, size_t alignment, size_t size);
void *__real_aligned_alloc(size_t alignment, size_t size);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *pointer, size_t size);
int __wrap_posix_memalign(void **pointer, size_t alignment, size_t size);
void *__wrap_aligned_alloc(size_t alignment, size_t size);

/* Atomic, because worker threads could allocate too. */
static atomic_int counting;
static atomic_int allocations_while_counting;

void *__wrap_malloc(size_t size) {
    allocations_while_counting += counting;
    return __real_malloc(size);
}

void *__wrap_calloc(size_t count, size_t size) {
    allocations_while_counting += counting;
    return __real_calloc(count, size);
}

void *__wrap_realloc(void *pointer, size_t size) {
    allocations_while_counting += counting;
    return __real_realloc(pointer, size);
}

int __wrap_posix_memalign(void **pointer, size_t alignment, size_t size) {
    allocations_while_counting += counting;
    return __real_posix_memalign(pointer, alignment, size);
}

void *__wrap_aligned_alloc(size_t alignment, size_t size) {
    allocations_while_counting += counting;
    return __real_aligned_alloc(alignment, size);
}

static void run_allocates_nothing(int keep_all_values, int threads) {
    test_model *description = tm_mini_resnet(11);
    test_model_file file;
    CHECK_EQ(0, tm_serialize(description, &file));

    picotag_error error;
    picotag_model *model = NULL;
    picotag_status status = picotag_model_load_memory(file.bytes, file.size, "no-allocation.ptm", &model, &error);
    CHECK_STATUS(PICOTAG_OK, status, error.message);

    const int height = 40, width = 36;
    picotag_runner *runner = NULL;
    const picotag_runner_options options = {.kernels = NULL, .threads = threads, .keep_all_values = keep_all_values};
    const int allocations_before_create = allocations_while_counting;
    status = picotag_runner_create(model, height, width, &options, &runner, &error);
    CHECK_STATUS(PICOTAG_OK, status, error.message);
    CHECK_EQ(allocations_before_create, allocations_while_counting);

    uint8_t *rgb = malloc((size_t)height * width * 3);
    for (size_t i = 0; i < (size_t)height * width * 3; i++) {
        rgb[i] = (uint8_t)(i * 37u + 11u);
    }
    int32_t logits[PICOTAG_MAX_CLASSES];

    counting = 1;
    for (int repeat = 0; repeat < 3; repeat++) {
        status = picotag_runner_run(runner, rgb, logits, &error);
        CHECK_STATUS(PICOTAG_OK, status, error.message);
    }
    counting = 0;
    CHECK_EQ(0, allocations_while_counting);

    free(rgb);
    picotag_runner_free(runner);
    picotag_model_free(model);
    tm_file_free(&file);
    tm_destroy(description);
}

static void runner_run_allocates_nothing_with_shared_plan(void) {
    run_allocates_nothing(0, 1);
}

static void runner_run_allocates_nothing_keeping_values(void) {
    run_allocates_nothing(1, 1);
}

/* The workers are started with the runner; a run only hands them rows. */
static void runner_run_allocates_nothing_with_threads(void) {
    run_allocates_nothing(0, 2);
    run_allocates_nothing(1, 3);
}

/* The wrappers must see the library's allocations, or the test above could
 * not fail: creating a runner allocates its scratch. */
static void wrappers_see_library_allocations(void) {
    test_model *description = tm_tiny_model(3);
    test_model_file file;
    CHECK_EQ(0, tm_serialize(description, &file));
    picotag_error error;
    picotag_model *model = NULL;
    CHECK_STATUS(PICOTAG_OK, picotag_model_load_memory(file.bytes, file.size, "tiny.ptm", &model, &error),
                 error.message);

    picotag_runner *runner = NULL;
    counting = 1;
    const picotag_status status = picotag_runner_create(model, 16, 16, NULL, &runner, &error);
    counting = 0;
    CHECK_STATUS(PICOTAG_OK, status, error.message);
    CHECK(allocations_while_counting > 0);
    allocations_while_counting = 0;

    picotag_runner_free(runner);
    picotag_model_free(model);
    tm_file_free(&file);
    tm_destroy(description);
}

int main(void) {
    RUN_TEST(runner_run_allocates_nothing_with_shared_plan);
    RUN_TEST(runner_run_allocates_nothing_keeping_values);
    RUN_TEST(runner_run_allocates_nothing_with_threads);
    RUN_TEST(wrappers_see_library_allocations);
    return test_summary();
}
