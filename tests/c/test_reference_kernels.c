/* Reference kernels against the naive operators on small random shapes. */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "naive_ops.h"
#include "test_check.h"

static uint64_t random_state = 0x9E3779B97F4A7C15u;

static uint32_t next_random(void) {
    random_state ^= random_state << 13;
    random_state ^= random_state >> 7;
    random_state ^= random_state << 17;
    return (uint32_t)(random_state >> 16);
}

static int random_range(int lo, int hi) {
    return lo + (int)(next_random() % (uint32_t)(hi - lo + 1));
}

typedef struct conv_case {
    int in_h, in_w, in_c, out_c;
    int kernel, stride, pad;
    int use_zero_point;
    int residual;                    /* 0 none, 1 uint8, 2 int8 */
    int output_signed;
} conv_case;

static conv_case random_conv_case(void) {
    static const int kernels[] = {1, 3, 7};
    conv_case c;
    c.kernel = kernels[next_random() % 3];
    c.stride = random_range(1, 2);
    c.pad = random_range(0, c.kernel - 1);
    const int min_in = c.kernel - 2 * c.pad > 1 ? c.kernel - 2 * c.pad : 1;
    c.in_h = random_range(min_in, min_in + 8);
    c.in_w = random_range(min_in, min_in + 8);
    c.in_c = 2 * random_range(0, 3) + 1;   /* odd: 1, 3, 5, 7 */
    c.out_c = random_range(1, 9);
    c.use_zero_point = (int)(next_random() & 1);
    c.residual = random_range(0, 2);
    c.output_signed = (int)(next_random() & 1);
    return c;
}

/* Outputs strictly between the clamp limits, over all cases compared, to
 * show that the random cases are not all saturated or zero. */
static long conv_outputs_inside_range;

/* Runs one random convolution through the reference kernel and the naive
 * one and returns the number of differing outputs. */
