/* The model's preprocessing: resize geometry, centre crop and the one-call
 * load path. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"

#define MAX_INPUT_SIDE 4096u
#define MAX_RESIZE_SHORT 65535u

static picotag_status validate_preprocess(const picotag_preprocess *preprocess,
                                          picotag_error *error)
{
    const char *name = "preprocess record";
    if (!preprocess)
        return image_fail(name, PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, NULL, error,
                          "the preprocess pointer is NULL");
    if (preprocess->input_height < 1 || preprocess->input_height > MAX_INPUT_SIDE ||
        preprocess->input_width < 1 || preprocess->input_width > MAX_INPUT_SIDE)
        return image_fail(name, PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, NULL, error,
                          "input size %u x %u is outside 1 to %u pixels",
                          preprocess->input_width, preprocess->input_height, MAX_INPUT_SIDE);
    if (preprocess->interpolation != 1)
        return image_fail(name, PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, NULL, error,
                          "interpolation %u is unknown (1 = antialiased bilinear)",
                          preprocess->interpolation);
    if (preprocess->channel_order != 1)
        return image_fail(name, PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, NULL, error,
                          "channel order %u is unknown (1 = RGB)", preprocess->channel_order);

    if (preprocess->resize_mode == PICOTAG_RESIZE_STRETCH)
        return PICOTAG_OK;
    if (preprocess->resize_mode != PICOTAG_RESIZE_SHORT_SIDE_CENTER_CROP)
        return image_fail(name, PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, NULL, error,
                          "resize mode %u is unknown (1 = short side and centre crop, 2 = stretch)",
                          preprocess->resize_mode);

    uint32_t longer_input = preprocess->input_height > preprocess->input_width
                                ? preprocess->input_height
                                : preprocess->input_width;
    if (preprocess->resize_short < longer_input || preprocess->resize_short > MAX_RESIZE_SHORT)
        return image_fail(name, PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, NULL, error,
                          "resize_short %u must be from %u (the longer input side) to %u",
                          preprocess->resize_short, longer_input, MAX_RESIZE_SHORT);
    return PICOTAG_OK;
}

image_min_size image_min_size_for(const picotag_preprocess *preprocess)
{
    image_min_size min_size = {0, 0, 0};
    if (preprocess->resize_mode == PICOTAG_RESIZE_SHORT_SIDE_CENTER_CROP) {
        min_size.short_side = preprocess->resize_short;
    } else if (preprocess->resize_mode == PICOTAG_RESIZE_STRETCH) {
        min_size.height = preprocess->input_height;
        min_size.width = preprocess->input_width;
    }
    return min_size;
}

picotag_status picotag_image_plan_resize(uint32_t source_height, uint32_t source_width,
                                         const picotag_preprocess *preprocess,
                                         picotag_resize_plan *plan, picotag_error *error)
{
    picotag_status status = validate_preprocess(preprocess, error);
    if (status != PICOTAG_OK)
        return status;
    if (!plan || source_height < 1 || source_width < 1)
        return image_fail("resize plan", PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, NULL, error,
                          "source size %u x %u is empty, or the plan pointer is NULL",
                          source_width, source_height);

    memset(plan, 0, sizeof *plan);
    plan->output_height = preprocess->input_height;
    plan->output_width = preprocess->input_width;
    if (preprocess->resize_mode == PICOTAG_RESIZE_STRETCH) {
        plan->resized_height = preprocess->input_height;
        plan->resized_width = preprocess->input_width;
        return PICOTAG_OK;
    }

    /* The shorter side becomes resize_short. The longer one keeps the
     * aspect ratio, rounded half up: (2 * long * resize_short + short) /
     * (2 * short), exact in 64-bit integers (below 2^50). The crop is
     * centred, rounded towards the top left. */
    uint64_t target = preprocess->resize_short;
    if (source_height <= source_width) {
        plan->resized_height = (int64_t)target;
        plan->resized_width =
            (int64_t)((2 * (uint64_t)source_width * target + source_height) / (2 * (uint64_t)source_height));
    } else {
        plan->resized_width = (int64_t)target;
        plan->resized_height =
            (int64_t)((2 * (uint64_t)source_height * target + source_width) / (2 * (uint64_t)source_width));
    }
    plan->crop_top = (plan->resized_height - (int64_t)plan->output_height) / 2;
    plan->crop_left = (plan->resized_width - (int64_t)plan->output_width) / 2;
    return PICOTAG_OK;
}

