/*
 * Every kernel set's convolution against the reference kernel, bit for bit:
 * random and listed shapes, odd channel counts, every window, tiny and
 * large tensors, zero points, residual adds, both output types, extreme
 * requantization and accumulators at the model loader's bound. A set that
 * this CPU cannot run is skipped with a message.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "test_check.h"
#include "test_model_writer.h"

static uint64_t random_state = 0x2545F4914F6CDD1Du;

static uint32_t next_random(void) {
    random_state ^= random_state << 13;
    random_state ^= random_state >> 7;
    random_state ^= random_state << 17;
    return (uint32_t)(random_state >> 16);
}

static int random_range(int lo, int hi) {
    return lo + (int)(next_random() % (uint32_t)(hi - lo + 1));
}

/* The sets under test: every built-in set except the reference that this
 * CPU supports. */
static const picotag_kernel_set *tested_sets[16];
static size_t tested_set_count;

typedef struct conv_shape {
    uint32_t in_h, in_w, in_c, out_c;
    uint32_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
    int zero_point;                  /* 1: a per-channel input zero point */
    int residual;                    /* 0 none, 1 uint8, 2 int8 */
    int output_i8;
} conv_shape;

/* One convolution's data; conv_create fills it with random values that
 * the model loader would accept. */
typedef struct conv_data {
    conv_shape shape;
    uint32_t out_h, out_w;
    size_t in_count, out_count, weight_count;
    uint8_t *input;
    uint8_t *zero_point;
    int8_t *weight;
    int32_t *bias;
    int32_t *multiplier;
    int32_t *shift;
    int32_t *residual_multiplier;
    uint8_t *residual;
} conv_data;

static uint32_t output_size(uint32_t in, uint32_t kernel, uint32_t stride, uint32_t pad) {
    return (in + 2 * pad - kernel) / stride + 1;
}

/* Multipliers that spread outputs over their range for accumulators of
 * about `spread`, with one channel in eight at an extreme. */
static void random_requantization(conv_data *d, uint32_t o, double spread) {
    const double real_multiplier = 60.0 / spread * (0.5 + (next_random() % 1000) / 1000.0);
    if (d->shape.residual == 0) {
        tm_quantize_multiplier(real_multiplier, &d->multiplier[o], &d->shift[o]);
    } else {
        const double real_residual = 0.4 + (next_random() % 1000) / 2000.0;
        tm_quantize_multiplier(real_residual, &d->residual_multiplier[o], &d->shift[o]);
        d->multiplier[o] = (int32_t)floor(ldexp(real_multiplier, d->shift[o]) + 0.5);
    }

    switch (next_random() % 16) {
    case 0:
        d->multiplier[o] = 0;
        break;
    case 1:
        d->multiplier[o] = INT32_MAX;
        d->shift[o] = 62;
        break;
    case 2:
        d->shift[o] = 1;
        break;
    case 3:
        d->residual_multiplier[o] = INT32_MAX;
        break;
    default:
        break;
    }
}

static conv_data conv_create(const conv_shape *shape) {
    conv_data d;
    memset(&d, 0, sizeof(d));
    d.shape = *shape;
    d.out_h = output_size(shape->in_h, shape->kernel_h, shape->stride_h, shape->pad_h);
    d.out_w = output_size(shape->in_w, shape->kernel_w, shape->stride_w, shape->pad_w);
    d.in_count = (size_t)shape->in_h * shape->in_w * shape->in_c;
    d.out_count = (size_t)d.out_h * d.out_w * shape->out_c;
    const size_t taps = (size_t)shape->kernel_h * shape->kernel_w * shape->in_c;
    d.weight_count = (size_t)shape->out_c * taps;

    /* Exact sizes, so that the sanitizers see any read past the end. */
    d.input = malloc(d.in_count);
    d.zero_point = malloc(shape->in_c);
    d.weight = malloc(d.weight_count);
    d.bias = malloc(shape->out_c * sizeof(int32_t));
    d.multiplier = malloc(shape->out_c * sizeof(int32_t));
    d.shift = malloc(shape->out_c * sizeof(int32_t));
    d.residual_multiplier = malloc(shape->out_c * sizeof(int32_t));
    d.residual = malloc(d.out_count);

    for (size_t i = 0; i < d.in_count; i++) {
        d.input[i] = (uint8_t)next_random();
    }
    for (uint32_t c = 0; c < shape->in_c; c++) {
        d.zero_point[c] = (uint8_t)next_random();
    }
    for (size_t i = 0; i < d.weight_count; i++) {
        d.weight[i] = (int8_t)random_range(-128, 127);
    }
    for (size_t i = 0; i < d.out_count; i++) {
        d.residual[i] = (uint8_t)next_random();
    }
    const double spread = sqrt((double)taps) * 64.0 * 100.0;
    for (uint32_t o = 0; o < shape->out_c; o++) {
        d.bias[o] = random_range(-(int)spread, (int)spread);
        d.residual_multiplier[o] = (int32_t)(next_random() & 0x7FFFFFFF);
        random_requantization(&d, o, spread);
    }
    return d;
}