static int compare_conv_case(const conv_case *c) {
    const int out_h = naive_output_size(c->in_h, c->kernel, c->stride, c->pad);
    const int out_w = naive_output_size(c->in_w, c->kernel, c->stride, c->pad);
    const size_t in_count = (size_t)c->in_h * c->in_w * c->in_c;
    const size_t out_count = (size_t)out_h * out_w * c->out_c;
    const size_t weight_count = (size_t)c->out_c * c->kernel * c->kernel * c->in_c;

    uint8_t *input = malloc(in_count);
    int32_t *input_wide = malloc(in_count * sizeof(int32_t));
    int8_t *weight = malloc(weight_count);
    int32_t bias[9], multiplier[9], shift[9], residual_multiplier[9], zero_point_wide[7];
    uint8_t zero_point[7];
    uint8_t *residual = malloc(out_count);
    int32_t *residual_wide = malloc(out_count * sizeof(int32_t));
    uint8_t *output = malloc(out_count);
    int32_t *expected = malloc(out_count * sizeof(int32_t));

    for (size_t i = 0; i < in_count; i++) {
        input[i] = (uint8_t)next_random();
        input_wide[i] = input[i];
    }
    for (size_t i = 0; i < weight_count; i++) {
        weight[i] = (int8_t)random_range(-127, 127);
    }
    for (int ch = 0; ch < c->in_c; ch++) {
        zero_point[ch] = (uint8_t)next_random();
        zero_point_wide[ch] = zero_point[ch];
    }
    for (int o = 0; o < c->out_c; o++) {
        bias[o] = random_range(-100000, 100000);
        /* Mostly multipliers that keep outputs in range, sometimes the
         * extremes that saturate or zero everything. */
        const int pick = random_range(0, 9);
        multiplier[o] = (int32_t)(next_random() & 0x7FFFFFFF);
        shift[o] = random_range(30, 44);
        if (pick == 0) {
            multiplier[o] = 0;
        } else if (pick == 1) {
            multiplier[o] = INT32_MAX;
        } else if (pick == 2) {
            shift[o] = 1;
        } else if (pick == 3) {
            shift[o] = 62;
        }
        residual_multiplier[o] = (int32_t)(next_random() & 0x7FFFFFFF);
    }
    for (size_t i = 0; i < out_count; i++) {
        residual[i] = (uint8_t)next_random();
        int8_t as_signed;
        memcpy(&as_signed, &residual[i], 1);
        residual_wide[i] = c->residual == 2 ? as_signed : residual[i];
    }

    const picotag_conv2d_params params = {
        .input = input,
        .input_height = (uint32_t)c->in_h,
        .input_width = (uint32_t)c->in_w,
        .input_channels = (uint32_t)c->in_c,
        .input_zero_point = c->use_zero_point ? zero_point : NULL,
        .weight = weight,
        .bias = bias,
        .multiplier = multiplier,
        .shift = shift,
        .kernel_height = (uint32_t)c->kernel,
        .kernel_width = (uint32_t)c->kernel,
        .stride_height = (uint32_t)c->stride,
        .stride_width = (uint32_t)c->stride,
        .pad_height = (uint32_t)c->pad,
        .pad_width = (uint32_t)c->pad,
        .residual = c->residual != 0 ? residual : NULL,
        .residual_dtype = c->residual == 2 ? PICOTAG_ACTIVATION_I8 : PICOTAG_ACTIVATION_U8,
        .residual_multiplier = residual_multiplier,
        .output = output,
        .output_dtype = c->output_signed ? PICOTAG_ACTIVATION_I8 : PICOTAG_ACTIVATION_U8,
        .output_height = (uint32_t)out_h,
        .output_width = (uint32_t)out_w,
        .output_channels = (uint32_t)c->out_c,
        .output_row_begin = 0,
        .output_row_end = (uint32_t)out_h,
    };
    picotag_conv2d_u8i8_reference(&params);

    const naive_conv2d naive = {
        .in_h = c->in_h, .in_w = c->in_w, .in_c = c->in_c,
        .input = input_wide,
        .zero_point = c->use_zero_point ? zero_point_wide : NULL,
        .weight = weight, .bias = bias, .multiplier = multiplier, .shift = shift,
        .kernel_h = c->kernel, .kernel_w = c->kernel,
        .stride_h = c->stride, .stride_w = c->stride,
        .pad_h = c->pad, .pad_w = c->pad,
        .residual = c->residual != 0 ? residual_wide : NULL,
        .residual_multiplier = residual_multiplier,
        .lo = c->output_signed ? -128 : 0,
        .hi = c->output_signed ? 127 : 255,
        .out_c = c->out_c,
    };
    naive_conv2d_run(&naive, expected);

    int differences = 0;
    for (size_t i = 0; i < out_count; i++) {
        int8_t as_signed;
        memcpy(&as_signed, &output[i], 1);
        const int32_t actual = c->output_signed ? as_signed : output[i];
        if (actual > naive.lo && actual < naive.hi) {
            conv_outputs_inside_range++;
        }
        if (actual != expected[i]) {
            if (differences == 0) {
                printf("  conv %dx%dx%d -> %d, kernel %d stride %d pad %d, zero point %d, residual %d, "
                       "signed %d: element %zu expected %d, got %d\n",
                       c->in_h, c->in_w, c->in_c, c->out_c, c->kernel, c->stride, c->pad,
                       c->use_zero_point, c->residual, c->output_signed, i, expected[i], actual);
            }
            differences++;
        }
    }

    free(input);
    free(input_wide);
    free(weight);
    free(residual);
    free(residual_wide);
    free(output);
    free(expected);
    return differences;
}

static void conv2d_reference_matches_naive_on_random_shapes(void) {
    int failing_cases = 0;
    conv_outputs_inside_range = 0;
    for (int i = 0; i < 400; i++) {
        const conv_case c = random_conv_case();
        if (compare_conv_case(&c) != 0) {
            failing_cases++;
        }
    }
    CHECK_EQ(0, failing_cases);
    CHECK(conv_outputs_inside_range > 1000);
}

/* Every combination of kernel 1/3/7, stride 1/2 and the largest pad once,
 * so that no corner depends on the random draw. */
static void conv2d_reference_matches_naive_on_every_window(void) {
    static const int kernels[] = {1, 3, 7};
    int failing_cases = 0;
    for (int k = 0; k < 3; k++) {
        for (int stride = 1; stride <= 2; stride++) {
            for (int pad = 0; pad < kernels[k]; pad++) {
                const conv_case c = {
                    .in_h = 9, .in_w = 8, .in_c = 3, .out_c = 5,
                    .kernel = kernels[k], .stride = stride, .pad = pad,
                    .use_zero_point = 1, .residual = (k + stride + pad) % 3, .output_signed = pad & 1,
                };
                if (compare_conv_case(&c) != 0) {
                    failing_cases++;
                }
            }
        }
    }
    CHECK_EQ(0, failing_cases);
}

/* Padding contains the zero point: a convolution over an image that equals
 * its zero points everywhere gives bias alone, at borders too. */
