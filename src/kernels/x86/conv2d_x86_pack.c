/* Packing of OHWI convolution weights into the x86 kernels' layout. */
#include <string.h>

#include "kernels/x86/conv2d_x86.h"

static size_t packed_bias_bytes(uint32_t output_channels) {
    return ((size_t)output_channels * sizeof(int32_t) + 63u) & ~(size_t)63u;
}

size_t conv2d_x86_packed_bytes(const picotag_conv2d_params *params, const conv2d_x86_layout *layout) {
    conv2d_x86_plan plan;
    conv2d_x86_make_plan(params, layout, &plan);
    return packed_bias_bytes(params->output_channels) +
           (size_t)params->output_channels * plan.k_padded + CONV2D_X86_PACKED_TAIL_BYTES;
}

/* Returns bias[o] - sum_k w[o][k] * z[c(k)], the zero point moved out of
 * the sum over taps. The model loader's bound |bias| + 255 * sum |w| < 2^31
 * makes it fit int32. */
static int32_t packed_bias_of_channel(const picotag_conv2d_params *params, uint32_t o, uint32_t k) {
    int64_t value = params->bias[o];
    if (params->input_zero_point != NULL) {
        const int8_t *filter = params->weight + (size_t)o * k;
        const uint32_t channels = params->input_channels;
        for (uint32_t i = 0; i < k; i++) {
            value -= (int64_t)filter[i] * params->input_zero_point[i % channels];
        }
    }
    return (int32_t)value;
}

void conv2d_x86_pack(const picotag_conv2d_params *params, const conv2d_x86_layout *layout,
                     void *packed) {
    conv2d_x86_plan plan;
    conv2d_x86_make_plan(params, layout, &plan);
    const uint32_t output_channels = params->output_channels;
    const uint32_t group = layout->group;
    const uint32_t groups = plan.k_padded / group;
    memset(packed, 0, conv2d_x86_packed_bytes(params, layout));

    int32_t *bias = (int32_t *)packed;
    for (uint32_t o = 0; o < output_channels; o++) {
        bias[o] = packed_bias_of_channel(params, o, plan.k);
    }

    int8_t *weights = (int8_t *)conv2d_x86_packed_weights(packed, output_channels);
    for (uint32_t first = 0; first < output_channels; first += layout->channel_block) {
        const uint32_t remaining = output_channels - first;
        const uint32_t n = remaining < layout->channel_block ? remaining : layout->channel_block;
        int8_t *block = weights + (size_t)first * plan.k_padded;

        for (uint32_t g = 0; g < groups; g++) {
            for (uint32_t j = 0; j < n; j++) {
                const int8_t *filter = params->weight + (size_t)(first + j) * plan.k;
                int8_t *destination = block + ((size_t)g * n + j) * group;
                for (uint32_t t = 0; t < group; t++) {
                    const uint32_t k = g * group + t;
                    destination[t] = k < plan.k ? filter[k] : 0;
                }
            }
        }
    }
}
