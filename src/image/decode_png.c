/* PNG decoding with libpng.
 *
 * Every colour type becomes 8-bit RGB: palette and greyscale are expanded,
 * 16-bit samples are reduced with libpng's png_set_scale_16, which computes
 * round(v * 255 / 65535), and alpha (an alpha channel or a tRNS chunk) is
 * composited over white. Gamma, colour profiles and APNG animation frames
 * are ignored: the result is the default image's samples as stored. */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"

typedef struct png_decoder {
    const uint8_t *data;
    size_t size;
    size_t position;
    picotag_image_failure failure;
    char reason[256];
    uint8_t *pixels;       /* the RGB8 result */
    uint8_t *rgba;         /* RGBA8 rows before compositing */
    png_bytep *row_pointers;
} png_decoder;

static void png_on_read(png_structp png, png_bytep out, size_t length)
{
    png_decoder *decoder = png_get_io_ptr(png);
    if (length > decoder->size - decoder->position) {
        decoder->failure = PICOTAG_IMAGE_FAILURE_TRUNCATED;
        png_error(png, "the file ends before the image data does");
    }
    memcpy(out, decoder->data + decoder->position, length);
    decoder->position += length;
}

static void png_on_error(png_structp png, png_const_charp message)
{
    png_decoder *decoder = png_get_error_ptr(png);
    if (decoder->failure == PICOTAG_IMAGE_OK)
        decoder->failure = PICOTAG_IMAGE_FAILURE_CORRUPT;
    snprintf(decoder->reason, sizeof decoder->reason, "%s", message);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp message)
{
    (void)png, (void)message; /* discards libpng's warnings: errors are returned as values */
}

/* Sets up libpng's transforms so that every row comes out as 8-bit RGB or
 * RGBA; returns the channel count (3 or 4). */
static int png_request_rgb8(png_structp png, png_infop info, int *had_alpha)
{
    int color_type = png_get_color_type(png, info);
    int bit_depth = png_get_bit_depth(png, info);

    if (color_type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (bit_depth == 16)
        png_set_scale_16(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);

    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    *had_alpha = channels == 4;
    return channels;
}

static void png_read_exif(png_structp png, png_infop info, picotag_image_info *image_info)
{
    png_uint_32 exif_size = 0;
    png_bytep exif = NULL;
    if (png_get_eXIf_1(png, info, &exif_size, &exif) == 0 || !exif)
        return;

    image_exif_fields fields;
    image_exif_read(exif, exif_size, &fields);
    image_info->orientation = fields.orientation;
    memcpy(image_info->capture_time, fields.capture_time, sizeof image_info->capture_time);
}

/* Everything that can longjmp; the caller owns the cleanup. */
static picotag_status png_decode_body(png_decoder *decoder, png_structp png, png_infop info,
                                      const image_source *source, picotag_image *image,
                                      picotag_error *error)
{
    png_set_read_fn(png, decoder, png_on_read);
    /* libpng's own limit (1,000,000 pixels per side) would report a huge
     * declared size as corrupt; the pixel limit below reports it instead. */
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);

    picotag_status status = image_check_declared_size(
        source, "PNG", png_get_image_width(png, info), png_get_image_height(png, info),
        &image->info, error);
    if (status != PICOTAG_OK)
        return status;

    /* Limitation: an eXIf chunk after the image data is not seen. */
    png_read_exif(png, info, &image->info);

    int had_alpha = 0;
    int channels = png_request_rgb8(png, info, &had_alpha);
    size_t width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    if (channels != 3 && channels != 4)
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT, &image->info,
                          error, "PNG: %d channels after expansion", channels);
    image->info.had_alpha = had_alpha;

    /* Interlaced images need every row in memory until the last pass; plain
     * ones are read one row at a time. RGBA goes through a separate buffer
     * (the whole image, or one row) and is composited into RGB. */
    int interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    size_t rgba_rows = 0;
    if (channels == 4)
        rgba_rows = interlaced ? height : 1;
    decoder->pixels = malloc(width * height * 3);
    decoder->rgba = rgba_rows ? malloc(rgba_rows * width * 4) : NULL;
    decoder->row_pointers = interlaced ? malloc(height * sizeof *decoder->row_pointers) : NULL;
    if (!decoder->pixels || (rgba_rows && !decoder->rgba) ||
        (interlaced && !decoder->row_pointers))
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY, &image->info, error,
                          "cannot allocate %zu x %zu decoded PNG pixels", width, height);

    if (interlaced) {
        for (size_t y = 0; y < height; y++)
            decoder->row_pointers[y] = channels == 4 ? decoder->rgba + y * width * 4
                                                     : decoder->pixels + y * width * 3;
        png_read_image(png, decoder->row_pointers);
        if (channels == 4)
            image_rgba_row_over_white(decoder->rgba, decoder->pixels, width * height);
    } else {
        for (size_t y = 0; y < height; y++) {
            uint8_t *row = decoder->pixels + y * width * 3;
            png_read_row(png, channels == 4 ? decoder->rgba : row, NULL);
            if (channels == 4)
                image_rgba_row_over_white(decoder->rgba, row, width);
        }
    }

    /* The chunks after the image data (IEND and ancillary ones) are not
     * read: every row is decoded, and a missing IEND does not change them. */
    image->pixels = decoder->pixels;
    decoder->pixels = NULL;
    image->width = (uint32_t)width;
    image->height = (uint32_t)height;
    return PICOTAG_OK;
}

picotag_status image_decode_png(const image_source *source, picotag_image *image,
                                picotag_error *error)
{
    /* Heap-allocated so that its members keep their values across longjmp. */
    png_decoder *decoder = calloc(1, sizeof *decoder);
    if (!decoder)
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY, &image->info, error,
                          "cannot allocate the PNG decoder");
    decoder->data = source->data;
    decoder->size = source->size;

    png_structp png =
        png_create_read_struct(PNG_LIBPNG_VER_STRING, decoder, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        free(decoder);
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY, &image->info, error,
                          "cannot allocate the PNG decoder");
    }

    picotag_status status;
    if (setjmp(png_jmpbuf(png)) == 0)
        status = png_decode_body(decoder, png, info, source, image, error);
    else
        status = image_fail(source->name, decoder->failure, &image->info, error, "PNG: %s",
                            decoder->reason);

    png_destroy_read_struct(&png, &info, NULL);
    free(decoder->pixels);
    free(decoder->rgba);
    free(decoder->row_pointers);
    free(decoder);
    return status;
}
