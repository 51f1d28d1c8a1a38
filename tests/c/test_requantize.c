/* Requantization: (acc * m + 2^(s-1)) >> s, round half up, clamps, fused residual. */
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/reference/requantize.h"
#include "naive_ops.h"
#include "test_check.h"

static const int64_t two_to_31 = INT64_C(1) << 31;

static void requantize_rounds_positive_ties_up(void) {
    CHECK_EQ(3, requantize_rounding_half_up(5, 1));              /* 2.5 */
    CHECK_EQ(1, requantize_rounding_half_up(1, 1));              /* 0.5 */
    CHECK_EQ(2, requantize_rounding_half_up(3 * (INT64_C(1) << 30), 31)); /* 1.5 */
    CHECK_EQ(8, requantize_rounding_half_up(30, 2));             /* 7.5 */
}

static void requantize_rounds_negative_ties_toward_positive(void) {
    CHECK_EQ(-2, requantize_rounding_half_up(-5, 1));            /* -2.5 */
    CHECK_EQ(-1, requantize_rounding_half_up(-3, 1));            /* -1.5 */
    CHECK_EQ(0, requantize_rounding_half_up(-1, 1));             /* -0.5 */
    CHECK_EQ(-7, requantize_rounding_half_up(-30, 2));           /* -7.5 */
}

static void requantize_rounds_non_ties_to_nearest(void) {
    CHECK_EQ(2, requantize_rounding_half_up(7, 2));              /* 1.75 */
    CHECK_EQ(1, requantize_rounding_half_up(5, 2));              /* 1.25 */
    CHECK_EQ(-2, requantize_rounding_half_up(-7, 2));            /* -1.75 */
    CHECK_EQ(-1, requantize_rounding_half_up(-5, 2));            /* -1.25 */
    CHECK_EQ(-1, requantize_rounding_half_up(-3, 2));            /* -0.75 */
    CHECK_EQ(0, requantize_rounding_half_up(-1, 2));             /* -0.25 */
}

static void requantize_saturates_u8_at_both_ends(void) {
    CHECK_EQ(128, requantize_to_u8(256, 1));
    CHECK_EQ(255, requantize_to_u8(510, 1));                     /* exactly 255 */
    CHECK_EQ(255, requantize_to_u8(511, 1));                     /* 255.5 rounds to 256 */
    CHECK_EQ(255, requantize_to_u8(INT64_C(1) << 61, 1));
    CHECK_EQ(0, requantize_to_u8(-1, 1));                        /* -0.5 rounds to 0 */
    CHECK_EQ(0, requantize_to_u8(-3, 1));                        /* -1.5 rounds to -1, ReLU */
    CHECK_EQ(0, requantize_to_u8(-(INT64_C(1) << 61), 1));
}

static void requantize_saturates_i8_at_both_ends(void) {
    CHECK_EQ(127, requantize_to_i8(254, 1));                     /* exactly 127 */
    CHECK_EQ(127, requantize_to_i8(255, 1));                     /* 127.5 rounds to 128 */
    CHECK_EQ(127, requantize_to_i8(INT64_C(1) << 61, 1));
    CHECK_EQ(-128, requantize_to_i8(-256, 1));                   /* exactly -128 */
    CHECK_EQ(-128, requantize_to_i8(-257, 1));                   /* -128.5 rounds to -128 */
    CHECK_EQ(-128, requantize_to_i8(-259, 1));                   /* -129.5 rounds to -129 */
    CHECK_EQ(-128, requantize_to_i8(-(INT64_C(1) << 61), 1));
    CHECK_EQ(-5, requantize_to_i8(-10, 1));
}

static void requantize_handles_multipliers_near_zero(void) {
    /* m = 0 maps every accumulator to 0. */
    CHECK_EQ(0, requantize_rounding_half_up((int64_t)INT32_MAX * 0, 1));
    CHECK_EQ(0, requantize_to_i8((int64_t)INT32_MIN * 0, 31));
    /* m = 1: acc / 2^s. */
    CHECK_EQ(1, requantize_rounding_half_up((int64_t)1 * 1, 1));
    CHECK_EQ(0, requantize_rounding_half_up((int64_t)1 * 1, 2));
    CHECK_EQ(1, requantize_rounding_half_up((int64_t)INT32_MAX * 1, 31));   /* 0.99999 */
    CHECK_EQ(-1, requantize_rounding_half_up((int64_t)INT32_MIN * 1, 31));  /* -1 exactly */
    CHECK_EQ(0, requantize_rounding_half_up((int64_t)INT32_MAX * 1, 62));
}

