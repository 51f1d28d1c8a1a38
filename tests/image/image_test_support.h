/*
 * Helpers for the image tests: where the sample photos are, files made in
 * the test (PNG and JPEG writers), thumbnails and image comparisons.
 */
#ifndef PICOTAG_TESTS_IMAGE_TEST_SUPPORT_H
#define PICOTAG_TESTS_IMAGE_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "picotag_image.h"

/* ctest's SKIP_RETURN_CODE for tests whose sample photos are absent. */
#define TEST_SKIP_EXIT_CODE 77

/* Where the hard-inputs folder should be: $PICOTAG_HARD_INPUTS, or the path
 * compiled in (shared/data/hard-inputs beside the repository). */
const char *test_hard_inputs_expected_dir(void);

/* The hard-inputs folder, or NULL when it does not exist. */
const char *test_hard_inputs_dir(void);

/* Joins the hard-inputs folder and a relative path into a static buffer
 * that the next call overwrites. */
const char *test_input_path(const char *relative);

/* Reads a whole file; returns NULL on failure. Free with free(). */
uint8_t *test_read_file(const char *path, size_t *size);

/* Writes bytes to a new file in a private temporary folder and returns its
 * path (static buffer, overwritten by the next call), or NULL. */
const char *test_write_temp_file(const char *name, const void *data, size_t size);

/* Encodes a PNG in memory. `color_type` and `bit_depth` are libpng's.
 * `rows` contains height rows of packed samples, 16-bit samples big-endian as
 * PNG stores them. Returns NULL on failure. */
uint8_t *test_png_encode(uint32_t width, uint32_t height, int color_type, int bit_depth,
                         const uint8_t *rows, size_t *size);

/* Encodes a JPEG in memory from packed samples with `components` channels
 * (1 grey, 3 RGB, 4 CMYK). Returns NULL on failure. */
uint8_t *test_jpeg_encode(uint32_t width, uint32_t height, int components, int quality,
                          const uint8_t *samples, size_t *size);

/* Encodes an RGB JPEG as a progressive file with one scan per component and
 * DCT coefficient, plus `refinements` successive-approximation scans for
 * each: 3 * (1 + 63 * (1 + refinements)) scans in all. Returns NULL on
 * failure. */
uint8_t *test_jpeg_encode_many_scans(uint32_t width, uint32_t height, const uint8_t *samples,
                                     int refinements, size_t *size);

/* Resizes an RGB8 image to a height x width thumbnail of grey values
 * (R + G + B) / 3 as doubles. Returns NULL on failure. */
double *test_grey_thumbnail(const uint8_t *rgb, int height, int width, int thumb_height,
                            int thumb_width);

/* Normalised cross-correlation of two equal-size arrays: 1 for identical
 * patterns up to brightness and contrast, near 0 for unrelated ones. */
double test_normalized_correlation(const double *a, const double *b, size_t count);

/* Copies a height x width array of doubles mirrored and/or transposed; the
 * result has width x height entries when `transpose` is set. */
void test_transform_plane(const double *source, int height, int width, int flip_vertical,
                          int flip_horizontal, int transpose, double *out);

/* Mean absolute difference of two byte arrays. */
double test_mean_abs_difference(const uint8_t *a, const uint8_t *b, size_t count);

/* The largest absolute difference of two byte arrays. */
int test_max_abs_difference(const uint8_t *a, const uint8_t *b, size_t count);

#endif
