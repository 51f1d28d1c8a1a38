/* im2col for the x86 convolution kernels: the input patch of each output
 * pixel as one contiguous row in OHWI tap order. */
#include <emmintrin.h>
#include <string.h>

#include "kernels/x86/conv2d_x86.h"

/* Where one output pixel's A row is written, element by element. */
typedef struct a_row_writer {
    uint8_t *bytes;          /* uint8 elements, or NULL */
    int16_t *wide;           /* int16 elements, or NULL */
    size_t position;         /* elements written */
} a_row_writer;

/* Zero-extends uint8 values to int16 with SSE2, which every x86-64 CPU has. */
static void widen_to_int16(int16_t *destination, const uint8_t *values, size_t count) {
    const __m128i zero = _mm_setzero_si128();
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        const __m128i bytes = _mm_loadu_si128((const __m128i *)(const void *)(values + i));
        _mm_storeu_si128((__m128i *)(void *)(destination + i), _mm_unpacklo_epi8(bytes, zero));
        _mm_storeu_si128((__m128i *)(void *)(destination + i + 8), _mm_unpackhi_epi8(bytes, zero));
    }
    for (; i < count; i++) {
        destination[i] = values[i];
    }
}

static void write_input(a_row_writer *row, const uint8_t *values, size_t count) {
    if (row->bytes != NULL) {
        memcpy(row->bytes + row->position, values, count);
    } else {
        widen_to_int16(row->wide + row->position, values, count);
    }
    row->position += count;
}

static void write_zeros(a_row_writer *row, size_t count) {
    if (row->bytes != NULL) {
        memset(row->bytes + row->position, 0, count);
    } else {
        memset(row->wide + row->position, 0, count * sizeof(int16_t));
    }
    row->position += count;
}

/* Writes `taps` padded positions: the zero point of each channel, or 0. */
static void write_padding(a_row_writer *row, const picotag_conv2d_params *params, uint32_t taps) {
    if (params->input_zero_point == NULL) {
        write_zeros(row, (size_t)taps * params->input_channels);
        return;
    }
    for (uint32_t t = 0; t < taps; t++) {
        write_input(row, params->input_zero_point, params->input_channels);
    }
}

static void write_patch(a_row_writer *row, const picotag_conv2d_params *params, size_t pixel) {
    const uint32_t channels = params->input_channels;
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
            write_padding(row, params, kernel_width);
            continue;
        }
        const uint8_t *source =
            params->input + ((size_t)in_y * params->input_width + (size_t)(first_x + kx_begin)) * channels;
        write_padding(row, params, (uint32_t)kx_begin);
        write_input(row, source, (size_t)(kx_end - kx_begin) * channels);
        write_padding(row, params, kernel_width - (uint32_t)kx_end);
    }
}

void conv2d_x86_im2col(const picotag_conv2d_params *params, const conv2d_x86_layout *layout,
                       const conv2d_x86_plan *plan, size_t first_pixel, size_t count, void *rows) {
    for (size_t i = 0; i < count; i++) {
        uint8_t *start = (uint8_t *)rows + i * plan->a_row_bytes;
        a_row_writer row = {
            .bytes = layout->a_element_bytes == 1 ? start : NULL,
            .wide = layout->a_element_bytes == 2 ? (int16_t *)(void *)start : NULL,
            .position = 0,
        };
        write_patch(&row, params, first_pixel + i);
        write_zeros(&row, plan->k_padded - plan->k);
    }
}