/* The upright full-resolution size that a decoded image represents, and the
 * area of the decoded pixels that covers it. A JPEG decoded at DCT scale M/8
 * maps stored pixel x to decoded x * M / 8. So along each stored axis the
 * photo covers [0, stored * M / 8) of the ceil(stored * M / 8) decoded
 * pixels, and an orientation that reverses the axis puts the partial pixel
 * first. Resizing from that area keeps every output sample at the same place
 * in the photo as a full-resolution decode, so the two paths differ only by
 * the DCT scaling's own filtering. */
typedef struct source_geometry {
    uint32_t height;
    uint32_t width;
    image_source_area area;
} source_geometry;

static int orientation_reverses_columns(int orientation)
{
    return orientation == 2 || orientation == 3 || orientation == 6 || orientation == 7;
}

static int orientation_reverses_rows(int orientation)
{
    return orientation == 3 || orientation == 4 || orientation == 7 || orientation == 8;
}

static source_geometry geometry_of(const picotag_image *image)
{
    source_geometry geometry = {image->height, image->width,
                                {0.0, 0.0, (double)image->height, (double)image->width}};
    const picotag_image_info *info = &image->info;
    int numerator = info->scale_numerator;
    if (numerator < 1 || numerator >= 8 || info->stored_width == 0 || info->stored_height == 0)
        return geometry;

    int swaps = info->orientation >= 5 && info->orientation <= 8;
    uint32_t height = swaps ? info->stored_width : info->stored_height;
    uint32_t width = swaps ? info->stored_height : info->stored_width;
    double extent_height = (double)height * (double)numerator / 8.0;
    double extent_width = (double)width * (double)numerator / 8.0;

    /* Keep the whole decoded image unless its size is the rounded-up
     * extent, as it is for every DCT-scaled decode. */
    if (ceil(extent_height) != (double)image->height || ceil(extent_width) != (double)image->width)
        return geometry;
    geometry.height = height;
    geometry.width = width;
    geometry.area.height = extent_height;
    geometry.area.width = extent_width;
    if (orientation_reverses_rows(info->orientation))
        geometry.area.top = (double)image->height - extent_height;
    if (orientation_reverses_columns(info->orientation))
        geometry.area.left = (double)image->width - extent_width;
    return geometry;
}

picotag_status picotag_image_preprocess(const picotag_image *image,
                                        const picotag_preprocess *preprocess, uint8_t *out,
                                        picotag_error *error)
{
    if (!image || !image->pixels || !out || image->width < 1 || image->height < 1 ||
        image->width > INT32_MAX || image->height > INT32_MAX)
        return image_fail("preprocess", PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, NULL, error,
                          "the image is empty or a pointer is NULL");

    source_geometry geometry = geometry_of(image);
    picotag_resize_plan plan;
    picotag_status status =
        picotag_image_plan_resize(geometry.height, geometry.width, preprocess, &plan, error);
    if (status != PICOTAG_OK)
        return status;

    status = image_resize_crop_area(image->pixels, (int)image->height, (int)image->width,
                                    &geometry.area, plan.resized_height, plan.resized_width,
                                    plan.crop_top, plan.crop_left, out, (int)plan.output_height,
                                    (int)plan.output_width);
    if (status != PICOTAG_OK)
        return image_fail("preprocess", status == PICOTAG_ERROR_OUT_OF_MEMORY
                                            ? PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY
                                            : PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT,
                          NULL, error, "resizing %u x %u to %u x %u failed", image->width,
                          image->height, plan.output_width, plan.output_height);
    return PICOTAG_OK;
}

picotag_status picotag_image_load_preprocessed(const char *path,
                                               const picotag_preprocess *preprocess,
                                               const picotag_image_options *options, uint8_t *out,
                                               picotag_image_info *info, picotag_error *error)
{
    if (info)
        memset(info, 0, sizeof *info);
    picotag_status status = validate_preprocess(preprocess, error);
    if (status != PICOTAG_OK) {
        if (info)
            info->failure = PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT;
        return status;
    }
    if (!out)
        return image_fail(path, PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, info, error,
                          "the output pointer is NULL");

    picotag_image_options load_options;
    memset(&load_options, 0, sizeof load_options);
    if (options)
        load_options = *options;
    load_options.preprocess = preprocess;

    picotag_image image;
    status = picotag_image_load(path, &load_options, &image, error);
    if (status == PICOTAG_OK) {
        picotag_error preprocess_error;
        status = picotag_image_preprocess(&image, preprocess, out, &preprocess_error);
        if (status != PICOTAG_OK)
            status = image_fail(path, status == PICOTAG_ERROR_OUT_OF_MEMORY
                                          ? PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY
                                          : PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT,
                                &image.info, error, "%s", preprocess_error.message);
    }
    if (info)
        *info = image.info;
    picotag_image_free(&image);
    return status;
}
