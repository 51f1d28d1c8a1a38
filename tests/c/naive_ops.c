#include "naive_ops.h"

#include <stdlib.h>

int64_t naive_round_half_up(__int128 numerator, int shift) {
    /* floor(n / 2^s + 1/2) = floor((2n + 2^s) / 2^(s+1)). */
    const __int128 dividend = 2 * numerator + ((__int128)1 << shift);
    const __int128 divisor = (__int128)1 << (shift + 1);
    __int128 quotient = dividend / divisor;
    if (dividend % divisor != 0 && dividend < 0) {
        quotient -= 1;  /* C division truncates toward zero; floor goes down. */
    }
    return (int64_t)quotient;
}

int64_t naive_clamp(int64_t value, int64_t lo, int64_t hi) {
    if (value < lo) {
        return lo;
    }
    if (value > hi) {
        return hi;
    }
    return value;
}

int naive_output_size(int in, int kernel, int stride, int pad) {
    const int span = in + 2 * pad - kernel;
    return span < 0 ? 0 : span / stride + 1;
}

void naive_conv2d_run(const naive_conv2d *conv, int32_t *output) {
    const int padded_h = conv->in_h + 2 * conv->pad_h;
    const int padded_w = conv->in_w + 2 * conv->pad_w;
    const int out_h = naive_output_size(conv->in_h, conv->kernel_h, conv->stride_h, conv->pad_h);
    const int out_w = naive_output_size(conv->in_w, conv->kernel_w, conv->stride_w, conv->pad_w);

    /* The padded image contains the zero point at the border. */
    int64_t *padded = malloc(sizeof(int64_t) * (size_t)padded_h * padded_w * conv->in_c);
    for (int y = 0; y < padded_h; y++) {
        for (int x = 0; x < padded_w; x++) {
            for (int c = 0; c < conv->in_c; c++) {
                const int iy = y - conv->pad_h;
                const int ix = x - conv->pad_w;
                const int inside = iy >= 0 && iy < conv->in_h && ix >= 0 && ix < conv->in_w;
                const int64_t z = conv->zero_point != NULL ? conv->zero_point[c] : 0;
                padded[((size_t)y * padded_w + x) * conv->in_c + c] =
                    inside ? conv->input[((size_t)iy * conv->in_w + ix) * conv->in_c + c] : z;
            }
        }
    }

    for (int oy = 0; oy < out_h; oy++) {
        for (int ox = 0; ox < out_w; ox++) {
            for (int o = 0; o < conv->out_c; o++) {
                int64_t acc = conv->bias[o];
                for (int ky = 0; ky < conv->kernel_h; ky++) {
                    for (int kx = 0; kx < conv->kernel_w; kx++) {
                        for (int c = 0; c < conv->in_c; c++) {
                            const int64_t z = conv->zero_point != NULL ? conv->zero_point[c] : 0;
                            const int64_t x = padded[((size_t)(oy * conv->stride_h + ky) * padded_w +
                                                      (size_t)(ox * conv->stride_w + kx)) *
                                                         conv->in_c +
                                                     c];
                            const int64_t w = conv->weight[(((size_t)o * conv->kernel_h + ky) * conv->kernel_w + kx) *
                                                               conv->in_c +
                                                           c];
                            acc += w * (x - z);
                        }
                    }
                }
                const size_t at = ((size_t)oy * out_w + ox) * conv->out_c + o;
                __int128 numerator = (__int128)acc * conv->multiplier[o];
                if (conv->residual != NULL) {
                    numerator += (__int128)conv->residual[at] * conv->residual_multiplier[o];
                }
                output[at] = (int32_t)naive_clamp(naive_round_half_up(numerator, conv->shift[o]),
                                                  conv->lo, conv->hi);
            }
        }
    }
    free(padded);
}

void naive_maxpool(const int32_t *input, int in_h, int in_w, int channels, int kernel_h,
                   int kernel_w, int stride_h, int stride_w, int pad_h, int pad_w, int32_t *output) {
    const int out_h = naive_output_size(in_h, kernel_h, stride_h, pad_h);
    const int out_w = naive_output_size(in_w, kernel_w, stride_w, pad_w);
    for (int oy = 0; oy < out_h; oy++) {
        for (int ox = 0; ox < out_w; ox++) {
            for (int c = 0; c < channels; c++) {
                int64_t best = -1;  /* below any uint8, so a padded-only window would show */
                for (int ky = 0; ky < kernel_h; ky++) {
                    for (int kx = 0; kx < kernel_w; kx++) {
                        const int iy = oy * stride_h - pad_h + ky;
                        const int ix = ox * stride_w - pad_w + kx;
                        if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) {
                            continue;
                        }
                        const int32_t v = input[((size_t)iy * in_w + ix) * channels + c];
                        if (v > best) {
                            best = v;
                        }
                    }
                }
                output[((size_t)oy * out_w + ox) * channels + c] = (int32_t)best;
            }
        }
    }
}

void naive_global_avgpool(const int32_t *input, int in_h, int in_w, int channels,
                          int64_t multiplier, int shift, int32_t *output) {
    for (int c = 0; c < channels; c++) {
        int64_t sum = 0;
        for (int i = 0; i < in_h * in_w; i++) {
            sum += input[(size_t)i * channels + c];
        }
        output[c] = (int32_t)naive_clamp(naive_round_half_up((__int128)sum * multiplier, shift), 0, 255);
    }
}

void naive_fully_connected(const int32_t *input, int in_c, const int8_t *weight,
                           const int32_t *bias, int out_c, int32_t *output) {
    for (int k = 0; k < out_c; k++) {
        int64_t acc = bias[k];
        for (int c = 0; c < in_c; c++) {
            acc += (int64_t)weight[(size_t)k * in_c + c] * input[c];
        }
        output[k] = (int32_t)acc;
    }
}
