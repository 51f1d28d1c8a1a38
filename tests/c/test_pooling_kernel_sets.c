/*
 * Every kernel set's max pooling, global average pooling and fully
 * connected layer against the reference kernels, bit for bit, and every
 * set's table entry for each operator. A set that this CPU cannot run is
 * skipped with a message.
 */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "test_check.h"

static uint64_t random_state = 0x853C49E6748FEA9Bu;

static uint32_t next_random(void) {
    random_state ^= random_state << 13;
    random_state ^= random_state >> 7;
    random_state ^= random_state << 17;
    return (uint32_t)(random_state >> 16);
}

static int random_range(int lo, int hi) {
    return lo + (int)(next_random() % (uint32_t)(hi - lo + 1));
}

static const picotag_kernel_set *tested_sets[16];
static size_t tested_set_count;

static void kernel_sets_route_every_operator(void) {
    for (size_t i = 0; i < picotag_kernel_set_count(); i++) {
        const picotag_kernel_set *set = picotag_kernel_set_at(i);
        CHECK(set->name != NULL);
        CHECK(set->is_supported != NULL);
        CHECK(set->conv2d_u8i8 != NULL);
        CHECK(set->maxpool_u8 != NULL);
        CHECK(set->global_avgpool_u8 != NULL);
        CHECK(set->fully_connected_u8i8 != NULL);
        /* Packing needs both its size and its function. */
        CHECK((set->conv2d_u8i8_packed_bytes == NULL) == (set->conv2d_u8i8_pack == NULL));
    }
    CHECK(picotag_kernel_set_at(picotag_kernel_set_count()) == NULL);
}

/* Runs one max pooling with every tested set on output rows [row_begin,
 * row_end) and returns the number of sets whose output differs from the
 * reference's, including bytes outside those rows. */
static int compare_maxpool(const picotag_maxpool_params *shape, uint32_t row_begin, uint32_t row_end) {
    const size_t in_count = (size_t)shape->input_height * shape->input_width * shape->channels;
    const size_t out_count = (size_t)shape->output_height * shape->output_width * shape->channels;
    uint8_t *input = malloc(in_count);
    uint8_t *expected = malloc(out_count);
    uint8_t *actual = malloc(out_count);
    for (size_t i = 0; i < in_count; i++) {
        input[i] = (uint8_t)next_random();
    }

    picotag_maxpool_params params = *shape;
    params.input = input;
    params.output_row_begin = row_begin;
    params.output_row_end = row_end;
    params.output = expected;
    memset(expected, 0x33, out_count);
    picotag_maxpool_u8_reference(&params);

    int failing_sets = 0;
    for (size_t s = 0; s < tested_set_count; s++) {
        params.output = actual;
        memset(actual, 0x33, out_count);
        tested_sets[s]->maxpool_u8(&params);
        if (memcmp(actual, expected, out_count) != 0) {
            printf("  %s: max pool %ux%ux%u, kernel %ux%u stride %ux%u pad %ux%u, rows %u to %u differs\n",
                   tested_sets[s]->name, shape->input_height, shape->input_width, shape->channels,
                   shape->kernel_height, shape->kernel_width, shape->stride_height, shape->stride_width,
                   shape->pad_height, shape->pad_width, row_begin, row_end);
            failing_sets++;
        }
    }
    free(input);
    free(expected);
    free(actual);
    return failing_sets;
}

static uint32_t output_size(uint32_t in, uint32_t kernel, uint32_t stride, uint32_t pad) {
    return (in + 2 * pad - kernel) / stride + 1;
}

static void maxpool_sets_match_reference_on_random_shapes(void) {
    static const uint32_t channels[] = {1, 3, 16, 31, 32, 33, 64, 65, 100, 130};
    int failing = 0;
    for (int n = 0; n < 300; n++) {
        picotag_maxpool_params shape;
        memset(&shape, 0, sizeof(shape));
        shape.kernel_height = (uint32_t)random_range(1, 7);
        shape.kernel_width = next_random() % 2 ? shape.kernel_height : (uint32_t)random_range(1, 7);
        shape.stride_height = (uint32_t)random_range(1, 3);
        shape.stride_width = (uint32_t)random_range(1, 3);
        shape.pad_height = (uint32_t)random_range(0, (int)shape.kernel_height - 1);
        shape.pad_width = (uint32_t)random_range(0, (int)shape.kernel_width - 1);
        const int min_h = (int)shape.kernel_height - 2 * (int)shape.pad_height;
        const int min_w = (int)shape.kernel_width - 2 * (int)shape.pad_width;
        shape.input_height = (uint32_t)random_range(min_h > 1 ? min_h : 1, 12);
        shape.input_width = (uint32_t)random_range(min_w > 1 ? min_w : 1, 12);
        shape.channels = channels[next_random() % 10];
        shape.output_height = output_size(shape.input_height, shape.kernel_height, shape.stride_height,
                                          shape.pad_height);
        shape.output_width = output_size(shape.input_width, shape.kernel_width, shape.stride_width,
                                         shape.pad_width);

        const uint32_t row_begin = n % 4 == 0 ? shape.output_height / 2 : 0;
        failing += compare_maxpool(&shape, row_begin, shape.output_height);
    }
    CHECK_EQ(0, failing);
}