static void conv2d_padding_contributes_nothing(void) {
    uint8_t input[5 * 5 * 3];
    const uint8_t zero_point[3] = {124, 116, 104};
    for (int i = 0; i < 5 * 5; i++) {
        memcpy(input + 3 * i, zero_point, 3);
    }
    int8_t weight[2 * 3 * 3 * 3];
    for (size_t i = 0; i < sizeof(weight); i++) {
        weight[i] = (int8_t)((int)(i * 37 % 255) - 127);
    }
    const int32_t bias[2] = {40, -40};
    const int32_t multiplier[2] = {1 << 30, 1 << 30};  /* 0.5 */
    const int32_t shift[2] = {31, 31};
    int8_t output[3 * 3 * 2];
    const picotag_conv2d_params params = {
        .input = input, .input_height = 5, .input_width = 5, .input_channels = 3,
        .input_zero_point = zero_point,
        .weight = weight, .bias = bias, .multiplier = multiplier, .shift = shift,
        .kernel_height = 3, .kernel_width = 3, .stride_height = 2, .stride_width = 2,
        .pad_height = 1, .pad_width = 1,
        .output = output, .output_dtype = PICOTAG_ACTIVATION_I8,
        .output_height = 3, .output_width = 3, .output_channels = 2,
        .output_row_begin = 0, .output_row_end = 3,
    };
    picotag_conv2d_u8i8_reference(&params);
    for (int i = 0; i < 9; i++) {
        CHECK_EQ(20, output[2 * i]);
        CHECK_EQ(-20, output[2 * i + 1]);
    }
}

static void conv2d_computes_only_the_requested_rows(void) {
    uint8_t input[4 * 4];
    memset(input, 200, sizeof(input));
    const int8_t weight[1] = {1};
    const int32_t bias[1] = {0};
    const int32_t multiplier[1] = {1 << 30};
    const int32_t shift[1] = {30};  /* 1.0 */
    uint8_t output[4 * 4];
    memset(output, 7, sizeof(output));
    const picotag_conv2d_params params = {
        .input = input, .input_height = 4, .input_width = 4, .input_channels = 1,
        .weight = weight, .bias = bias, .multiplier = multiplier, .shift = shift,
        .kernel_height = 1, .kernel_width = 1, .stride_height = 1, .stride_width = 1,
        .output = output, .output_dtype = PICOTAG_ACTIVATION_U8,
        .output_height = 4, .output_width = 4, .output_channels = 1,
        .output_row_begin = 1, .output_row_end = 3,
    };
    picotag_conv2d_u8i8_reference(&params);
    for (int i = 0; i < 16; i++) {
        const int row = i / 4;
        CHECK_EQ(row >= 1 && row < 3 ? 200 : 7, output[i]);
    }
}

static void maxpool_reference_matches_naive_on_random_shapes(void) {
    static const int kernels[] = {1, 2, 3, 7};
    int failing_cases = 0;
    for (int n = 0; n < 300; n++) {
        const int kernel = kernels[next_random() % 4];
        const int stride = random_range(1, 3);
        const int pad = random_range(0, kernel - 1);
        const int min_in = kernel - 2 * pad > 1 ? kernel - 2 * pad : 1;
        const int in_h = random_range(min_in, min_in + 9);
        const int in_w = random_range(min_in, min_in + 9);
        const int channels = random_range(1, 7);
        const int out_h = naive_output_size(in_h, kernel, stride, pad);
        const int out_w = naive_output_size(in_w, kernel, stride, pad);

        uint8_t *input = malloc((size_t)in_h * in_w * channels);
        int32_t *input_wide = malloc(sizeof(int32_t) * (size_t)in_h * in_w * channels);
        uint8_t *output = malloc((size_t)out_h * out_w * channels);
        int32_t *expected = malloc(sizeof(int32_t) * (size_t)out_h * out_w * channels);
        for (int i = 0; i < in_h * in_w * channels; i++) {
            input[i] = (uint8_t)next_random();
            input_wide[i] = input[i];
        }

        const picotag_maxpool_params params = {
            .input = input, .input_height = (uint32_t)in_h, .input_width = (uint32_t)in_w,
            .channels = (uint32_t)channels,
            .kernel_height = (uint32_t)kernel, .kernel_width = (uint32_t)kernel,
            .stride_height = (uint32_t)stride, .stride_width = (uint32_t)stride,
            .pad_height = (uint32_t)pad, .pad_width = (uint32_t)pad,
            .output = output, .output_height = (uint32_t)out_h, .output_width = (uint32_t)out_w,
            .output_row_begin = 0, .output_row_end = (uint32_t)out_h,
        };
        picotag_maxpool_u8_reference(&params);
        naive_maxpool(input_wide, in_h, in_w, channels, kernel, kernel, stride, stride, pad, pad, expected);

        for (int i = 0; i < out_h * out_w * channels; i++) {
            if (output[i] != expected[i]) {
                failing_cases++;
                break;
            }
        }
        free(input);
        free(input_wide);
        free(output);
        free(expected);
    }
    CHECK_EQ(0, failing_cases);
}

