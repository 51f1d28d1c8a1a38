/*
 * picotag image: photo decoding and the model's preprocessing.
 *
 * Reads JPEG, PNG, WebP, HEIC/HEIF and AVIF, detected by their magic bytes
 * and never by the file name, and applies the orientation the file records.
 * Then reproduces, bit for bit, the resize and centre crop that the model
 * was trained with; docs/PREPROCESSING.md gives the exact arithmetic.
 *
 *     uint8_t rgb[224 * 224 * 3];
 *     picotag_image_info info;
 *     picotag_error err;
 *     if (picotag_image_load_preprocessed("IMG_0001.HEIC", pre, NULL, rgb, &info, &err) != PICOTAG_OK)
 *         fprintf(stderr, "%s\n", err.message);  // e.g. "IMG_0001.HEIC: truncated file: ..."
 *
 * Photo files are opened read-only and never written. Every function here is
 * safe to call from several threads at once on different images.
 */
#ifndef PICOTAG_IMAGE_H
#define PICOTAG_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "picotag.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default limit on the pixel count a file declares (width x height as
 * stored). 2^28 = 268,435,456 pixels admits the largest phone photos (200
 * megapixels, 16320 x 12240) and stitched panoramas, and every WebP (at most
 * 16383 x 16383). A file over the limit is rejected after its header is read
 * and before any pixel buffer is allocated. Formats that decode at full
 * resolution (PNG, WebP, HEIF) need 3 bytes per pixel for the result and up
 * to 4 more while decoding or applying the orientation. That is about 1.9 GB
 * at this limit, so a device with less memory should set a lower one. */
#define PICOTAG_IMAGE_DEFAULT_MAX_PIXELS ((uint64_t)1 << 28)

/* Capacity of picotag_image_info.capture_time, NUL included: the longest
 * value, "2021-07-04T15:30:12+09:00", takes 26 bytes. */
#define PICOTAG_IMAGE_CAPTURE_TIME_BYTES 32

typedef enum picotag_image_format {
    PICOTAG_IMAGE_FORMAT_UNKNOWN = 0,
    PICOTAG_IMAGE_FORMAT_JPEG = 1,
    PICOTAG_IMAGE_FORMAT_PNG = 2,
    PICOTAG_IMAGE_FORMAT_WEBP = 3,
    PICOTAG_IMAGE_FORMAT_HEIF = 4,   /* HEIC and other HEVC-coded HEIF */
    PICOTAG_IMAGE_FORMAT_AVIF = 5
} picotag_image_format;

/* Why a photo could not be read; picotag_image_info.failure. */
typedef enum picotag_image_failure {
    PICOTAG_IMAGE_OK = 0,
    PICOTAG_IMAGE_FAILURE_IO = 1,                 /* open or read failed (status PICOTAG_ERROR_IO) */
    PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT = 2, /* another format, or a feature the decoder lacks (PICOTAG_ERROR_UNSUPPORTED) */
    PICOTAG_IMAGE_FAILURE_TRUNCATED = 3,          /* the file ends before the image data does (PICOTAG_ERROR_FORMAT) */
    PICOTAG_IMAGE_FAILURE_CORRUPT = 4,            /* invalid header or image data (PICOTAG_ERROR_FORMAT) */
    PICOTAG_IMAGE_FAILURE_TOO_MANY_PIXELS = 5,    /* declared width x height over max_pixels (PICOTAG_ERROR_UNSUPPORTED) */
    PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY = 6,      /* PICOTAG_ERROR_OUT_OF_MEMORY */
    PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT = 7    /* PICOTAG_ERROR_INVALID_ARGUMENT */
} picotag_image_failure;

/* Options for loading. An all-zero struct, or a NULL pointer, selects the
 * defaults. */
typedef struct picotag_image_options {
    /* Maximum width x height that a file may declare; 0 selects
     * PICOTAG_IMAGE_DEFAULT_MAX_PIXELS. */
    uint64_t max_pixels;
    /* The preprocessing the photo is loaded for, or NULL. When set, a JPEG
     * is decoded at the smallest DCT scale (1/8 to 8/8) whose result is
     * still at least as large as the resize needs, which changes the
     * pixels slightly (see docs/PREPROCESSING.md). */
    const picotag_preprocess *preprocess;
    /* Non-zero: always decode at full resolution, even with `preprocess`. */
    int32_t full_resolution;
} picotag_image_options;

/* What was read, and how. Filled as far as known, also on failure. */
typedef struct picotag_image_info {
    int32_t format;            /* picotag_image_format */
    int32_t failure;           /* picotag_image_failure; PICOTAG_IMAGE_OK on success */
    uint32_t stored_width;     /* pixels, as declared in the file, before scaling and orientation */
    uint32_t stored_height;
    /* EXIF orientation 1-8 that was applied (1 when the file has none).
     * HEIF and AVIF record rotation and mirroring in their own boxes, which
     * the decoder applies; their EXIF orientation is ignored and this is 1. */
    int32_t orientation;
    /* The image was decoded at scale_numerator / 8 of its stored size (JPEG
     * DCT scaling); 8 for full size and for the other formats. */
    int32_t scale_numerator;
    /* Non-zero when the file had an alpha channel or transparency; it was
     * composited over opaque white. */
    int32_t had_alpha;
    /* The size of the photo as displayed, in pixels at full resolution:
     * after the EXIF orientation (JPEG, PNG, WebP) or the rotation, mirror
     * and clean-aperture boxes (HEIF, AVIF), before DCT scaling. 0 when the
     * photo could not be decoded. */
    uint32_t upright_width;
    uint32_t upright_height;
    /* The EXIF capture time as ISO 8601 local time, "2021-07-04T15:30:12",
     * followed by the UTC offset, "2021-07-04T15:30:12+09:00", when the file
     * records one. Taken from DateTimeOriginal, else DateTimeDigitized, else
     * DateTime, whichever is first valid; the offset comes from the matching
     * OffsetTime tag. Empty when the file has no valid one. */
    char capture_time[PICOTAG_IMAGE_CAPTURE_TIME_BYTES];
} picotag_image_info;