static void requantize_handles_multiplier_just_below_one(void) {
    const int64_t m = two_to_31 - 1;  /* M = 1 - 2^-31 with s = 31 */
    CHECK_EQ(100, requantize_rounding_half_up(100 * m, 31));
    CHECK_EQ(-100, requantize_rounding_half_up(-100 * m, 31));
    CHECK_EQ(INT64_C(2147483646), requantize_rounding_half_up((int64_t)INT32_MAX * m, 31));
    CHECK_EQ(-INT64_C(2147483647), requantize_rounding_half_up((int64_t)INT32_MIN * m, 31));
    CHECK_EQ(255, requantize_to_u8((int64_t)INT32_MAX * m, 31));
    CHECK_EQ(-128, requantize_to_i8((int64_t)INT32_MIN * m, 31));
}

static void requantize_handles_shift_62(void) {
    const int64_t m = two_to_31 - 1;
    CHECK_EQ(1, requantize_rounding_half_up((int64_t)INT32_MAX * m, 62));  /* 0.99999999953 */
    CHECK_EQ(1, requantize_rounding_half_up(INT64_C(1) << 61, 62));        /* 0.5 */
    CHECK_EQ(0, requantize_rounding_half_up((INT64_C(1) << 61) - 1, 62));
    CHECK_EQ(0, requantize_rounding_half_up(-(INT64_C(1) << 61), 62));     /* -0.5 */
    CHECK_EQ(-1, requantize_rounding_half_up(-(INT64_C(1) << 61) - 1, 62));
    CHECK_EQ(-1, requantize_rounding_half_up((int64_t)INT32_MIN * two_to_31 + 1, 62));
}

static uint64_t random_state = 0x1234567887654321u;

static uint32_t next_random(void) {
    random_state ^= random_state << 13;
    random_state ^= random_state >> 7;
    random_state ^= random_state << 17;
    return (uint32_t)(random_state >> 16);
}

/* Random accumulators, multipliers and shifts against exact rational
 * rounding on __int128. */
static void requantize_matches_exact_rounding_on_random_inputs(void) {
    int mismatches = 0;
    for (int i = 0; i < 200000; i++) {
        const int32_t acc = (int32_t)next_random();
        const int32_t m = (int32_t)(next_random() & 0x7FFFFFFF);
        const uint32_t shift = 1 + next_random() % 62;
        const int32_t r = (int32_t)(next_random() % 384) - 128;
        const int32_t m_r = (int32_t)(next_random() & 0x7FFFFFFF);

        const int64_t scaled = (int64_t)acc * m + (int64_t)r * m_r;
        const int64_t exact = naive_round_half_up((__int128)acc * m + (__int128)r * m_r, (int)shift);
        if (requantize_rounding_half_up(scaled, shift) != exact ||
            requantize_to_u8(scaled, shift) != naive_clamp(exact, 0, 255) ||
            requantize_to_i8(scaled, shift) != naive_clamp(exact, -128, 127)) {
            if (mismatches++ < 5) {
                printf("  mismatch: acc %d m %d r %d m_r %d shift %u: exact %lld\n", acc, m, r, m_r,
                       shift, (long long)exact);
            }
        }
    }
    CHECK_EQ(0, mismatches);
}

/* Runs a 1x1 convolution on one pixel with one input channel, so that
 * acc = bias + weight * x, and returns the output integer. */
static int32_t convolve_one_pixel(int32_t bias, int8_t weight, uint8_t x, int32_t m, int32_t shift,
                                  const void *residual, picotag_activation_dtype residual_dtype,
                                  int32_t m_r, picotag_activation_dtype output_dtype) {
    uint8_t out_u8 = 0;
    int8_t out_i8 = 0;
    const picotag_conv2d_params params = {
        .input = &x,
        .input_height = 1,
        .input_width = 1,
        .input_channels = 1,
        .weight = &weight,
        .bias = &bias,
        .multiplier = &m,
        .shift = &shift,
        .kernel_height = 1,
        .kernel_width = 1,
        .stride_height = 1,
        .stride_width = 1,
        .residual = residual,
        .residual_dtype = residual_dtype,
        .residual_multiplier = &m_r,
        .output = output_dtype == PICOTAG_ACTIVATION_I8 ? (void *)&out_i8 : (void *)&out_u8,
        .output_dtype = output_dtype,
        .output_height = 1,
        .output_width = 1,
        .output_channels = 1,
        .output_row_begin = 0,
        .output_row_end = 1,
    };
    picotag_conv2d_u8i8_reference(&params);
    return output_dtype == PICOTAG_ACTIVATION_I8 ? out_i8 : out_u8;
}