/* For uint8, ignoring padding and padding with 0 give the same maximum, so
 * this checks that border windows read the right pixels: every window of
 * a 2x2 image with kernel 3 and pad 1 covers the whole image. */
static void maxpool_border_windows_cover_real_pixels(void) {
    /* 2x2 image, kernel 3, pad 1, stride 1: the window of output (0,0) covers the whole image. */
    const uint8_t input[4] = {5, 9, 3, 1};
    uint8_t output[4];
    const picotag_maxpool_params params = {
        .input = input, .input_height = 2, .input_width = 2, .channels = 1,
        .kernel_height = 3, .kernel_width = 3, .stride_height = 1, .stride_width = 1,
        .pad_height = 1, .pad_width = 1,
        .output = output, .output_height = 2, .output_width = 2,
        .output_row_begin = 0, .output_row_end = 2,
    };
    picotag_maxpool_u8_reference(&params);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(9, output[i]);
    }
}

static void global_avgpool_reference_matches_naive(void) {
    int failing_cases = 0;
    for (int n = 0; n < 200; n++) {
        const int in_h = random_range(1, 9);
        const int in_w = random_range(1, 9);
        const int channels = random_range(1, 9);
        const uint32_t multiplier = next_random() & 0x7FFFFFFF;
        const uint32_t shift = (uint32_t)random_range(30, 40);
        uint8_t *input = malloc((size_t)in_h * in_w * channels);
        int32_t *input_wide = malloc(sizeof(int32_t) * (size_t)in_h * in_w * channels);
        for (int i = 0; i < in_h * in_w * channels; i++) {
            input[i] = (uint8_t)next_random();
            input_wide[i] = input[i];
        }
        uint8_t output[9];
        int32_t expected[9];
        const picotag_global_avgpool_params params = {
            .input = input, .input_height = (uint32_t)in_h, .input_width = (uint32_t)in_w,
            .channels = (uint32_t)channels, .multiplier = multiplier, .shift = shift,
            .output = output,
        };
        picotag_global_avgpool_u8_reference(&params);
        naive_global_avgpool(input_wide, in_h, in_w, channels, multiplier, (int)shift, expected);
        for (int c = 0; c < channels; c++) {
            if (output[c] != expected[c]) {
                failing_cases++;
                break;
            }
        }
        free(input);
        free(input_wide);
    }
    CHECK_EQ(0, failing_cases);
}

static void fully_connected_reference_matches_naive(void) {
    int failing_cases = 0;
    for (int n = 0; n < 100; n++) {
        const int in_c = random_range(1, 65);
        const int out_c = random_range(1, 17);
        uint8_t input[65];
        int32_t input_wide[65];
        int8_t weight[65 * 17];
        int32_t bias[17], output[17], expected[17];
        for (int c = 0; c < in_c; c++) {
            input[c] = (uint8_t)next_random();
            input_wide[c] = input[c];
        }
        for (int i = 0; i < in_c * out_c; i++) {
            weight[i] = (int8_t)random_range(-127, 127);
        }
        for (int k = 0; k < out_c; k++) {
            bias[k] = random_range(-1000000, 1000000);
        }
        const picotag_fully_connected_params params = {
            .input = input, .input_channels = (uint32_t)in_c, .weight = weight, .bias = bias,
            .output = output, .output_channels = (uint32_t)out_c,
        };
        picotag_fully_connected_u8i8_reference(&params);
        naive_fully_connected(input_wide, in_c, weight, bias, out_c, expected);
        if (memcmp(output, expected, sizeof(int32_t) * (size_t)out_c) != 0) {
            failing_cases++;
        }
    }
    CHECK_EQ(0, failing_cases);
}

int main(void) {
    RUN_TEST(conv2d_reference_matches_naive_on_random_shapes);
    RUN_TEST(conv2d_reference_matches_naive_on_every_window);
    RUN_TEST(conv2d_padding_contributes_nothing);
    RUN_TEST(conv2d_computes_only_the_requested_rows);
    RUN_TEST(maxpool_reference_matches_naive_on_random_shapes);
    RUN_TEST(maxpool_border_windows_cover_real_pixels);
    RUN_TEST(global_avgpool_reference_matches_naive);
    RUN_TEST(fully_connected_reference_matches_naive);
    return test_summary();
}
