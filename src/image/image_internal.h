/* Declarations shared by the image decoders, the orientation step and the
 * resize; not part of the public API. */
#ifndef PICOTAG_IMAGE_INTERNAL_H
#define PICOTAG_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "picotag_image.h"

/* The smallest upright image (orientation applied) that the resize needs,
 * in pixels; a zero field imposes nothing. A decoder that can decode at a
 * reduced scale picks the smallest scale that meets every non-zero field. */
typedef struct image_min_size {
    uint32_t short_side;
    uint32_t height;
    uint32_t width;
} image_min_size;

/* One photo to decode: the whole file in memory, its name for messages, and
 * the limits that apply. */
typedef struct image_source {
    const uint8_t *data;
    size_t size;
    const char *name;
    uint64_t max_pixels;
    image_min_size min_size;
} image_source;

/* Fills info->failure and `error` with "<name>: <failure name>: <detail>"
 * and returns the status that goes with the failure. */
picotag_status image_fail(const char *name, picotag_image_failure failure, picotag_image_info *info,
                          picotag_error *error, const char *detail_format, ...)
    __attribute__((format(printf, 5, 6)));

/* Rejects a declared size of 0 or over source->max_pixels. Every decoder
 * calls it after reading the header and before allocating pixels. */
picotag_status image_check_declared_size(const image_source *source, const char *format_name,
                                         uint64_t width, uint64_t height, picotag_image_info *info,
                                         picotag_error *error);

/* Recognises a file by its first bytes. For a known but unsupported format,
 * *unsupported_name is set to its name ("GIF", "TIFF", ...); otherwise to
 * NULL. */
picotag_image_format image_detect_format(const uint8_t *data, size_t size,
                                         const char **unsupported_name);

/* The decoders. Each fills image->pixels (packed RGB8, as stored: the EXIF
 * orientation is not applied yet but reported in image->info.orientation),
 * image->width, image->height and the rest of image->info. */
picotag_status image_decode_jpeg(const image_source *source, picotag_image *image,
                                 picotag_error *error);
picotag_status image_decode_png(const image_source *source, picotag_image *image,
                                picotag_error *error);
picotag_status image_decode_webp(const image_source *source, picotag_image *image,
                                 picotag_error *error);
picotag_status image_decode_heif(const image_source *source, picotag_image *image,
                                 picotag_error *error);

/* What picotag reads from a photo's EXIF data. */
typedef struct image_exif_fields {
    int orientation;   /* tag 0x0112 of IFD0: 1-8, or 1 when absent or invalid */
    char capture_time[PICOTAG_IMAGE_CAPTURE_TIME_BYTES];   /* see picotag_image_info */
} image_exif_fields;

/* Reads the orientation and the capture time from EXIF data, which may start
 * with the "Exif\0\0" header of a JPEG APP1 segment or directly with the TIFF
 * header. Malformed data gives orientation 1 and no capture time. */
void image_exif_read(const uint8_t *data, size_t size, image_exif_fields *fields);

/* The orientation alone, as image_exif_read reads it. */
int image_exif_orientation(const uint8_t *data, size_t size);

/* Converts an EXIF date and time, "YYYY:MM:DD HH:MM:SS" (ASCII, `date_time_size`
 * bytes, a NUL and space padding allowed after it), into ISO 8601 in `out`,
 * with the EXIF UTC offset "+HH:MM" appended when `offset` (may be NULL) is a
 * valid one. Returns 1, or 0 with `out` empty when the date or time is
 * malformed or impossible (month 13, 29 February of a common year). */
int image_exif_capture_time(const char *date_time, size_t date_time_size, const char *offset,
                            size_t offset_size, char out[PICOTAG_IMAGE_CAPTURE_TIME_BYTES]);

/* The numerator M of the JPEG DCT scale M/8 (1 to 8) that gives the smallest
 * decoded image still meeting `min_size`; 8 when even the full size does not.
 * The size compared is the scaled extent stored * M / 8 per axis (libjpeg
 * rounds the decoded size up to ceil of it), with width and height swapped
 * for orientations 5-8. */
int image_jpeg_scale_numerator(uint32_t stored_width, uint32_t stored_height, int orientation,
                               image_min_size min_size);

/* The minimum decoded size that `preprocess` needs (see image_min_size). */
image_min_size image_min_size_for(const picotag_preprocess *preprocess);

/* Replaces image->pixels by the upright image for EXIF orientation 1-8,
 * swapping width and height for 5-8. */
picotag_status image_apply_orientation(picotag_image *image, int orientation, const char *name,
                                       picotag_error *error);

/* The part of a source image, in its own pixels, that the resize maps onto
 * the resized image; the whole image is {0, 0, height, width}. */
typedef struct image_source_area {
    double top;
    double left;
    double height;
    double width;
} image_source_area;

/* picotag_image_resize_crop_rgb8 from a part of the source that may have
 * fractional bounds (a DCT-scaled JPEG; see preprocess.c). */
picotag_status image_resize_crop_area(const uint8_t *source, int source_height, int source_width,
                                      const image_source_area *area, int64_t resized_height,
                                      int64_t resized_width, int64_t crop_top, int64_t crop_left,
                                      uint8_t *destination, int destination_height,
                                      int destination_width);

/* Writes one packed RGB8 row from RGBA8, composited over opaque white:
 * out = (color * alpha + 255 * (255 - alpha) + 127) / 255, integer division. */
void image_rgba_row_over_white(const uint8_t *rgba, uint8_t *rgb, size_t pixel_count);

/* Writes one packed RGB8 row from CMYK8. `adobe_inverted`: the samples are
 * stored inverted (0 = full ink), as Adobe applications write them. */
void image_cmyk_row_to_rgb(const uint8_t *cmyk, uint8_t *rgb, size_t pixel_count,
                           int adobe_inverted);

#endif
