/*
 * Max pooling over uint8 NHWC with Advanced SIMD: UMAX over the window's
 * valid taps, 16 channels at a time, and a scalar loop for the last
 * C mod 16 channels. Padded positions are skipped, as in
 * picotag_maxpool_u8_reference, so the result is the same bit for bit.
 */
#include "kernels/arm/arm_kernels.h"

void picotag_maxpool_u8_16c_neon(const picotag_maxpool_params *p) {
    const size_t channels = p->channels;
    const size_t vector_channels = channels - channels % 16u;

    for (uint32_t out_y = p->output_row_begin; out_y < p->output_row_end; out_y++) {
        /* Window rows [y_begin, y_end) lie inside the input. The window
         * always contains at least one input position. */
        const int64_t first_y = (int64_t)out_y * p->stride_height - p->pad_height;
        const int64_t y_begin = first_y < 0 ? 0 : first_y;
        int64_t y_end = first_y + p->kernel_height;
        if (y_end > p->input_height) {
            y_end = p->input_height;
        }

        for (uint32_t out_x = 0; out_x < p->output_width; out_x++) {
            const int64_t first_x = (int64_t)out_x * p->stride_width - p->pad_width;
            const int64_t x_begin = first_x < 0 ? 0 : first_x;
            int64_t x_end = first_x + p->kernel_width;
            if (x_end > p->input_width) {
                x_end = p->input_width;
            }
            uint8_t *out = p->output + ((size_t)out_y * p->output_width + out_x) * channels;

            for (size_t c = 0; c < vector_channels; c += 16) {
                uint8x16_t maximum = vdupq_n_u8(0);
                for (int64_t y = y_begin; y < y_end; y++) {
                    const uint8_t *row = p->input + ((size_t)y * p->input_width) * channels + c;
                    for (int64_t x = x_begin; x < x_end; x++) {
                        maximum = vmaxq_u8(maximum, vld1q_u8(row + (size_t)x * channels));
                    }
                }
                vst1q_u8(out + c, maximum);
            }
            for (size_t c = vector_channels; c < channels; c++) {
                uint8_t maximum = 0;
                for (int64_t y = y_begin; y < y_end; y++) {
                    const uint8_t *row = p->input + ((size_t)y * p->input_width) * channels + c;
                    for (int64_t x = x_begin; x < x_end; x++) {
                        const uint8_t value = row[(size_t)x * channels];
                        maximum = value > maximum ? value : maximum;
                    }
                }
                out[c] = maximum;
            }
        }
    }
}