static void fused_residual_adds_before_rounding(void) {
    const int32_t half = 1 << 30;     /* 0.5 with shift 31 */
    const int32_t quarter = 1 << 29;  /* 0.25 with shift 31 */
    const int8_t r_negative = -7;
    const uint8_t r_two = 2;
    const uint8_t r_zero = 0;

    /* acc = -1 + 3 * 10 = 29: 29 * 0.5 - 7 * 0.25 = 12.75 -> 13. */
    CHECK_EQ(13, convolve_one_pixel(-1, 3, 10, half, 31, &r_negative, PICOTAG_ACTIVATION_I8, quarter,
                                    PICOTAG_ACTIVATION_U8));
    /* acc = 1: 0.5 + 2 * 0.5 = 1.5 -> 2, a tie rounded up. */
    CHECK_EQ(2, convolve_one_pixel(1, 0, 0, half, 31, &r_two, PICOTAG_ACTIVATION_U8, half,
                                   PICOTAG_ACTIVATION_U8));
    /* acc = -5: -2.5 + 0 -> -2, a negative tie rounded toward +infinity. */
    CHECK_EQ(-2, convolve_one_pixel(-5, 0, 0, half, 31, &r_zero, PICOTAG_ACTIVATION_U8, half,
                                    PICOTAG_ACTIVATION_I8));
    /* The ReLU clamps after the add: -2.5 + 2 * 0.5 = -1.5 -> 0 for uint8. */
    CHECK_EQ(0, convolve_one_pixel(-5, 0, 0, half, 31, &r_two, PICOTAG_ACTIVATION_U8, half,
                                   PICOTAG_ACTIVATION_U8));
    /* A large residual saturates. */
    const uint8_t r_max = 255;
    CHECK_EQ(255, convolve_one_pixel(200, 0, 0, INT32_MAX, 31, &r_max, PICOTAG_ACTIVATION_U8,
                                     INT32_MAX, PICOTAG_ACTIVATION_U8));
    const int8_t r_min = -128;
    CHECK_EQ(-128, convolve_one_pixel(-200, 0, 0, INT32_MAX, 31, &r_min, PICOTAG_ACTIVATION_I8,
                                      INT32_MAX, PICOTAG_ACTIVATION_I8));
}

static void fused_residual_matches_exact_rounding_on_random_inputs(void) {
    int mismatches = 0;
    for (int i = 0; i < 20000; i++) {
        const int32_t bias = (int32_t)(next_random() % 2000001) - 1000000;
        const int8_t weight = (int8_t)(next_random() % 255 - 127);
        const uint8_t x = (uint8_t)next_random();
        const int32_t m = (int32_t)(next_random() & 0x7FFFFFFF);
        const int32_t m_r = (int32_t)(next_random() & 0x7FFFFFFF);
        const int32_t shift = (int32_t)(20 + next_random() % 43);
        const int residual_is_signed = (int)(next_random() & 1);
        const int output_is_signed = (int)(next_random() & 1);
        const uint8_t residual_byte = (uint8_t)next_random();
        int8_t residual_i8;
        memcpy(&residual_i8, &residual_byte, 1);
        const int32_t r = residual_is_signed ? residual_i8 : residual_byte;

        const int64_t acc = bias + (int64_t)weight * x;
        const int64_t exact = naive_round_half_up((__int128)acc * m + (__int128)r * m_r, shift);
        const int64_t expected = output_is_signed ? naive_clamp(exact, -128, 127) : naive_clamp(exact, 0, 255);
        const int32_t actual = convolve_one_pixel(
            bias, weight, x, m, shift, &residual_byte,
            residual_is_signed ? PICOTAG_ACTIVATION_I8 : PICOTAG_ACTIVATION_U8, m_r,
            output_is_signed ? PICOTAG_ACTIVATION_I8 : PICOTAG_ACTIVATION_U8);
        if (actual != expected && mismatches++ < 5) {
            printf("  mismatch: acc %lld m %d r %d m_r %d shift %d: expected %lld, got %d\n",
                   (long long)acc, m, r, m_r, shift, (long long)expected, actual);
        }
    }
    CHECK_EQ(0, mismatches);
}

int main(void) {
    RUN_TEST(requantize_rounds_positive_ties_up);
    RUN_TEST(requantize_rounds_negative_ties_toward_positive);
    RUN_TEST(requantize_rounds_non_ties_to_nearest);
    RUN_TEST(requantize_saturates_u8_at_both_ends);
    RUN_TEST(requantize_saturates_i8_at_both_ends);
    RUN_TEST(requantize_handles_multipliers_near_zero);
    RUN_TEST(requantize_handles_multiplier_just_below_one);
    RUN_TEST(requantize_handles_shift_62);
    RUN_TEST(requantize_matches_exact_rounding_on_random_inputs);
    RUN_TEST(fused_residual_adds_before_rounding);
    RUN_TEST(fused_residual_matches_exact_rounding_on_random_inputs);
    return test_summary();
}
