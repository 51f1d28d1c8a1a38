/*
 * 2-D convolution, uint8 NHWC input times int8 OHWI weights, int32
 * accumulator, per-channel requantization with round half up, optional
 * fused residual add, uint8 (ReLU) or int8 output.
 *
 *     acc[o] = bias[o] + sum over taps and input channels of w * (x - z)
 *     q[o]   = clamp((acc[o] * m[o] + r * m_r[o] + 2^(s[o] - 1)) >> s[o], lo, hi)
 *
 * Padded positions hold the zero point z, so x - z is 0 there and the tap
 * is skipped. The model loader checked |bias| + 255 * sum |w| < 2^31 per
 * output channel; since |x - z| <= 255, no partial sum overflows int32.
 */
#include "kernels/kernels.h"
#include "kernels/reference/requantize.h"

static int32_t accumulate_output_pixel(const picotag_conv2d_params *p, uint32_t out_y,
                                       uint32_t out_x, uint32_t out_c) {
    const uint32_t in_c_count = p->input_channels;
    const int8_t *filter = p->weight + (size_t)out_c * p->kernel_height * p->kernel_width * in_c_count;
    int32_t acc = p->bias[out_c];

    for (uint32_t ky = 0; ky < p->kernel_height; ky++) {
        const int64_t in_y = (int64_t)out_y * p->stride_height - p->pad_height + ky;
        if (in_y < 0 || in_y >= p->input_height) {
            continue;
        }
        for (uint32_t kx = 0; kx < p->kernel_width; kx++) {
            const int64_t in_x = (int64_t)out_x * p->stride_width - p->pad_width + kx;
            if (in_x < 0 || in_x >= p->input_width) {
                continue;
            }
            const uint8_t *pixel = p->input + ((size_t)in_y * p->input_width + (size_t)in_x) * in_c_count;
            const int8_t *taps = filter + ((size_t)ky * p->kernel_width + kx) * in_c_count;
            if (p->input_zero_point != NULL) {
                for (uint32_t c = 0; c < in_c_count; c++) {
                    acc += (int32_t)taps[c] * ((int32_t)pixel[c] - (int32_t)p->input_zero_point[c]);
                }
            } else {
                for (uint32_t c = 0; c < in_c_count; c++) {
                    acc += (int32_t)taps[c] * (int32_t)pixel[c];
                }
            }
        }
    }
    return acc;
}

static int32_t residual_at(const picotag_conv2d_params *p, size_t index) {
    if (p->residual_dtype == PICOTAG_ACTIVATION_I8) {
        return ((const int8_t *)p->residual)[index];
    }
    return ((const uint8_t *)p->residual)[index];
}

void picotag_conv2d_u8i8_reference(const picotag_conv2d_params *p) {
    for (uint32_t out_y = p->output_row_begin; out_y < p->output_row_end; out_y++) {
        for (uint32_t out_x = 0; out_x < p->output_width; out_x++) {
            const size_t pixel_index = ((size_t)out_y * p->output_width + out_x) * p->output_channels;

            for (uint32_t out_c = 0; out_c < p->output_channels; out_c++) {
                const int32_t acc = accumulate_output_pixel(p, out_y, out_x, out_c);
                int64_t scaled = (int64_t)acc * p->multiplier[out_c];
                if (p->residual != NULL) {
                    scaled += (int64_t)residual_at(p, pixel_index + out_c) * p->residual_multiplier[out_c];
                }

                const uint32_t shift = (uint32_t)p->shift[out_c];
                if (p->output_dtype == PICOTAG_ACTIVATION_I8) {
                    ((int8_t *)p->output)[pixel_index + out_c] = requantize_to_i8(scaled, shift);
                } else {
                    ((uint8_t *)p->output)[pixel_index + out_c] = requantize_to_u8(scaled, shift);
                }
            }
        }
    }
}
