/* Planning, weight packing, im2col and the tile loop of the AArch64
 * convolution kernels, compiled for baseline armv8-a. */
#include "kernels/arm/conv2d_arm.h"

static conv2d_arm_a_source choose_a_source(const picotag_conv2d_params *params, uint32_t taps) {
    if (params->input_channels % CONV2D_ARM_K_STEP != 0) {
        return CONV2D_ARM_A_IM2COL;
    }
    /* A 1x1 window has no padding (pad <= kernel - 1). */
    if (taps == 1 && params->pad_height == 0 && params->pad_width == 0) {
        return CONV2D_ARM_A_DIRECT;
    }
    return CONV2D_ARM_A_INDIRECT;
}

void conv2d_arm_make_plan(const picotag_conv2d_params *params, conv2d_arm_plan *plan) {
    plan->taps = params->kernel_height * params->kernel_width;
    plan->k = plan->taps * params->input_channels;
    plan->k_padded = (plan->k + CONV2D_ARM_K_STEP - 1) / CONV2D_ARM_K_STEP * CONV2D_ARM_K_STEP;
    plan->a_source = choose_a_source(params, plan->taps);

    const size_t output_pixels = (size_t)params->output_height * params->output_width;
    size_t block_pixels = CONV2D_ARM_BLOCK_BYTES / plan->k_padded;
    block_pixels -= block_pixels % CONV2D_ARM_TILE_ROWS;
    if (block_pixels < CONV2D_ARM_TILE_ROWS) {
        block_pixels = CONV2D_ARM_TILE_ROWS;
    }
    if (block_pixels > output_pixels) {
        block_pixels = output_pixels;
    }
    plan->block_pixels = block_pixels;

    plan->zero_row_bytes = 0;
    switch (plan->a_source) {
    case CONV2D_ARM_A_DIRECT:
        plan->scratch_bytes = 0;
        break;
    case CONV2D_ARM_A_INDIRECT:
        if (params->input_zero_point == NULL) {
            plan->zero_row_bytes = ((size_t)params->input_channels + 63u) & ~(size_t)63u;
        }
        plan->scratch_bytes = plan->zero_row_bytes + block_pixels * plan->taps * sizeof(const uint8_t *);
        break;
    default:
        plan->scratch_bytes = block_pixels * plan->k_padded;
        break;
    }
}

size_t conv2d_arm_scratch_bytes(const picotag_conv2d_params *params) {
    conv2d_arm_plan plan;
    conv2d_arm_make_plan(params, &plan);
    return plan.scratch_bytes;
}

static size_t packed_bias_bytes(uint32_t output_channels) {
    return ((size_t)output_channels * sizeof(int32_t) + 63u) & ~(size_t)63u;
}

size_t conv2d_arm_packed_bytes(const picotag_conv2d_params *params) {
    conv2d_arm_plan plan;
    conv2d_arm_make_plan(params, &plan);
    return packed_bias_bytes(params->output_channels) + (size_t)params->output_channels * plan.k_padded +
           CONV2D_ARM_PACKED_TAIL_BYTES;
}

/*
 * Returns bias[o] - sum_k w[o][k] * z[c(k)], plus 128 * sum_k w[o][k] when
 * the kernel reads A - 128: then sum_k w * A = sum_k w * (A - 128) +
 * 128 * sum_k w. The result is bias + sum_k w * (c - z) with c 0 or 128 and
 * |c - z| <= 255, so the loader's bound |bias| + 255 * sum |w| < 2^31
 * makes it fit int32.
 */
static int32_t packed_bias_of_channel(const picotag_conv2d_params *params, const conv2d_arm_layout *layout,
                                      uint32_t o, uint32_t k) {
    const int8_t *filter = params->weight + (size_t)o * k;
    const uint32_t channels = params->input_channels;
    int64_t value = params->bias[o];
    for (uint32_t i = 0; i < k; i++) {
        const int64_t zero_point = params->input_zero_point != NULL ? params->input_zero_point[i % channels] : 0;
        const int64_t offset = layout->signed_activations ? 128 : 0;
        value += (int64_t)filter[i] * (offset - zero_point);
    }
    return (int32_t)value;
}