/* The ResNet stem's pooling: 3x3, stride 2, pad 1, 64 channels. */
static void maxpool_sets_match_reference_on_resnet_stem(void) {
    picotag_maxpool_params shape;
    memset(&shape, 0, sizeof(shape));
    shape.input_height = 56;
    shape.input_width = 45;
    shape.channels = 64;
    shape.kernel_height = shape.kernel_width = 3;
    shape.stride_height = shape.stride_width = 2;
    shape.pad_height = shape.pad_width = 1;
    shape.output_height = output_size(56, 3, 2, 1);
    shape.output_width = output_size(45, 3, 2, 1);
    CHECK_EQ(0, compare_maxpool(&shape, 0, shape.output_height));
}

static void global_avgpool_sets_match_reference(void) {
    int failing = 0;
    for (int n = 0; n < 100; n++) {
        const uint32_t height = (uint32_t)random_range(1, 9);
        const uint32_t width = (uint32_t)random_range(1, 9);
        const uint32_t channels = (uint32_t)random_range(1, 130);
        const size_t in_count = (size_t)height * width * channels;
        uint8_t *input = malloc(in_count);
        uint8_t *expected = malloc(channels);
        uint8_t *actual = malloc(channels);
        for (size_t i = 0; i < in_count; i++) {
            input[i] = (uint8_t)next_random();
        }
        picotag_global_avgpool_params params = {
            .input = input, .input_height = height, .input_width = width, .channels = channels,
            .multiplier = next_random() & 0x7FFFFFFF, .shift = (uint32_t)random_range(30, 40),
            .output = expected,
        };
        picotag_global_avgpool_u8_reference(&params);
        for (size_t s = 0; s < tested_set_count; s++) {
            params.output = actual;
            tested_sets[s]->global_avgpool_u8(&params);
            if (memcmp(actual, expected, channels) != 0) {
                printf("  %s: global average pool %ux%ux%u differs\n", tested_sets[s]->name, height, width,
                       channels);
                failing++;
            }
        }
        free(input);
        free(expected);
        free(actual);
    }
    CHECK_EQ(0, failing);
}

static void fully_connected_sets_match_reference(void) {
    int failing = 0;
    for (int n = 0; n < 100; n++) {
        const uint32_t in_c = (uint32_t)random_range(1, 600);
        const uint32_t out_c = (uint32_t)random_range(1, 90);
        uint8_t *input = malloc(in_c);
        int8_t *weight = malloc((size_t)in_c * out_c);
        int32_t *bias = malloc(out_c * sizeof(int32_t));
        int32_t *expected = malloc(out_c * sizeof(int32_t));
        int32_t *actual = malloc(out_c * sizeof(int32_t));
        for (uint32_t c = 0; c < in_c; c++) {
            input[c] = (uint8_t)next_random();
        }
        for (size_t i = 0; i < (size_t)in_c * out_c; i++) {
            weight[i] = (int8_t)random_range(-128, 127);
        }
        for (uint32_t k = 0; k < out_c; k++) {
            bias[k] = random_range(-1000000, 1000000);
        }
        picotag_fully_connected_params params = {
            .input = input, .input_channels = in_c, .weight = weight, .bias = bias,
            .output = expected, .output_channels = out_c,
        };
        picotag_fully_connected_u8i8_reference(&params);
        for (size_t s = 0; s < tested_set_count; s++) {
            params.output = actual;
            tested_sets[s]->fully_connected_u8i8(&params);
            if (memcmp(actual, expected, out_c * sizeof(int32_t)) != 0) {
                printf("  %s: fully connected %u -> %u differs\n", tested_sets[s]->name, in_c, out_c);
                failing++;
            }
        }
        free(input);
        free(weight);
        free(bias);
        free(expected);
        free(actual);
    }
    CHECK_EQ(0, failing);
}

static void select_tested_sets(void) {
    for (size_t i = 0; i < picotag_kernel_set_count(); i++) {
        const picotag_kernel_set *set = picotag_kernel_set_at(i);
        if (set == &picotag_reference_kernel_set) {
            continue;
        }
        if (!set->is_supported()) {
            printf("SKIP kernel set %s: this CPU does not support it\n", set->name);
            continue;
        }
        printf("testing kernel set %s\n", set->name);
        tested_sets[tested_set_count++] = set;
    }
    if (tested_set_count == 0) {
        printf("no kernel set besides the reference runs here; nothing to compare\n");
    }
}

int main(void) {
    select_tested_sets();
    RUN_TEST(kernel_sets_route_every_operator);
    RUN_TEST(maxpool_sets_match_reference_on_random_shapes);
    RUN_TEST(maxpool_sets_match_reference_on_resnet_stem);
    RUN_TEST(global_avgpool_sets_match_reference);
    RUN_TEST(fully_connected_sets_match_reference);
    return test_summary();
}