static void conv_destroy(conv_data *d) {
    free(d->input);
    free(d->zero_point);
    free(d->weight);
    free(d->bias);
    free(d->multiplier);
    free(d->shift);
    free(d->residual_multiplier);
    free(d->residual);
}

static picotag_conv2d_params conv_params(const conv_data *d, void *output) {
    const conv_shape *s = &d->shape;
    const picotag_conv2d_params params = {
        .input = d->input,
        .input_height = s->in_h,
        .input_width = s->in_w,
        .input_channels = s->in_c,
        .input_zero_point = s->zero_point ? d->zero_point : NULL,
        .weight = d->weight,
        .bias = d->bias,
        .multiplier = d->multiplier,
        .shift = d->shift,
        .kernel_height = s->kernel_h,
        .kernel_width = s->kernel_w,
        .stride_height = s->stride_h,
        .stride_width = s->stride_w,
        .pad_height = s->pad_h,
        .pad_width = s->pad_w,
        .residual = s->residual != 0 ? d->residual : NULL,
        .residual_dtype = s->residual == 2 ? PICOTAG_ACTIVATION_I8 : PICOTAG_ACTIVATION_U8,
        .residual_multiplier = d->residual_multiplier,
        .output = output,
        .output_dtype = s->output_i8 ? PICOTAG_ACTIVATION_I8 : PICOTAG_ACTIVATION_U8,
        .output_height = d->out_h,
        .output_width = d->out_w,
        .output_channels = s->out_c,
        .output_row_begin = 0,
        .output_row_end = d->out_h,
    };
    return params;
}

/* Returns aligned memory of at least `bytes` (and at least 64) bytes, as
 * the runner allocates packed weights and scratch. */
static void *aligned_buffer(size_t bytes) {
    const size_t rounded = bytes == 0 ? 64 : (bytes + 63) & ~(size_t)63;
    return aligned_alloc(64, rounded);
}

/* Runs `set` on rows [row_begin, row_end) into `output`, with packed
 * weights and scratch prepared the way the runner prepares them. */
static void run_set(const picotag_kernel_set *set, const conv_data *d, uint32_t row_begin,
                    uint32_t row_end, uint8_t *output) {
    picotag_conv2d_params params = conv_params(d, output);
    void *packed = NULL;
    void *scratch = NULL;
    if (set->conv2d_u8i8_packed_bytes != NULL) {
        packed = aligned_buffer(set->conv2d_u8i8_packed_bytes(&params));
        set->conv2d_u8i8_pack(&params, packed);
    }
    if (set->conv2d_u8i8_scratch_bytes != NULL) {
        scratch = aligned_buffer(set->conv2d_u8i8_scratch_bytes(&params));
    }
    params.packed_weights = packed;
    params.scratch = scratch;
    params.output_row_begin = row_begin;
    params.output_row_end = row_end;
    set->conv2d_u8i8(&params);
    free(packed);
    free(scratch);
}

/* Outputs strictly inside the clamp range, over all compared outputs, to
 * show that the cases are not all saturated. */
static long outputs_inside_range;
static long outputs_compared;

