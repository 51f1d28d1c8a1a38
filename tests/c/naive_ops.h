/*
 * Straightforward versions of the operators for checking the kernels and
 * the runner. They follow docs/QUANTIZATION.md with a different method
 * from the library: the input is copied into an explicitly padded array,
 * sums are int64, and rounding is exact rational arithmetic on __int128
 * instead of a shift.
 */
#ifndef PICOTAG_TESTS_NAIVE_OPS_H
#define PICOTAG_TESTS_NAIVE_OPS_H

#include <stdint.h>

/* Returns rhu(numerator / 2^shift) = floor(numerator / 2^shift + 1/2),
 * computed by integer division with the remainder examined. */
int64_t naive_round_half_up(__int128 numerator, int shift);

int64_t naive_clamp(int64_t value, int64_t lo, int64_t hi);

/* Computes floor((in + 2 * pad - kernel) / stride) + 1, or 0 if negative. */
int naive_output_size(int in, int kernel, int stride, int pad);

typedef struct naive_conv2d {
    int in_h, in_w, in_c;
    const int32_t *input;            /* NHWC */
    const int32_t *zero_point;       /* per input channel, or NULL */
    const int8_t *weight;            /* OHWI */
    const int32_t *bias;
    const int32_t *multiplier;
    const int32_t *shift;
    int kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
    const int32_t *residual;         /* NHWC like the output, or NULL */
    const int32_t *residual_multiplier;
    int lo, hi;                      /* output clamp */
    int out_c;
} naive_conv2d;

/* Writes [out_h, out_w, out_c] into `output`, sized by naive_output_size. */
void naive_conv2d_run(const naive_conv2d *conv, int32_t *output);

void naive_maxpool(const int32_t *input, int in_h, int in_w, int channels, int kernel_h,
                   int kernel_w, int stride_h, int stride_w, int pad_h, int pad_w, int32_t *output);

void naive_global_avgpool(const int32_t *input, int in_h, int in_w, int channels,
                          int64_t multiplier, int shift, int32_t *output);

void naive_fully_connected(const int32_t *input, int in_c, const int8_t *weight,
                           const int32_t *bias, int out_c, int32_t *output);

#endif