/* A decoded photo: upright (orientation applied), 8-bit RGB, HWC, rows
 * packed (row stride = width * 3 bytes). */
typedef struct picotag_image {
    uint8_t *pixels;
    uint32_t width;            /* pixels, after scaling and orientation */
    uint32_t height;
    picotag_image_info info;
} picotag_image;

/* The size of the resized image and the crop taken from it, in pixels, for
 * a source of a given size (see picotag_image_plan_resize). */
typedef struct picotag_resize_plan {
    int64_t resized_height;
    int64_t resized_width;
    int64_t crop_top;
    int64_t crop_left;
    uint32_t output_height;
    uint32_t output_width;
} picotag_resize_plan;

/* Decodes a photo file. On success image->pixels is allocated and must be
 * released with picotag_image_free. On failure image->pixels is NULL,
 * image->info.failure gives the kind of failure and `error` names the file
 * and the reason. `options` may be NULL. */
PICOTAG_API picotag_status picotag_image_load(const char *path, const picotag_image_options *options,
                                              picotag_image *image, picotag_error *error);

/* Decodes a photo held in memory; `name` is used in error messages. */
PICOTAG_API picotag_status picotag_image_load_memory(const void *data, size_t size, const char *name,
                                                     const picotag_image_options *options,
                                                     picotag_image *image, picotag_error *error);

/* Releases image->pixels and zeroes the struct; a zeroed struct is a no-op. */
PICOTAG_API void picotag_image_free(picotag_image *image);

/* Computes the resized size and crop box that `preprocess` prescribes for a
 * source_height x source_width image. */
PICOTAG_API picotag_status picotag_image_plan_resize(uint32_t source_height, uint32_t source_width,
                                                     const picotag_preprocess *preprocess,
                                                     picotag_resize_plan *plan, picotag_error *error);

/* Resizes and crops a decoded image into the network input: `out` receives
 * preprocess->input_height x input_width x 3 bytes, RGB, HWC. */
PICOTAG_API picotag_status picotag_image_preprocess(const picotag_image *image,
                                                    const picotag_preprocess *preprocess,
                                                    uint8_t *out, picotag_error *error);

/* Loads a photo and preprocesses it in one call: the JPEG DCT scale is chosen
 * from `preprocess` (its crop views included, so that this first view is the
 * same as picotag_image_load_views's). `options` may be NULL; its `preprocess` field is
 * ignored. `info` may be NULL. */
PICOTAG_API picotag_status picotag_image_load_preprocessed(const char *path,
                                                           const picotag_preprocess *preprocess,
                                                           const picotag_image_options *options,
                                                           uint8_t *out, picotag_image_info *info,
                                                           picotag_error *error);

/* Plans view `view_index` (0 to picotag_preprocess_view_count - 1) for a source
 * of the given size. View 0 is the plan of picotag_image_plan_resize, and
 * the crops follow row by row. With view_flip each view is followed by its
 * mirror image, for which *mirrored is set to 1 (else 0). The arithmetic is
 * in docs/PREPROCESSING.md#test-time-views. */
PICOTAG_API picotag_status picotag_image_plan_view(uint32_t source_height, uint32_t source_width,
                                                   const picotag_preprocess *preprocess,
                                                   int view_index, picotag_resize_plan *plan,
                                                   int *mirrored, picotag_error *error);

/* Writes every view of a decoded image, one after another, into `out`:
 * picotag_preprocess_view_count(preprocess) x input_height x input_width x 3
 * bytes. The first view equals what picotag_image_preprocess writes. */
PICOTAG_API picotag_status picotag_image_preprocess_views(const picotag_image *image,
                                                          const picotag_preprocess *preprocess,
                                                          uint8_t *out, picotag_error *error);

/* Loads a photo and writes every view into `out`, sized as for
 * picotag_image_preprocess_views: picotag_image_load_preprocessed for all
 * views. */
PICOTAG_API picotag_status picotag_image_load_views(const char *path,
                                                    const picotag_preprocess *preprocess,
                                                    const picotag_image_options *options,
                                                    uint8_t *out, picotag_image_info *info,
                                                    picotag_error *error);

/* Resizes a packed RGB8 HWC image with the antialiased bilinear filter of
 * docs/PREPROCESSING.md. Returns PICOTAG_ERROR_INVALID_ARGUMENT for a size
 * below 1 or a NULL pointer, PICOTAG_ERROR_OUT_OF_MEMORY if the filter
 * tables cannot be allocated. */
PICOTAG_API picotag_status picotag_image_resize_rgb8(const uint8_t *source, int source_height,
                                                     int source_width, uint8_t *destination,
                                                     int destination_height, int destination_width);

/* Resizes to resized_height x resized_width and keeps only the
 * destination_height x destination_width window at (crop_top, crop_left);
 * only the kept pixels are computed. Same results as resizing fully and
 * then cropping. */
PICOTAG_API picotag_status picotag_image_resize_crop_rgb8(const uint8_t *source, int source_height,
                                                          int source_width, int64_t resized_height,
                                                          int64_t resized_width, int64_t crop_top,
                                                          int64_t crop_left, uint8_t *destination,
                                                          int destination_height,
                                                          int destination_width);

/* Static English names, e.g. "JPEG", "truncated file". */
PICOTAG_API const char *picotag_image_format_name(int format);
PICOTAG_API const char *picotag_image_failure_name(int failure);

#ifdef __cplusplus
}
#endif

#endif