static void count_inside_range(const conv_data *d, const uint8_t *output) {
    for (size_t i = 0; i < d->out_count; i++) {
        const int value = d->shape.output_i8 ? (int)(int8_t)output[i] : (int)output[i];
        const int lo = d->shape.output_i8 ? -128 : 0;
        const int hi = d->shape.output_i8 ? 127 : 255;
        outputs_inside_range += value > lo && value < hi;
    }
    outputs_compared += (long)d->out_count;
}

static void describe(const conv_data *d, char *text, size_t capacity) {
    const conv_shape *s = &d->shape;
    snprintf(text, capacity,
             "%ux%ux%u -> %u, kernel %ux%u stride %ux%u pad %ux%u, zero point %d, residual %d, "
             "int8 output %d",
             s->in_h, s->in_w, s->in_c, s->out_c, s->kernel_h, s->kernel_w, s->stride_h, s->stride_w,
             s->pad_h, s->pad_w, s->zero_point, s->residual, s->output_i8);
}

/* Compares every tested set with the reference on one convolution; returns
 * the number of sets whose output differs and prints the first
 * difference of each. */
static int compare_sets(const conv_data *d) {
    uint8_t *expected = malloc(d->out_count + 1);
    uint8_t *actual = malloc(d->out_count + 1);
    memset(expected, 0xA5, d->out_count + 1);
    run_set(&picotag_reference_kernel_set, d, 0, d->out_h, expected);
    count_inside_range(d, expected);

    int failing_sets = 0;
    for (size_t s = 0; s < tested_set_count; s++) {
        memset(actual, 0xA5, d->out_count + 1);
        run_set(tested_sets[s], d, 0, d->out_h, actual);
        for (size_t i = 0; i < d->out_count + 1; i++) {
            if (actual[i] != expected[i]) {
                char text[256];
                describe(d, text, sizeof(text));
                printf("  %s: %s: byte %zu of %zu: expected %u, got %u\n", tested_sets[s]->name, text, i,
                       d->out_count, expected[i], actual[i]);
                failing_sets++;
                break;
            }
        }
    }
    free(expected);
    free(actual);
    return failing_sets;
}

static int compare_shape(const conv_shape *shape) {
    conv_data d = conv_create(shape);
    const int failing = compare_sets(&d);
    conv_destroy(&d);
    return failing;
}

static conv_shape random_shape(void) {
    static const uint32_t channels[] = {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 80};
    conv_shape s;
    /* Up to the loader's limits: kernel 11, stride 4. */
    s.kernel_h = (uint32_t)(next_random() % 8 == 0 ? random_range(8, 11) : random_range(1, 7));
    s.kernel_w = next_random() % 2 ? s.kernel_h : (uint32_t)random_range(1, 11);
    s.stride_h = (uint32_t)(next_random() % 8 == 0 ? random_range(3, 4) : random_range(1, 2));
    s.stride_w = next_random() % 4 == 0 ? (uint32_t)random_range(1, 4) : s.stride_h;
    s.pad_h = (uint32_t)random_range(0, (int)s.kernel_h - 1);
    s.pad_w = (uint32_t)random_range(0, (int)s.kernel_w - 1);
    const int min_h = (int)s.kernel_h - 2 * (int)s.pad_h > 1 ? (int)s.kernel_h - 2 * (int)s.pad_h : 1;
    const int min_w = (int)s.kernel_w - 2 * (int)s.pad_w > 1 ? (int)s.kernel_w - 2 * (int)s.pad_w : 1;
    s.in_h = (uint32_t)random_range(min_h, min_h + 10);
    s.in_w = (uint32_t)random_range(min_w, min_w + 10);
    s.in_c = channels[next_random() % 16];
    s.out_c = channels[next_random() % 16];
    s.zero_point = (int)(next_random() % 3 == 0);
    s.residual = random_range(0, 2);
    s.output_i8 = (int)(next_random() & 1);
    return s;
}

static void conv2d_sets_match_reference_on_random_shapes(void) {
    int failing = 0;
    outputs_inside_range = 0;
    outputs_compared = 0;
    for (int i = 0; i < 300; i++) {
        const conv_shape shape = random_shape();
        failing += compare_shape(&shape);
    }
    CHECK_EQ(0, failing);
    /* Most outputs are neither clamped nor zero. */
    CHECK(outputs_inside_range > outputs_compared / 2);
}

