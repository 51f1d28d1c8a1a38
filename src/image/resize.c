/* Antialiased bilinear resize of RGB8 images in fixed point.
 *
 * The filter is a triangle whose radius is one output pixel measured in
 * source pixels (at least one source pixel), so a downscale averages every
 * source pixel that falls under it. The arithmetic is defined exactly so
 * that train/picotag_train/preprocess.py reproduces it bit for bit;
 * docs/PREPROCESSING.md states it as equations. This file must be compiled
 * with -ffp-contract=off: a fused multiply-add would round the filter
 * coefficients differently from NumPy.
 *
 * Steps:
 *   1. Per axis and output sample, the source window and the real-valued
 *      triangle weights, using only IEEE double +, -, *, / and floor.
 *   2. Fixed-point weights with 14 fractional bits by cumulative rounding:
 *      each output's weights are non-negative and sum to exactly 2^14.
 *   3. Horizontal pass: uint8 source rows to uint16 intermediates with 8
 *      fractional bits, (sum + 2^5) >> 6.
 *   4. Vertical pass: intermediates to uint8, (sum + 2^21) >> 22.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"

#define WEIGHT_BITS 14
#define WEIGHT_ONE (1 << WEIGHT_BITS)
#define INTERMEDIATE_FRACTION_BITS 8
#define HORIZONTAL_SHIFT (WEIGHT_BITS - INTERMEDIATE_FRACTION_BITS)
#define VERTICAL_SHIFT (WEIGHT_BITS + INTERMEDIATE_FRACTION_BITS)

/* One axis: for each output sample, `taps` weights applied to the source
 * samples first, first + 1, ... */
typedef struct resize_filter {
    int32_t count;
    int32_t *first;
    int32_t *taps;
    size_t *start;      /* index of the sample's first weight in `weights` */
    int16_t *weights;   /* 14 fractional bits, each sample's weights sum to 2^14 */
} resize_filter;

static void filter_release(resize_filter *filter)
{
    free(filter->first);
    free(filter->taps);
    free(filter->start);
    free(filter->weights);
    memset(filter, 0, sizeof *filter);
}

/* Returns the source coordinate of the centre of output sample i, which is
 * resized index offset + i. Source pixel k covers [k, k + 1). */
static double sample_center(double origin, int64_t offset, int32_t i, double scale)
{
    return origin + ((double)(offset + i) + 0.5) * scale;
}

/* Builds one axis's filter. [source_origin, source_origin + source_extent)
 * is the part of the source, in its own pixels, that maps onto the resized
 * image. It is [0, source_size) except for a JPEG decoded at a reduced DCT
 * scale, whose partial last pixel lies outside it (see preprocess.c). */
