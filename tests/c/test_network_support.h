/*
 * Helpers for the tests that run whole networks: loading a model from a
 * test_model description, pseudo-random images, and one runner run that
 * keeps the logits and, on request, every activation value.
 *
 * load_test_model and run_network are static inline because the counters
 * of test_check.h are static in each test's translation unit, so their
 * checks must be compiled into the test that calls them to count there.
 */
#ifndef PICOTAG_TESTS_TEST_NETWORK_SUPPORT_H
#define PICOTAG_TESTS_TEST_NETWORK_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "picotag.h"
#include "test_check.h"
#include "test_model_writer.h"

/* The logits and every value of one run with keep_all_values. */
typedef struct network_run {
    int32_t logits[PICOTAG_MAX_CLASSES];
    uint8_t *values[TM_MAX_VALUES];  /* NULL where the run kept no copy */
    size_t sizes[TM_MAX_VALUES];     /* bytes */
} network_run;

/* Allocates a height x width RGB image (interleaved, 8 bits per channel)
 * filled by a linear congruential generator. The generator starts from
 * seed * 2654435761 + stream, so two tests that pass different streams
 * get different images for the same seed. The caller frees it. */
uint8_t *random_image(int height, int width, uint32_t seed, uint32_t stream);

/* Frees the value copies of `run`. */
void free_network_run(network_run *run);

/* Serializes `description` and loads it from memory as `name`, which
 * appears in the loader's and the runner's error messages. Returns NULL
 * when serializing or loading fails. A failed load is a failed check. */
static inline picotag_model *load_test_model(const test_model *description, const char *name) {
    test_model_file file;
    if (tm_serialize(description, &file) != 0) {
        return NULL;
    }
    picotag_model *model = NULL;
    picotag_error error;
    CHECK_STATUS(PICOTAG_OK, picotag_model_load_memory(file.bytes, file.size, name, &model, &error),
                 error.message);
    tm_file_free(&file);
    return model;
}

/* Runs the model once on `threads` threads and checks that the runner
 * uses that many. With keep_all_values, every value is copied into
 * `run`. Without it, buffers share memory as the plan decides, so only
 * the logits are kept. Returns 0 when the runner cannot be created. */
static inline int run_network(const picotag_model *model, const char *kernels, int threads,
                              int keep_all_values, int height, int width, const uint8_t *rgb,
                              uint32_t value_count, network_run *run) {
    memset(run, 0, sizeof(*run));
    picotag_runner *runner = NULL;
    picotag_error error;
    const picotag_runner_options options = {
        .kernels = kernels, .threads = threads, .keep_all_values = keep_all_values};
    if (!CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, height, width, &options, &runner, &error),
                      error.message)) {
        return 0;
    }
    CHECK_EQ(threads, picotag_runner_threads(runner));
    CHECK_STATUS(PICOTAG_OK, picotag_runner_run(runner, rgb, run->logits, &error), error.message);

    for (uint32_t v = 0; keep_all_values && v < value_count; v++) {
        size_t size = 0;
        if (picotag_runner_value(runner, (int)v, NULL, 0, &size, NULL, NULL, NULL) ==
                PICOTAG_ERROR_INVALID_ARGUMENT &&
            size == 0) {
            continue;  /* the logits, which have no buffer */
        }
        run->values[v] = malloc(size);
        run->sizes[v] = size;
        CHECK_STATUS(PICOTAG_OK,
                     picotag_runner_value(runner, (int)v, run->values[v], size, NULL, NULL, NULL, NULL), "");
    }
    picotag_runner_free(runner);
    return 1;
}

#endif