/* Kernels 1, 3 and 7, strides 1 and 2, every pad the loader allows up to
 * 3, each residual type and both output types. 5 input channels take the
 * im2col path of every set, 8 the indirect path where a set has one. */
static void conv2d_sets_match_reference_on_every_window(void) {
    static const uint32_t kernels[] = {1, 3, 7};
    int failing = 0;
    for (int k = 0; k < 6; k++) {
        for (uint32_t stride = 1; stride <= 2; stride++) {
            for (uint32_t pad = 0; pad < kernels[k % 3] && pad <= 3; pad++) {
                for (int residual = 0; residual <= 2; residual++) {
                    for (int output_i8 = 0; output_i8 <= 1; output_i8++) {
                        const conv_shape shape = {
                            .in_h = 11, .in_w = 9, .in_c = k < 3 ? 5 : 8, .out_c = 17,
                            .kernel_h = kernels[k % 3], .kernel_w = kernels[k % 3],
                            .stride_h = stride, .stride_w = stride, .pad_h = pad, .pad_w = pad,
                            .zero_point = k < 3 && pad % 2 == 1, .residual = residual,
                            .output_i8 = output_i8,
                        };
                        failing += compare_shape(&shape);
                    }
                }
            }
        }
    }
    CHECK_EQ(0, failing);
}

/* Channel counts that fill no vector or block evenly, as input and output. */
static void conv2d_sets_match_reference_on_odd_channel_counts(void) {
    static const uint32_t channels[] = {1, 3, 5, 17, 63, 65, 129};
    const size_t count = sizeof(channels) / sizeof(channels[0]);
    int failing = 0;
    for (size_t i = 0; i < count; i++) {
        for (size_t o = 0; o < count; o++) {
            for (uint32_t kernel = 1; kernel <= 3; kernel += 2) {
                const conv_shape shape = {
                    .in_h = 6, .in_w = 7, .in_c = channels[i], .out_c = channels[o],
                    .kernel_h = kernel, .kernel_w = kernel, .stride_h = 1, .stride_w = 1,
                    .pad_h = kernel / 2, .pad_w = kernel / 2,
                    .zero_point = (int)(o % 2), .residual = (int)((i + o) % 3), .output_i8 = (int)(i % 2),
                };
                failing += compare_shape(&shape);
            }
        }
    }
    CHECK_EQ(0, failing);
}

/* A 1x1 input, where most of every window is padding, and tensors large
 * enough that a convolution spans several im2col blocks. */
static void conv2d_sets_match_reference_on_tiny_and_large_tensors(void) {
    static const conv_shape shapes[] = {
        {1, 1, 3, 8, 1, 1, 1, 1, 0, 0, 1, 0, 0},
        {1, 1, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 0},
        {1, 1, 3, 64, 7, 7, 2, 2, 3, 3, 1, 0, 0},
        {2, 1, 16, 16, 3, 3, 2, 2, 1, 1, 0, 2, 1},
        /* ResNet-18 stem and stage shapes, at reduced sizes. */
        {64, 64, 3, 64, 7, 7, 2, 2, 3, 3, 1, 0, 0},
        {30, 30, 64, 64, 3, 3, 1, 1, 1, 1, 0, 1, 0},
        {30, 30, 64, 128, 3, 3, 2, 2, 1, 1, 0, 0, 0},
        {30, 30, 64, 128, 1, 1, 2, 2, 0, 0, 0, 0, 1},
        {15, 15, 128, 128, 3, 3, 1, 1, 1, 1, 0, 2, 0},
        {7, 7, 256, 512, 3, 3, 2, 2, 1, 1, 0, 0, 0},
        {4, 4, 512, 512, 3, 3, 1, 1, 1, 1, 0, 1, 0},
        {40, 40, 32, 48, 1, 1, 1, 1, 0, 0, 0, 1, 0},
    };
    int failing = 0;
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        failing += compare_shape(&shapes[i]);
    }
    CHECK_EQ(0, failing);
}

/* 1x1 windows without padding, which some sets read straight from the
 * input when the channel count fills their K step (8 in the Arm sets), at
 * strides 1 and 2, with and without zero points, and pixel counts that
 * leave a partial tile of rows. */
