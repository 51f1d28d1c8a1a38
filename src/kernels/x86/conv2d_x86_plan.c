/* Blocking of a convolution's output pixels for the x86 kernels. */
#include "kernels/x86/conv2d_x86.h"

void conv2d_x86_make_plan(const picotag_conv2d_params *params, const conv2d_x86_layout *layout,
                          conv2d_x86_plan *plan) {
    const uint32_t group = layout->group;
    plan->k = params->kernel_height * params->kernel_width * params->input_channels;
    plan->k_padded = (plan->k + group - 1) / group * group;

    /* A 1x1 window has no padding (pad <= kernel - 1), so its A row is the
     * input pixel itself. */
    plan->direct = layout->allow_direct && params->kernel_height == 1 && params->kernel_width == 1 &&
                   params->pad_height == 0 && params->pad_width == 0;
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
    plan->scratch_bytes = plan->direct ? 0 : block_pixels * plan->a_row_bytes;
}