void conv2d_arm_pack(const picotag_conv2d_params *params, const conv2d_arm_layout *layout, void *packed) {
    conv2d_arm_plan plan;
    conv2d_arm_make_plan(params, &plan);
    const uint32_t output_channels = params->output_channels;
    const uint32_t group = layout->group;
    const uint32_t groups = plan.k_padded / group;
    memset(packed, 0, conv2d_arm_packed_bytes(params));

    int32_t *bias = (int32_t *)packed;
    for (uint32_t o = 0; o < output_channels; o++) {
        bias[o] = packed_bias_of_channel(params, layout, o, plan.k);
    }

    int8_t *weights = (int8_t *)packed + packed_bias_bytes(output_channels);
    for (uint32_t first = 0; first < output_channels; first += CONV2D_ARM_TILE_CHANNELS) {
        const uint32_t remaining = output_channels - first;
        const uint32_t n = remaining < CONV2D_ARM_TILE_CHANNELS ? remaining : CONV2D_ARM_TILE_CHANNELS;
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

/* Writes `taps` padded positions: the zero point of each channel, or 0. */
static uint8_t *write_padding(uint8_t *row, const picotag_conv2d_params *params, uint32_t taps) {
    const size_t channels = params->input_channels;
    if (params->input_zero_point == NULL) {
        memset(row, 0, taps * channels);
        return row + taps * channels;
    }
    for (uint32_t t = 0; t < taps; t++) {
        memcpy(row, params->input_zero_point, channels);
        row += channels;
    }
    return row;
}

/* Writes the A row of one output pixel: its input patch in OHWI tap order,
 * the zero point at padded positions, then zeros up to k_padded. */
static void write_patch(uint8_t *row, const picotag_conv2d_params *params, const conv2d_arm_plan *plan,
                        size_t pixel) {
    const uint8_t *row_start = row;
    const size_t channels = params->input_channels;
    const uint32_t kernel_width = params->kernel_width;
    const int64_t out_y = (int64_t)(pixel / params->output_width);
    const int64_t out_x = (int64_t)(pixel % params->output_width);
    const int64_t first_x = out_x * params->stride_width - params->pad_width;

    /* Taps [kx_begin, kx_end) of every kernel row lie inside the input. */
    int64_t kx_begin = first_x < 0 ? -first_x : 0;
    int64_t kx_end = (int64_t)params->input_width - first_x;
    if (kx_end > kernel_width) {
        kx_end = kernel_width;
    }
    if (kx_begin > kx_end) {
        kx_begin = kx_end;
    }

    for (uint32_t ky = 0; ky < params->kernel_height; ky++) {
        const int64_t in_y = out_y * params->stride_height - params->pad_height + ky;
        if (in_y < 0 || in_y >= params->input_height || kx_begin == kx_end) {
            row = write_padding(row, params, kernel_width);
            continue;
        }
        row = write_padding(row, params, (uint32_t)kx_begin);
        const size_t count = (size_t)(kx_end - kx_begin) * channels;
        memcpy(row, params->input + ((size_t)in_y * params->input_width + (size_t)(first_x + kx_begin)) * channels,
               count);
        row += count;
        row = write_padding(row, params, kernel_width - (uint32_t)kx_end);
    }
    memset(row, 0, plan->k_padded - (size_t)(row - row_start));
}

/* Returns the A row of an output pixel on the direct path: the input pixel
 * under its 1x1 window. */
static const uint8_t *direct_row(const picotag_conv2d_params *params, size_t pixel) {
    const size_t in_y = (pixel / params->output_width) * params->stride_height;
    const size_t in_x = (pixel % params->output_width) * params->stride_width;
    return params->input + (in_y * params->input_width + in_x) * params->input_channels;
}

void conv2d_arm_run(const picotag_conv2d_params *params, conv2d_arm_tile_fn tile_function) {
    conv2d_arm_plan plan;
    conv2d_arm_make_plan(params, &plan);
    const uint32_t output_channels = params->output_channels;
    const int32_t *packed_bias = (const int32_t *)params->packed_weights;
    const int8_t *weights = (const int8_t *)params->packed_weights + packed_bias_bytes(output_channels);
    uint8_t *scratch = params->scratch;

    /* INDIRECT: the tap pointers follow the zero row in scratch. */
    const int indirect = plan.a_source == CONV2D_ARM_A_INDIRECT;
    const uint8_t **pointers = indirect ? (const uint8_t **)(void *)(scratch + plan.zero_row_bytes) : NULL;
    const uint8_t *padding = params->input_zero_point;
    if (indirect && padding == NULL) {
        memset(scratch, 0, plan.zero_row_bytes);
        padding = scratch;
    }

    conv2d_arm_tile tile;
    tile.params = params;
    tile.taps = indirect ? plan.taps : 1;
    tile.k_steps = plan.k_padded / CONV2D_ARM_K_STEP / tile.taps;
    /* DIRECT and IM2COL: the one pointer of each row. */
    const uint8_t *row_pointers[CONV2D_ARM_TILE_ROWS];

    const size_t end = (size_t)params->output_row_end * params->output_width;
    for (size_t first = (size_t)params->output_row_begin * params->output_width; first < end;
         first += plan.block_pixels) {
        const size_t count = end - first < plan.block_pixels ? end - first : plan.block_pixels;
        if (plan.a_source == CONV2D_ARM_A_IM2COL) {
            for (size_t i = 0; i < count; i++) {
                write_patch(scratch + i * plan.k_padded, params, &plan, first + i);
            }
        } else if (indirect) {
            picotag_conv2d_indirection(params, first, count, padding, pointers);
        }

        /* The weights of one block of 16 channels stay in cache while every
         * tile of the pixel block uses them. */
        for (uint32_t channel = 0; channel < output_channels; channel += CONV2D_ARM_TILE_CHANNELS) {
            const uint32_t remaining = output_channels - channel;
            tile.channel = channel;
            tile.channels = remaining < CONV2D_ARM_TILE_CHANNELS ? remaining : CONV2D_ARM_TILE_CHANNELS;
            tile.packed_bias = packed_bias + channel;
            tile.weights = weights + (size_t)channel * plan.k_padded;

            for (size_t t = 0; t < count; t += CONV2D_ARM_TILE_ROWS) {
                tile.rows = count - t < CONV2D_ARM_TILE_ROWS ? (uint32_t)(count - t) : CONV2D_ARM_TILE_ROWS;
                for (uint32_t i = 0; i < CONV2D_ARM_TILE_ROWS; i++) {
                    const size_t row = t + (i < tile.rows ? i : tile.rows - 1);
                    tile.pixel[i] = first + row;
                    switch (plan.a_source) {
                    case CONV2D_ARM_A_DIRECT:
                        row_pointers[i] = direct_row(params, first + row);
                        tile.a[i] = &row_pointers[i];
                        break;
                    case CONV2D_ARM_A_INDIRECT:
                        tile.a[i] = pointers + row * plan.taps;
                        break;
                    default:
                        row_pointers[i] = scratch + row * plan.k_padded;
                        tile.a[i] = &row_pointers[i];
                        break;
                    }
                }
                tile_function(&tile);
            }
        }
    }
}