static void conv2d_sets_match_reference_on_pointwise_windows(void) {
    static const uint32_t input_channels[] = {8, 16, 24, 64, 7, 9};
    static const uint32_t output_channels[] = {1, 16, 17, 33};
    int failing = 0;
    for (size_t i = 0; i < sizeof(input_channels) / sizeof(input_channels[0]); i++) {
        for (size_t o = 0; o < sizeof(output_channels) / sizeof(output_channels[0]); o++) {
            for (uint32_t stride = 1; stride <= 2; stride++) {
                const conv_shape shape = {
                    .in_h = 7, .in_w = 5, .in_c = input_channels[i], .out_c = output_channels[o],
                    .kernel_h = 1, .kernel_w = 1, .stride_h = stride, .stride_w = stride,
                    .pad_h = 0, .pad_w = 0,
                    .zero_point = (int)((i + o) % 2), .residual = (int)((i + stride) % 3),
                    .output_i8 = (int)(o % 2),
                };
                failing += compare_shape(&shape);
            }
        }
    }
    CHECK_EQ(0, failing);
}

/* Padded 3x3 and 7x7 windows over channel counts that fill the Arm sets'
 * K step, which read A through tap pointers: padded taps point at the
 * zero point, or at a row of zeros without one. */
static void conv2d_sets_match_reference_on_indirect_windows(void) {
    static const uint32_t input_channels[] = {8, 16, 24};
    int failing = 0;
    for (size_t i = 0; i < sizeof(input_channels) / sizeof(input_channels[0]); i++) {
        for (uint32_t kernel = 3; kernel <= 7; kernel += 4) {
            for (uint32_t stride = 1; stride <= 2; stride++) {
                for (int zero_point = 0; zero_point <= 1; zero_point++) {
                    const conv_shape shape = {
                        .in_h = 9, .in_w = 6, .in_c = input_channels[i], .out_c = 20,
                        .kernel_h = kernel, .kernel_w = kernel, .stride_h = stride, .stride_w = stride,
                        .pad_h = kernel / 2, .pad_w = kernel / 2 - (uint32_t)zero_point,
                        .zero_point = zero_point, .residual = (int)(i % 3), .output_i8 = (int)(stride % 2),
                    };
                    failing += compare_shape(&shape);
                }
            }
        }
    }
    CHECK_EQ(0, failing);
}

/*
 * Accumulators at the model loader's bound |bias| + 255 * sum |w| < 2^31:
 * about 65,790 taps of weight -128 or 127 against inputs of 0 or 255, with
 * and without zero points 0 and 255, so that acc reaches nearly +-2^31.
 * Requantization samples the extremes of m and shift.
 */
typedef enum extreme_pattern {
    ALL_MAXIMUM_INPUT_MINIMUM_WEIGHT,     /* x = 255, w = -128: acc near -2^31 */
    ALL_MAXIMUM_INPUT_MAXIMUM_WEIGHT,     /* x = 255, w = 127 */
    ZERO_INPUT_BELOW_ZERO_POINT,          /* x = 0, z = 255, w = -128: acc near +2^31 */
    MIXED_EXTREMES,                       /* x, z in {0, 255}, w in {-128, 127} */
} extreme_pattern;

