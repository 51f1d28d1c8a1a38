/* Indirection buffers for the SIMD convolution kernels: a pointer to the
 * input pixel of every tap of an output pixel's window, so that a
 * micro-kernel reads its A rows without a copy. */
#include "kernels/kernels.h"

void picotag_conv2d_indirection(const picotag_conv2d_params *params, size_t first_pixel, size_t count,
                                const uint8_t *padding, const uint8_t **pointers) {
    const size_t channels = params->input_channels;
    const size_t taps_per_pixel = (size_t)params->kernel_height * params->kernel_width;

    for (size_t i = 0; i < count; i++) {
        const size_t pixel = first_pixel + i;
        const int64_t first_y = (int64_t)(pixel / params->output_width) * params->stride_height -
                                params->pad_height;
        const int64_t first_x = (int64_t)(pixel % params->output_width) * params->stride_width -
                                params->pad_width;
        const uint8_t **taps = pointers + i * taps_per_pixel;

        for (uint32_t ky = 0; ky < params->kernel_height; ky++) {
            const int64_t in_y = first_y + ky;
            for (uint32_t kx = 0; kx < params->kernel_width; kx++) {
                const int64_t in_x = first_x + kx;
                const int inside = in_y >= 0 && in_y < params->input_height && in_x >= 0 &&
                                   in_x < params->input_width;
                *taps++ = inside ? params->input + ((size_t)in_y * params->input_width + (size_t)in_x) * channels
                                 : padding;
            }
        }
    }
}