static picotag_status filter_build(int64_t source_size, double source_origin,
                                   double source_extent, int64_t resized_size, int64_t offset,
                                   int32_t count, resize_filter *filter)
{
    memset(filter, 0, sizeof *filter);
    filter->count = count;
    filter->first = malloc((size_t)count * sizeof *filter->first);
    filter->taps = malloc((size_t)count * sizeof *filter->taps);
    filter->start = malloc((size_t)count * sizeof *filter->start);
    if (!filter->first || !filter->taps || !filter->start) {
        filter_release(filter);
        return PICOTAG_ERROR_OUT_OF_MEMORY;
    }

    double scale = source_extent / (double)resized_size;
    double support = scale > 1.0 ? scale : 1.0;

    /* Windows: [floor(center - support + 0.5), floor(center + support + 0.5)),
     * clipped to the source. */
    size_t total_taps = 0;
    int32_t max_taps = 0;
    for (int32_t i = 0; i < count; i++) {
        double center = sample_center(source_origin, offset, i, scale);
        double low = floor(center - support + 0.5);
        double high = floor(center + support + 0.5);
        int64_t first = low < 0.0 ? 0 : (int64_t)low;
        int64_t end = high > (double)source_size ? source_size : (int64_t)high;
        filter->first[i] = (int32_t)first;
        filter->taps[i] = (int32_t)(end - first);
        filter->start[i] = total_taps;
        total_taps += (size_t)(end - first);
        if (filter->taps[i] > max_taps)
            max_taps = filter->taps[i];
    }

    filter->weights = malloc(total_taps * sizeof *filter->weights);
    double *cumulative = malloc((size_t)max_taps * sizeof *cumulative);
    if (!filter->weights || !cumulative) {
        free(cumulative);
        filter_release(filter);
        return PICOTAG_ERROR_OUT_OF_MEMORY;
    }

    for (int32_t i = 0; i < count; i++) {
        double center = sample_center(source_origin, offset, i, scale);

        /* Triangle weights max(0, 1 - |t|), t = distance / support, and
         * their running sums in tap order. The tap nearest the centre has
         * weight >= 0.5, so the total is positive. */
        double sum = 0.0;
        for (int32_t k = 0; k < filter->taps[i]; k++) {
            double t = ((double)(filter->first[i] + k) + 0.5 - center) / support;
            double weight = 1.0 - fabs(t);
            if (weight < 0.0)
                weight = 0.0;
            sum += weight;
            cumulative[k] = sum;
        }

        /* Cumulative rounding: Q_k = floor(C_k / C_last * 2^14 + 0.5) is
         * non-decreasing and ends at exactly 2^14 (C_last / C_last == 1 in
         * IEEE arithmetic), so the differences are non-negative and sum to
         * 2^14. */
        int32_t previous = 0;
        int16_t *weights = filter->weights + filter->start[i];
        for (int32_t k = 0; k < filter->taps[i]; k++) {
            int32_t rounded = (int32_t)floor(cumulative[k] / sum * (double)WEIGHT_ONE + 0.5);
            weights[k] = (int16_t)(rounded - previous);
            previous = rounded;
        }
    }

    free(cumulative);
    return PICOTAG_OK;
}

static void resize_rows_horizontal(const uint8_t *source, int source_width, int32_t row_begin,
                                   int32_t row_end, const resize_filter *filter,
                                   uint16_t *intermediate)
{
    size_t out_width = (size_t)filter->count;
    for (int32_t y = row_begin; y < row_end; y++) {
        const uint8_t *row = source + (size_t)y * (size_t)source_width * 3;
        uint16_t *out = intermediate + (size_t)(y - row_begin) * out_width * 3;

        for (size_t j = 0; j < out_width; j++) {
            const int16_t *weights = filter->weights + filter->start[j];
            const uint8_t *pixel = row + (size_t)filter->first[j] * 3;
            int32_t red = 0, green = 0, blue = 0;
            for (int32_t k = 0; k < filter->taps[j]; k++, pixel += 3) {
                red += weights[k] * pixel[0];
                green += weights[k] * pixel[1];
                blue += weights[k] * pixel[2];
            }
            /* At most 255 * 2^14 before the shift, 65280 after. */
            out[j * 3 + 0] = (uint16_t)((red + (1 << (HORIZONTAL_SHIFT - 1))) >> HORIZONTAL_SHIFT);
            out[j * 3 + 1] = (uint16_t)((green + (1 << (HORIZONTAL_SHIFT - 1))) >> HORIZONTAL_SHIFT);
            out[j * 3 + 2] = (uint16_t)((blue + (1 << (HORIZONTAL_SHIFT - 1))) >> HORIZONTAL_SHIFT);
        }
    }
}

