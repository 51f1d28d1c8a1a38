/* JPEG decoding with libjpeg-turbo, at a reduced DCT scale when the resize
 * allows it.
 *
 * libjpeg reports fatal errors through error_exit, whose default calls
 * exit(). Here it records the message and longjmps back instead.
 *
 * Warnings that mean pixels are missing or wrong fail the photo: premature
 * end of file, bad Huffman or arithmetic code, premature end of a data
 * segment, lost restart marker. libjpeg would otherwise return grey or
 * smeared blocks as if they were the photo. Warnings about irregularities
 * that leave the pixels intact are ignored: extra bytes before a marker, an
 * unknown Adobe transform code, a bad ICC chunk, an unknown JFIF version,
 * unusual progression or SOS parameters. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* jpeglib.h first: it includes jconfig.h, whose feature macros decide
 * which message codes jerror.h defines. */
#include <jpeglib.h>
#include <jerror.h>

#include "image/image_internal.h"

/* A progressive JPEG may contain thousands of tiny scans, each of which
 * costs a pass over the whole coefficient buffer. libjpeg's standard
 * progressive script has 10 for a colour image. Files with more scans than
 * this are rejected as corrupt. */
#define JPEG_MAX_SCANS 1000

typedef struct jpeg_decoder {
    struct jpeg_decompress_struct cinfo; /* first, so that callbacks can cast cinfo back */
    struct jpeg_error_mgr error_manager;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    picotag_image_failure failure;
    char reason[JMSG_LENGTH_MAX + 64];
    uint8_t *pixels;
    uint8_t *cmyk_row;
} jpeg_decoder;

static picotag_image_failure failure_for_error(int message_code)
{
    switch (message_code) {
    case JERR_OUT_OF_MEMORY:
        return PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY;
    case JERR_INPUT_EMPTY:
        return PICOTAG_IMAGE_FAILURE_TRUNCATED;
    case JERR_BAD_PRECISION:
    case JERR_NOT_COMPILED:
    case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW:
        return PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT;
    default:
        return PICOTAG_IMAGE_FAILURE_CORRUPT;
    }
}

static void jpeg_on_error(j_common_ptr cinfo)
{
    jpeg_decoder *decoder = (jpeg_decoder *)(void *)cinfo;
    decoder->failure = failure_for_error(cinfo->err->msg_code);
    cinfo->err->format_message(cinfo, decoder->reason);
    longjmp(decoder->jump, 1);
}

static void jpeg_on_message(j_common_ptr cinfo, int message_level)
{
    if (message_level >= 0)
        return; /* trace messages */

    jpeg_decoder *decoder = (jpeg_decoder *)(void *)cinfo;
    switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF:
        decoder->failure = PICOTAG_IMAGE_FAILURE_TRUNCATED;
        break;
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
        decoder->failure = PICOTAG_IMAGE_FAILURE_CORRUPT;
        break;
    default:
        cinfo->err->num_warnings++;
        return;
    }
    cinfo->err->format_message(cinfo, decoder->reason);
    longjmp(decoder->jump, 1);
}

static void jpeg_on_output(j_common_ptr cinfo)
{
    (void)cinfo; /* discards libjpeg's messages: errors are returned as values */
}

static void jpeg_on_progress(j_common_ptr cinfo)
{
    jpeg_decoder *decoder = (jpeg_decoder *)(void *)cinfo;
    if (decoder->cinfo.input_scan_number > JPEG_MAX_SCANS) {
        decoder->failure = PICOTAG_IMAGE_FAILURE_CORRUPT;
        snprintf(decoder->reason, sizeof decoder->reason,
                 "more than %d progressive scans", JPEG_MAX_SCANS);
        longjmp(decoder->jump, 1);
    }
}

int image_jpeg_scale_numerator(uint32_t stored_width, uint32_t stored_height, int orientation,
                               image_min_size min_size)
{
    int swaps = orientation >= 5 && orientation <= 8;

    /* Compared at 8 times the size, so that stored * M / 8 stays exact. */
    for (int numerator = 1; numerator < 8; numerator++) {
        uint64_t width = (uint64_t)stored_width * (uint64_t)numerator;
        uint64_t height = (uint64_t)stored_height * (uint64_t)numerator;
        uint64_t upright_width = swaps ? height : width;
        uint64_t upright_height = swaps ? width : height;
        uint64_t short_side = upright_width < upright_height ? upright_width : upright_height;

        if (short_side >= 8 * (uint64_t)min_size.short_side &&
            upright_height >= 8 * (uint64_t)min_size.height &&
            upright_width >= 8 * (uint64_t)min_size.width)
            return numerator;
    }
    return 8;
}

/* Orientation and capture time from the first APP1 segment that carries
 * EXIF. */
