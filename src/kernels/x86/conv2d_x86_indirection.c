/* Indirection for the x86 convolution kernels: a pointer to the input
 * pixel of every tap of an output pixel's window, so that the micro-kernel
 * reads A without a copy. */
#include "kernels/x86/conv2d_x86.h"

void conv2d_x86_indirection(const picotag_conv2d_params *params, const conv2d_x86_plan *plan,
                            size_t first_pixel, size_t count, const uint8_t *zero_row,
                            const uint8_t **pointers) {
    const size_t channels = params->input_channels;

    for (size_t i = 0; i < count; i++) {
        const size_t pixel = first_pixel + i;
        const int64_t first_y = (int64_t)(pixel / params->output_width) * params->stride_height -
                                params->pad_height;
        const int64_t first_x = (int64_t)(pixel % params->output_width) * params->stride_width -
                                params->pad_width;
        const uint8_t **taps = pointers + i * plan->taps;

        for (uint32_t ky = 0; ky < params->kernel_height; ky++) {
            const int64_t in_y = first_y + ky;
            for (uint32_t kx = 0; kx < params->kernel_width; kx++) {
                const int64_t in_x = first_x + kx;
                const int inside = in_y >= 0 && in_y < params->input_height && in_x >= 0 &&
                                   in_x < params->input_width;
                const size_t offset = inside ? ((size_t)in_y * params->input_width + (size_t)in_x) * channels : 0;
                *taps++ = inside ? params->input + offset : zero_row;
            }
        }
    }
}