static int compare_extreme_accumulators(uint32_t kernel, extreme_pattern pattern) {
    const uint32_t taps_per_channel = kernel * kernel;
    /* The largest channel count with 255 * 128 * taps < 2^31 - 2^15. */
    const uint32_t in_c = (uint32_t)((((int64_t)1 << 31) - 32768) / (255 * 128) / taps_per_channel);
    const conv_shape shape = {
        .in_h = 3, .in_w = 2, .in_c = in_c, .out_c = 19,
        .kernel_h = kernel, .kernel_w = kernel, .stride_h = 1, .stride_w = 1,
        .pad_h = kernel / 2, .pad_w = kernel / 2,
        .zero_point = pattern == ZERO_INPUT_BELOW_ZERO_POINT || pattern == MIXED_EXTREMES,
        .residual = (int)pattern % 3, .output_i8 = (int)pattern % 2,
    };
    conv_data d = conv_create(&shape);
    const uint64_t taps = (uint64_t)taps_per_channel * in_c;

    for (size_t i = 0; i < d.in_count; i++) {
        d.input[i] = 255;
        if (pattern == ZERO_INPUT_BELOW_ZERO_POINT || (pattern == MIXED_EXTREMES && next_random() % 2 == 0)) {
            d.input[i] = 0;
        }
    }
    for (uint32_t c = 0; c < in_c; c++) {
        d.zero_point[c] = 255;
        if (pattern == MIXED_EXTREMES && next_random() % 2 == 0) {
            d.zero_point[c] = 0;
        }
    }
    for (size_t i = 0; i < d.weight_count; i++) {
        d.weight[i] = -128;
        if (pattern == ALL_MAXIMUM_INPUT_MAXIMUM_WEIGHT || (pattern == MIXED_EXTREMES && next_random() % 2 == 0)) {
            d.weight[i] = 127;
        }
    }

    /* Requantization that shows the accumulator's magnitude: acc * 2^-24
     * (about +-128), acc * 2^-23 (clamped), the largest m with the largest
     * shift, the smallest shift, and zero. */
    static const int32_t multipliers[] = {1 << 30, 1 << 30, INT32_MAX, INT32_MAX, 0, 12345};
    static const int32_t shifts[] = {54, 53, 62, 1, 30, 31};
    for (uint32_t o = 0; o < shape.out_c; o++) {
        const int64_t headroom = (((int64_t)1 << 31) - 1) - 255 * 128 * (int64_t)taps;
        d.bias[o] = (int32_t)(o % 2 ? headroom : -headroom);
        d.multiplier[o] = multipliers[o % 6];
        d.shift[o] = shifts[o % 6];
        d.residual_multiplier[o] = o % 3 == 0 ? INT32_MAX : (int32_t)(next_random() & 0x7FFFFFFF);
    }
    for (size_t i = 0; i < d.out_count; i++) {
        d.residual[i] = i % 2 ? 255 : 0x80;
    }

    const int failing = compare_sets(&d);
    conv_destroy(&d);
    return failing;
}

static void conv2d_sets_match_reference_at_accumulator_bound(void) {
    int failing = 0;
    for (uint32_t kernel = 1; kernel <= 3; kernel += 2) {
        for (int pattern = ALL_MAXIMUM_INPUT_MINIMUM_WEIGHT; pattern <= MIXED_EXTREMES; pattern++) {
            failing += compare_extreme_accumulators(kernel, (extreme_pattern)pattern);
        }
    }
    CHECK_EQ(0, failing);
}

/* Multipliers 0 and 2^31 - 1 and shifts 1 and 62 on every channel at once,
 * with extreme residuals. */
static void conv2d_sets_match_reference_at_extreme_requantization(void) {
    static const int32_t multipliers[] = {0, 1, INT32_MAX, INT32_MAX, 1 << 30};
    static const int32_t shifts[] = {1, 62, 62, 1, 31};
    int failing = 0;
    for (size_t e = 0; e < 5; e++) {
        for (int residual = 0; residual <= 2; residual++) {
            const conv_shape shape = {
                .in_h = 5, .in_w = 6, .in_c = 9, .out_c = 35,
                .kernel_h = 3, .kernel_w = 3, .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1,
                .zero_point = 1, .residual = residual, .output_i8 = (int)(e % 2),
            };
            conv_data d = conv_create(&shape);
            for (uint32_t o = 0; o < shape.out_c; o++) {
                d.multiplier[o] = multipliers[e];
                d.shift[o] = shifts[e];
                d.residual_multiplier[o] = multipliers[(e + o) % 5];
            }
            /* -128, 127 and -1 as int8; 128, 127 and 255 as uint8. */
            static const uint8_t residual_bytes[] = {0x80, 0x7F, 0xFF};
            for (size_t i = 0; i < d.out_count; i++) {
                d.residual[i] = residual_bytes[i % 3];
            }
            failing += compare_sets(&d);
            conv_destroy(&d);
        }
    }
    CHECK_EQ(0, failing);
}

/* Rows outside [output_row_begin, output_row_end) keep their bytes, and the
 * rows inside equal the reference's. */
