/* EXIF orientation: the pixel permutation that turns the stored image
 * upright. For an output pixel (row r, column c) of the upright image and a
 * stored image of H rows and W columns, the source pixel is:
 *
 *   1: (r, c)                 identity
 *   2: (r, W-1-c)             mirrored left-right
 *   3: (H-1-r, W-1-c)         rotated 180 degrees
 *   4: (H-1-r, c)             mirrored top-bottom
 *   5: (c, r)                 transposed (upright is W rows x H columns)
 *   6: (H-1-c, r)             stored rotated; upright = rotate 90 degrees clockwise
 *   7: (H-1-c, W-1-r)         transverse
 *   8: (c, W-1-r)             upright = rotate 90 degrees counter-clockwise
 *
 * These match Pillow's ImageOps.exif_transpose (2: FLIP_LEFT_RIGHT,
 * 3: ROTATE_180, 4: FLIP_TOP_BOTTOM, 5: TRANSPOSE, 6: ROTATE_270,
 * 7: TRANSVERSE, 8: ROTATE_90), which train/tests/test_preprocess.py checks
 * pixel for pixel. */
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"

static void source_position(int orientation, size_t r, size_t c, size_t height, size_t width,
                            size_t *source_row, size_t *source_column)
{
    switch (orientation) {
    case 2:
        *source_row = r, *source_column = width - 1 - c;
        break;
    case 3:
        *source_row = height - 1 - r, *source_column = width - 1 - c;
        break;
    case 4:
        *source_row = height - 1 - r, *source_column = c;
        break;
    case 5:
        *source_row = c, *source_column = r;
        break;
    case 6:
        *source_row = height - 1 - c, *source_column = r;
        break;
    case 7:
        *source_row = height - 1 - c, *source_column = width - 1 - r;
        break;
    case 8:
        *source_row = c, *source_column = width - 1 - r;
        break;
    default:
        *source_row = r, *source_column = c;
        break;
    }
}

picotag_status image_apply_orientation(picotag_image *image, int orientation, const char *name,
                                       picotag_error *error)
{
    if (orientation < 1 || orientation > 8)
        return image_fail(name, PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, &image->info, error,
                          "orientation %d is outside 1-8", orientation);
    if (orientation == 1)
        return PICOTAG_OK;

    size_t height = image->height, width = image->width;
    int swaps = orientation >= 5;
    size_t out_height = swaps ? width : height;
    size_t out_width = swaps ? height : width;

    uint8_t *upright = malloc(out_height * out_width * 3);
    if (!upright)
        return image_fail(name, PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY, &image->info, error,
                          "cannot allocate %zu x %zu pixels to apply orientation %d", out_width,
                          out_height, orientation);

    for (size_t r = 0; r < out_height; r++) {
        uint8_t *out_row = upright + r * out_width * 3;
        for (size_t c = 0; c < out_width; c++) {
            size_t source_row, source_column;
            source_position(orientation, r, c, height, width, &source_row, &source_column);
            memcpy(out_row + c * 3, image->pixels + (source_row * width + source_column) * 3, 3);
        }
    }

    free(image->pixels);
    image->pixels = upright;
    image->height = (uint32_t)out_height;
    image->width = (uint32_t)out_width;
    return PICOTAG_OK;
}
