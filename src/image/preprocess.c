/* The model's preprocessing: resize geometry, centre crop and the one-call
 * load path. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"

#define MAX_INPUT_SIDE 4096u
#define MAX_RESIZE_SHORT 65535u

/* Returns a length of the whole view magnified for the crop views: length *
 * 1000 / permille, rounded half up. Plan lengths stay below 2^50, so the
 * 64-bit product is exact. */
static int64_t zoom_length(int64_t length, uint32_t permille)
{
    return (2 * length * 1000 + permille) / (2 * (int64_t)permille);
}

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

    if (preprocess->view_flip > 1)
        return image_fail(name, PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, NULL, error,
                          "view_flip %u is not 0 or 1", preprocess->view_flip);
    if (preprocess->view_grid > PICOTAG_MAX_VIEW_GRID)
        return image_fail(name, PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, NULL, error,
                          "view_grid %u is over %u", preprocess->view_grid, PICOTAG_MAX_VIEW_GRID);
    if (preprocess->view_grid == 0 && preprocess->view_crop_permille != 0)
        return image_fail(name, PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, NULL, error,
                          "view_crop_permille %u must be 0 without a view grid",
                          preprocess->view_crop_permille);
    if (preprocess->view_grid > 0 &&
        (preprocess->view_crop_permille < PICOTAG_MIN_VIEW_CROP_PERMILLE ||
         preprocess->view_crop_permille > PICOTAG_MAX_VIEW_CROP_PERMILLE))
        return image_fail(name, PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, NULL, error,
                          "view_crop_permille %u must be from %u to %u",
                          preprocess->view_crop_permille, PICOTAG_MIN_VIEW_CROP_PERMILLE,
                          PICOTAG_MAX_VIEW_CROP_PERMILLE);

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
    /* Crop views magnify the photo: decode it large enough for them. */
    if (preprocess->view_grid > 0 && preprocess->view_crop_permille >= PICOTAG_MIN_VIEW_CROP_PERMILLE &&
        preprocess->view_crop_permille <= PICOTAG_MAX_VIEW_CROP_PERMILLE) {
        const uint32_t permille = preprocess->view_crop_permille;
        min_size.short_side = (uint32_t)zoom_length(min_size.short_side, permille);
        min_size.height = (uint32_t)zoom_length(min_size.height, permille);
        min_size.width = (uint32_t)zoom_length(min_size.width, permille);
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

/* Returns the offset of crop `index` of `grid` along one axis. The crops of
 * `size` spread evenly over the magnified whole view [first, first + span),
 * or sit in its centre for a grid of 1, and end inside the magnified image. */
static int64_t crop_offset(int64_t first, int64_t span, int64_t size, int index, int grid,
                           int64_t resized)
{
    int64_t offset = first + (grid == 1 ? (span - size) / 2 : (span - size) * index / (grid - 1));
    if (offset > resized - size)
        offset = resized - size;
    return offset < 0 ? 0 : offset;
}

picotag_status picotag_image_plan_view(uint32_t source_height, uint32_t source_width,
                                       const picotag_preprocess *preprocess, int view_index,
                                       picotag_resize_plan *plan, int *mirrored,
                                       picotag_error *error)
{
    picotag_status status =
        picotag_image_plan_resize(source_height, source_width, preprocess, plan, error);
    if (status != PICOTAG_OK)
        return status;
    const int count = picotag_preprocess_view_count(preprocess);
    if (view_index < 0 || view_index >= count || !mirrored)
        return image_fail("view plan", PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, NULL, error,
                          "view %d does not exist (the record has %d), or mirrored is NULL",
                          view_index, count);

    const int per_view = preprocess->view_flip ? 2 : 1;
    *mirrored = view_index % per_view == 1;
    const int crop = view_index / per_view - 1;
    if (crop < 0)
        return PICOTAG_OK;

    const int grid = (int)preprocess->view_grid;
    const uint32_t permille = preprocess->view_crop_permille;
    const int64_t height = plan->output_height;
    const int64_t width = plan->output_width;
    const int64_t resized_height = zoom_length(plan->resized_height, permille);
    const int64_t resized_width = zoom_length(plan->resized_width, permille);
    plan->crop_top = crop_offset(zoom_length(plan->crop_top, permille),
                                 zoom_length(height, permille), height, crop / grid, grid,
                                 resized_height);
    plan->crop_left = crop_offset(zoom_length(plan->crop_left, permille),
                                  zoom_length(width, permille), width, crop % grid, grid,
                                  resized_width);
    plan->resized_height = resized_height;
    plan->resized_width = resized_width;
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

/* Mirrors each row of a packed RGB8 image in place. */
static void mirror_rows(uint8_t *pixels, int height, int width)
{
    for (int y = 0; y < height; y++) {
        uint8_t *row = pixels + (size_t)y * (size_t)width * 3;
        for (int left = 0, right = width - 1; left < right; left++, right--) {
            for (int c = 0; c < 3; c++) {
                const uint8_t swapped = row[3 * left + c];
                row[3 * left + c] = row[3 * right + c];
                row[3 * right + c] = swapped;
            }
        }
    }
}

/* Writes views 0 to view_count - 1 of `image` into `out`, one after
 * another. */
static picotag_status preprocess_views(const picotag_image *image,
                                       const picotag_preprocess *preprocess, int view_count,
                                       uint8_t *out, picotag_error *error)
{
    if (!image || !image->pixels || !out || image->width < 1 || image->height < 1 ||
        image->width > INT32_MAX || image->height > INT32_MAX)
        return image_fail("preprocess", PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, NULL, error,
                          "the image is empty or a pointer is NULL");

    source_geometry geometry = geometry_of(image);
    for (int view = 0; view < view_count; view++) {
        picotag_resize_plan plan;
        int mirrored = 0;
        picotag_status status = picotag_image_plan_view(geometry.height, geometry.width,
                                                        preprocess, view, &plan, &mirrored, error);
        if (status != PICOTAG_OK)
            return status;
        const size_t view_bytes = (size_t)plan.output_height * plan.output_width * 3;
        uint8_t *view_out = out + (size_t)view * view_bytes;
        status = image_resize_crop_area(image->pixels, (int)image->height, (int)image->width,
                                        &geometry.area, plan.resized_height, plan.resized_width,
                                        plan.crop_top, plan.crop_left, view_out,
                                        (int)plan.output_height, (int)plan.output_width);
        if (status != PICOTAG_OK)
            return image_fail("preprocess", status == PICOTAG_ERROR_OUT_OF_MEMORY
                                                ? PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY
                                                : PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT,
                              NULL, error, "resizing %u x %u to %u x %u failed", image->width,
                              image->height, plan.output_width, plan.output_height);
        if (mirrored)
            mirror_rows(view_out, (int)plan.output_height, (int)plan.output_width);
    }
    return PICOTAG_OK;
}

picotag_status picotag_image_preprocess(const picotag_image *image,
                                        const picotag_preprocess *preprocess, uint8_t *out,
                                        picotag_error *error)
{
    return preprocess_views(image, preprocess, 1, out, error);
}

picotag_status picotag_image_preprocess_views(const picotag_image *image,
                                              const picotag_preprocess *preprocess, uint8_t *out,
                                              picotag_error *error)
{
    picotag_status status = validate_preprocess(preprocess, error);
    if (status != PICOTAG_OK)
        return status;
    return preprocess_views(image, preprocess, picotag_preprocess_view_count(preprocess), out, error);
}

/* Loads a photo and writes its first `view_count` views into `out`. A
 * negative count means all of them. */
static picotag_status load_views(const char *path, const picotag_preprocess *preprocess,
                                 const picotag_image_options *options, int view_count,
                                 uint8_t *out, picotag_image_info *info, picotag_error *error)
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
    if (view_count < 0)
        view_count = picotag_preprocess_view_count(preprocess);

    picotag_image_options load_options;
    memset(&load_options, 0, sizeof load_options);
    if (options)
        load_options = *options;
    load_options.preprocess = preprocess;

    picotag_image image;
    status = picotag_image_load(path, &load_options, &image, error);
    if (status == PICOTAG_OK) {
        picotag_error preprocess_error;
        status = preprocess_views(&image, preprocess, view_count, out, &preprocess_error);
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

picotag_status picotag_image_load_preprocessed(const char *path,
                                               const picotag_preprocess *preprocess,
                                               const picotag_image_options *options, uint8_t *out,
                                               picotag_image_info *info, picotag_error *error)
{
    return load_views(path, preprocess, options, 1, out, info, error);
}

picotag_status picotag_image_load_views(const char *path, const picotag_preprocess *preprocess,
                                        const picotag_image_options *options, uint8_t *out,
                                        picotag_image_info *info, picotag_error *error)
{
    return load_views(path, preprocess, options, -1, out, info, error);
}
