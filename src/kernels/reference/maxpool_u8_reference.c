/*
 * Max pooling over uint8 NHWC. Padded positions are ignored rather than
 * read as 0. Because pad <= kernel - 1 and the output size is
 * floor((in + 2 * pad - kernel) / stride) + 1, every window contains at
 * least one input position.
 */
#include "kernels/kernels.h"

static uint8_t window_maximum(const picotag_maxpool_params *p, uint32_t out_y, uint32_t out_x,
                              uint32_t c) {
    uint8_t maximum = 0;

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
            const uint8_t v = p->input[((size_t)in_y * p->input_width + (size_t)in_x) * p->channels + c];
            if (v > maximum) {
                maximum = v;
            }
        }
    }
    return maximum;
}

void picotag_maxpool_u8_reference(const picotag_maxpool_params *p) {
    for (uint32_t out_y = p->output_row_begin; out_y < p->output_row_end; out_y++) {
        for (uint32_t out_x = 0; out_x < p->output_width; out_x++) {
            uint8_t *out = p->output + ((size_t)out_y * p->output_width + out_x) * p->channels;
            for (uint32_t c = 0; c < p->channels; c++) {
                out[c] = window_maximum(p, out_y, out_x, c);
            }
        }
    }
}
