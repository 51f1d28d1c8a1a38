/*
 * Max pooling over uint8 NHWC on AVX2, 32 channels per VPMAXUB. Padded
 * positions are ignored, as in picotag_maxpool_u8_reference, and every
 * window contains at least one input position (pad <= kernel - 1), so the
 * result equals the reference's.
 */
#include <immintrin.h>

#include "kernels/x86/x86_kernels.h"

#define VECTOR_CHANNELS 32

/* Returns the window taps [begin, end) that lie inside [0, size). */
static void clip_window(int64_t first, uint32_t kernel, uint32_t size, uint32_t *begin, uint32_t *end) {
    const int64_t low = first < 0 ? -first : 0;
    int64_t high = (int64_t)size - first;
    if (high > kernel) {
        high = kernel;
    }
    *begin = (uint32_t)low;
    *end = high > low ? (uint32_t)high : (uint32_t)low;
}

static void pool_pixel(const picotag_maxpool_params *p, uint32_t out_y, uint32_t out_x, uint8_t *out) {
    const uint32_t channels = p->channels;
    const int64_t first_y = (int64_t)out_y * p->stride_height - p->pad_height;
    const int64_t first_x = (int64_t)out_x * p->stride_width - p->pad_width;
    uint32_t ky_begin, ky_end, kx_begin, kx_end;
    clip_window(first_y, p->kernel_height, p->input_height, &ky_begin, &ky_end);
    clip_window(first_x, p->kernel_width, p->input_width, &kx_begin, &kx_end);

    uint32_t c = 0;
    for (; c + VECTOR_CHANNELS <= channels; c += VECTOR_CHANNELS) {
        __m256i maximum = _mm256_setzero_si256();
        for (uint32_t ky = ky_begin; ky < ky_end; ky++) {
            const uint8_t *row = p->input + ((size_t)(first_y + ky) * p->input_width) * channels + c;
            for (uint32_t kx = kx_begin; kx < kx_end; kx++) {
                const uint8_t *pixel = row + (size_t)(first_x + kx) * channels;
                maximum = _mm256_max_epu8(maximum, _mm256_loadu_si256((const __m256i *)(const void *)pixel));
            }
        }
        _mm256_storeu_si256((__m256i *)(void *)(out + c), maximum);
    }

    for (; c < channels; c++) {
        uint8_t maximum = 0;
        for (uint32_t ky = ky_begin; ky < ky_end; ky++) {
            for (uint32_t kx = kx_begin; kx < kx_end; kx++) {
                const size_t pixel = (size_t)(first_y + ky) * p->input_width + (size_t)(first_x + kx);
                const uint8_t value = p->input[pixel * channels + c];
                maximum = value > maximum ? value : maximum;
            }
        }
        out[c] = maximum;
    }
}

void picotag_maxpool_u8_32c_avx2(const picotag_maxpool_params *p) {
    for (uint32_t out_y = p->output_row_begin; out_y < p->output_row_end; out_y++) {
        for (uint32_t out_x = 0; out_x < p->output_width; out_x++) {
            uint8_t *out = p->output + ((size_t)out_y * p->output_width + out_x) * p->channels;
            pool_pixel(p, out_y, out_x, out);
        }
    }
}
