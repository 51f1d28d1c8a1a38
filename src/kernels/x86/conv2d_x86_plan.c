/* Blocking of a convolution's output pixels for the x86 kernels. */
#include "kernels/x86/conv2d_x86.h"

static conv2d_x86_a_source choose_a_source(const picotag_conv2d_params *params,
                                           const conv2d_x86_layout *layout) {
    /* A 1x1 window has no padding (pad <= kernel - 1), so its A row is the
     * input pixel itself. */
    const int single_tap = params->kernel_height == 1 && params->kernel_width == 1 &&
                           params->pad_height == 0 && params->pad_width == 0;
    if (layout->allow_direct && single_tap) {
        return CONV2D_X86_A_DIRECT;
    }
    if (layout->allow_indirect && params->input_zero_point == NULL &&
        params->input_channels % layout->group == 0) {
        return CONV2D_X86_A_INDIRECT;
    }
    return CONV2D_X86_A_IM2COL;
}

void conv2d_x86_make_plan(const picotag_conv2d_params *params, const conv2d_x86_layout *layout,
                          conv2d_x86_plan *plan) {
    const uint32_t group = layout->group;
    plan->taps = params->kernel_height * params->kernel_width;
    plan->k = plan->taps * params->input_channels;
    plan->k_padded = (plan->k + group - 1) / group * group;
    plan->a_source = choose_a_source(params, layout);
    plan->a_row_bytes = (size_t)plan->k_padded * layout->a_element_bytes;

    const size_t output_pixels = (size_t)params->output_height * params->output_width;
    size_t block_pixels = CONV2D_X86_BLOCK_BYTES / plan->a_row_bytes;
    block_pixels -= block_pixels % layout->tile_rows;
    if (block_pixels < layout->tile_rows) {
        block_pixels = layout->tile_rows;
    }
    if (block_pixels > output_pixels) {
        block_pixels = output_pixels;
    }
    plan->block_pixels = block_pixels;

    plan->zero_row_bytes = 0;
    switch (plan->a_source) {
    case CONV2D_X86_A_DIRECT:
        plan->scratch_bytes = 0;
        break;
    case CONV2D_X86_A_INDIRECT:
        plan->zero_row_bytes = ((size_t)params->input_channels + 63u) & ~(size_t)63u;
        plan->scratch_bytes = plan->zero_row_bytes + block_pixels * plan->taps * sizeof(const uint8_t *);
        break;
    default:
        plan->scratch_bytes = block_pixels * plan->a_row_bytes;
        break;
    }
}