static void jpeg_read_exif(struct jpeg_decompress_struct *cinfo, picotag_image_info *info)
{
    for (jpeg_saved_marker_ptr marker = cinfo->marker_list; marker; marker = marker->next) {
        if (marker->marker == JPEG_APP0 + 1 && marker->data_length >= 6 &&
            memcmp(marker->data, "Exif\0\0", 6) == 0) {
            image_exif_fields fields;
            image_exif_read(marker->data, marker->data_length, &fields);
            info->orientation = fields.orientation;
            memcpy(info->capture_time, fields.capture_time, sizeof info->capture_time);
            return;
        }
    }
}

static int has_min_size(image_min_size min_size)
{
    return min_size.short_side != 0 || min_size.height != 0 || min_size.width != 0;
}

/* Everything that can longjmp; the caller owns the cleanup. */
static picotag_status jpeg_decode_body(jpeg_decoder *decoder, const image_source *source,
                                       picotag_image *image, picotag_error *error)
{
    struct jpeg_decompress_struct *cinfo = &decoder->cinfo;

    jpeg_mem_src(cinfo, source->data, (unsigned long)source->size);
    jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(cinfo, TRUE);

    picotag_status status = image_check_declared_size(source, "JPEG", cinfo->image_width,
                                                      cinfo->image_height, &image->info, error);
    if (status != PICOTAG_OK)
        return status;

    jpeg_read_exif(cinfo, &image->info);
    if (has_min_size(source->min_size))
        image->info.scale_numerator = image_jpeg_scale_numerator(
            cinfo->image_width, cinfo->image_height, image->info.orientation, source->min_size);
    cinfo->scale_num = (unsigned int)image->info.scale_numerator;
    cinfo->scale_denom = 8;

    int cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
    cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;

    jpeg_start_decompress(cinfo);

    size_t width = cinfo->output_width, height = cinfo->output_height;
    decoder->pixels = malloc(width * height * 3);
    if (cmyk)
        decoder->cmyk_row = malloc(width * 4);
    if (!decoder->pixels || (cmyk && !decoder->cmyk_row))
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY, &image->info, error,
                          "cannot allocate %zu x %zu decoded JPEG pixels", width, height);

    /* Photoshop stores CMYK samples inverted and marks the file with an
     * Adobe APP14 segment; files with that segment are read as inverted. */
    int adobe_inverted = cinfo->saw_Adobe_marker;
    while (cinfo->output_scanline < cinfo->output_height) {
        uint8_t *row = decoder->pixels + (size_t)cinfo->output_scanline * width * 3;
        JSAMPROW target = cmyk ? decoder->cmyk_row : row;
        if (jpeg_read_scanlines(cinfo, &target, 1) != 1)
            break;
        if (cmyk)
            image_cmyk_row_to_rgb(decoder->cmyk_row, row, width, adobe_inverted);
    }
    if (cinfo->output_scanline < cinfo->output_height)
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_TRUNCATED, &image->info, error,
                          "JPEG: only %u of %u rows decoded", cinfo->output_scanline,
                          cinfo->output_height);

    /* jpeg_finish_decompress is not called: every row has been decoded, and
     * what follows the last scan (a missing EOI marker, or a second image
     * appended as in MPO and Ultra HDR files) does not change them. */
    image->pixels = decoder->pixels;
    decoder->pixels = NULL;
    image->width = (uint32_t)width;
    image->height = (uint32_t)height;
    return PICOTAG_OK;
}

picotag_status image_decode_jpeg(const image_source *source, picotag_image *image,
                                 picotag_error *error)
{
    /* Heap-allocated so that its members keep their values across longjmp. */
    jpeg_decoder *decoder = calloc(1, sizeof *decoder);
    if (!decoder)
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY, &image->info, error,
                          "cannot allocate the JPEG decoder");

    decoder->cinfo.err = jpeg_std_error(&decoder->error_manager);
    decoder->error_manager.error_exit = jpeg_on_error;
    decoder->error_manager.emit_message = jpeg_on_message;
    decoder->error_manager.output_message = jpeg_on_output;
    decoder->progress.progress_monitor = jpeg_on_progress;

    picotag_status status;
    if (setjmp(decoder->jump) == 0) {
        jpeg_create_decompress(&decoder->cinfo);
        decoder->cinfo.progress = &decoder->progress;
        status = jpeg_decode_body(decoder, source, image, error);
    } else {
        status = image_fail(source->name, decoder->failure, &image->info, error, "JPEG: %s",
                            decoder->reason);
    }

    jpeg_destroy_decompress(&decoder->cinfo);
    free(decoder->pixels);
    free(decoder->cmyk_row);
    free(decoder);
    return status;
}