static void resize_rows_vertical(const uint16_t *intermediate, int32_t row_begin,
                                 const resize_filter *filter, size_t row_samples,
                                 int32_t *accumulator, uint8_t *destination)
{
    for (int32_t i = 0; i < filter->count; i++) {
        const int16_t *weights = filter->weights + filter->start[i];
        memset(accumulator, 0, row_samples * sizeof *accumulator);

        /* At most 65280 * 2^14 < 2^31 after all taps, since the weights are
         * non-negative and sum to 2^14. */
        for (int32_t k = 0; k < filter->taps[i]; k++) {
            int32_t weight = weights[k];
            if (weight == 0)
                continue;
            const uint16_t *row =
                intermediate + (size_t)(filter->first[i] + k - row_begin) * row_samples;
            for (size_t x = 0; x < row_samples; x++)
                accumulator[x] += weight * row[x];
        }

        uint8_t *out = destination + (size_t)i * row_samples;
        for (size_t x = 0; x < row_samples; x++) {
            int32_t value = (accumulator[x] + (1 << (VERTICAL_SHIFT - 1))) >> VERTICAL_SHIFT;
            out[x] = (uint8_t)(value > 255 ? 255 : value);
        }
    }
}

picotag_status image_resize_crop_area(const uint8_t *source, int source_height, int source_width,
                                      const image_source_area *area, int64_t resized_height,
                                      int64_t resized_width, int64_t crop_top, int64_t crop_left,
                                      uint8_t *destination, int destination_height,
                                      int destination_width)
{
    if (!source || !destination || source_height < 1 || source_width < 1 ||
        destination_height < 1 || destination_width < 1 || resized_height < 1 ||
        resized_width < 1 || crop_top < 0 || crop_left < 0 ||
        crop_top > resized_height - destination_height ||
        crop_left > resized_width - destination_width || !(area->height > 0.0) ||
        !(area->width > 0.0) || !(area->top >= 0.0) || !(area->left >= 0.0) ||
        area->top + area->height > (double)source_height ||
        area->left + area->width > (double)source_width)
        return PICOTAG_ERROR_INVALID_ARGUMENT;

    resize_filter horizontal, vertical;
    if (filter_build(source_width, area->left, area->width, resized_width, crop_left,
                     destination_width, &horizontal) != PICOTAG_OK)
        return PICOTAG_ERROR_OUT_OF_MEMORY;
    if (filter_build(source_height, area->top, area->height, resized_height, crop_top,
                     destination_height, &vertical) != PICOTAG_OK) {
        filter_release(&horizontal);
        return PICOTAG_ERROR_OUT_OF_MEMORY;
    }

    /* Only the source rows under some output row's window are filtered
     * horizontally; windows move down monotonically with the output row. */
    int32_t row_begin = vertical.first[0];
    int32_t row_end = vertical.first[destination_height - 1] + vertical.taps[destination_height - 1];
    size_t row_samples = (size_t)destination_width * 3;
    uint16_t *intermediate = malloc((size_t)(row_end - row_begin) * row_samples * sizeof *intermediate);
    int32_t *accumulator = malloc(row_samples * sizeof *accumulator);

    picotag_status status = PICOTAG_ERROR_OUT_OF_MEMORY;
    if (intermediate && accumulator) {
        resize_rows_horizontal(source, source_width, row_begin, row_end, &horizontal, intermediate);
        resize_rows_vertical(intermediate, row_begin, &vertical, row_samples, accumulator,
                             destination);
        status = PICOTAG_OK;
    }

    free(intermediate);
    free(accumulator);
    filter_release(&horizontal);
    filter_release(&vertical);
    return status;
}

picotag_status picotag_image_resize_crop_rgb8(const uint8_t *source, int source_height,
                                              int source_width, int64_t resized_height,
                                              int64_t resized_width, int64_t crop_top,
                                              int64_t crop_left, uint8_t *destination,
                                              int destination_height, int destination_width)
{
    image_source_area whole = {0.0, 0.0, (double)source_height, (double)source_width};
    return image_resize_crop_area(source, source_height, source_width, &whole, resized_height,
                                  resized_width, crop_top, crop_left, destination,
                                  destination_height, destination_width);
}

picotag_status picotag_image_resize_rgb8(const uint8_t *source, int source_height,
                                         int source_width, uint8_t *destination,
                                         int destination_height, int destination_width)
{
    return picotag_image_resize_crop_rgb8(source, source_height, source_width, destination_height,
                                          destination_width, 0, 0, destination,
                                          destination_height, destination_width);
}