static void conv2d_sets_write_only_requested_rows(void) {
    const conv_shape shape = {
        .in_h = 13, .in_w = 10, .in_c = 6, .out_c = 20,
        .kernel_h = 3, .kernel_w = 3, .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1,
        .zero_point = 0, .residual = 1, .output_i8 = 0,
    };
    conv_data d = conv_create(&shape);
    uint8_t *expected = malloc(d.out_count);
    uint8_t *actual = malloc(d.out_count);
    memset(expected, 0x5A, d.out_count);
    run_set(&picotag_reference_kernel_set, &d, 4, 9, expected);

    const size_t row_bytes = (size_t)d.out_w * shape.out_c;
    for (size_t s = 0; s < tested_set_count; s++) {
        memset(actual, 0x5A, d.out_count);
        run_set(tested_sets[s], &d, 4, 9, actual);
        int same = 1;
        for (size_t i = 0; i < d.out_count; i++) {
            same = same && actual[i] == expected[i];
        }
        if (!CHECK(same)) {
            printf("  %s: rows 4 to 8 of 13 differ from the reference\n", tested_sets[s]->name);
        }
        CHECK_EQ(0x5A, actual[4 * row_bytes - 1]);
        CHECK_EQ(0x5A, actual[9 * row_bytes]);
    }
    free(expected);
    free(actual);
    conv_destroy(&d);
}

/* Bounds of a set's packed weights beyond the int8 weights: bytes per
 * output channel (4 of bias plus the K padding) and a constant (bias
 * alignment plus the tail that partial blocks read into). */
typedef struct packed_overhead {
    size_t per_channel;
    size_t constant;
} packed_overhead;

/* The x86 sets pad K by up to 3 and add 63 + 64 bytes
 * (src/kernels/x86/conv2d_x86.h); the Arm sets pad K by up to 7 and add
 * 63 + 128 bytes (src/kernels/arm/conv2d_arm.h). */
static packed_overhead packed_overhead_bound(const picotag_kernel_set *set) {
    static const char *const arm_sets[] = {"neon", "dotprod", "i8mm"};
    for (size_t i = 0; i < sizeof(arm_sets) / sizeof(arm_sets[0]); i++) {
        if (strcmp(set->name, arm_sets[i]) == 0) {
            return (packed_overhead){.per_channel = 11, .constant = 191};
        }
    }
    return (packed_overhead){.per_channel = 7, .constant = 127};
}

/* Packed weights take at most the int8 weights plus a few bytes per output
 * channel plus a constant. */
static void conv2d_packed_weights_stay_within_bound(void) {
    int within = 1;
    for (int i = 0; i < 200; i++) {
        const conv_shape shape = random_shape();
        conv_data d = conv_create(&shape);
        const picotag_conv2d_params params = conv_params(&d, NULL);
        for (size_t s = 0; s < tested_set_count; s++) {
            if (tested_sets[s]->conv2d_u8i8_packed_bytes == NULL) {
                continue;
            }
            const size_t bytes = tested_sets[s]->conv2d_u8i8_packed_bytes(&params);
            const packed_overhead overhead = packed_overhead_bound(tested_sets[s]);
            const size_t bound = d.weight_count + overhead.per_channel * shape.out_c + overhead.constant;
            if (bytes > bound) {
                printf("  %s: %u output channels x %zu weights: %zu packed bytes, bound %zu\n",
                       tested_sets[s]->name, shape.out_c, d.weight_count / shape.out_c, bytes, bound);
                within = 0;
            }
        }
        conv_destroy(&d);
    }
    CHECK(within);
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
    RUN_TEST(conv2d_sets_match_reference_on_random_shapes);
    RUN_TEST(conv2d_sets_match_reference_on_every_window);
    RUN_TEST(conv2d_sets_match_reference_on_odd_channel_counts);
    RUN_TEST(conv2d_sets_match_reference_on_tiny_and_large_tensors);
    RUN_TEST(conv2d_sets_match_reference_on_pointwise_windows);
    RUN_TEST(conv2d_sets_match_reference_on_indirect_windows);
    RUN_TEST(conv2d_sets_match_reference_at_accumulator_bound);
    RUN_TEST(conv2d_sets_match_reference_at_extreme_requantization);
    RUN_TEST(conv2d_sets_write_only_requested_rows);
    RUN_TEST(conv2d_packed_weights_stay_within_bound);
    return test_summary();
}
