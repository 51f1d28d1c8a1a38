/*
 * Evaluates a test_model description directly with the naive operators,
 * without the library's loader, planner or kernels, to check the runner.
 */
#ifndef PICOTAG_TESTS_NAIVE_NETWORK_H
#define PICOTAG_TESTS_NAIVE_NETWORK_H

#include <stdint.h>

#include "test_model_writer.h"

typedef struct naive_network_result {
    int32_t *values[TM_MAX_VALUES];  /* NHWC, NULL for values no operator writes */
    int height[TM_MAX_VALUES];
    int width[TM_MAX_VALUES];
} naive_network_result;

/* Runs the whole model on a height x width RGB image. The final
 * FULLY_CONNECTED output (the logits) is one of the values. Returns 0, or
 * -1 if the input is too small for a window. */
int naive_network_run(const test_model *model, int height, int width, const uint8_t *rgb,
                      naive_network_result *result);
void naive_network_free(naive_network_result *result);

#endif
