/* HEIC/HEIF and AVIF decoding with libheif.
 *
 * libheif applies the file's own geometric transforms (irot rotation, imir
 * mirroring, clap clean aperture) while decoding, so the result is already
 * upright. An EXIF orientation tag in these files describes the same
 * rotation again and is not applied a second time. Deeper-than-8-bit images
 * are reduced to 8 bits by libheif. */
#include <stdlib.h>
#include <string.h>

#include <libheif/heif.h>

#include "image/image_internal.h"

static picotag_image_failure failure_for_error(struct heif_error error)
{
    if (error.code == heif_error_Invalid_input && error.subcode == heif_suberror_End_of_data)
        return PICOTAG_IMAGE_FAILURE_TRUNCATED;
    switch (error.code) {
    case heif_error_Unsupported_filetype:
    case heif_error_Unsupported_feature:
        return PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT;
    case heif_error_Memory_allocation_error:
        return PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY;
    default:
        return PICOTAG_IMAGE_FAILURE_CORRUPT;
    }
}

static picotag_status heif_failure(const image_source *source, const char *format_name,
                                   struct heif_error heif_error, picotag_image *image,
                                   picotag_error *error)
{
    return image_fail(source->name, failure_for_error(heif_error), &image->info, error, "%s: %s",
                      format_name, heif_error.message ? heif_error.message : "decoding failed");
}

/* Copies libheif's interleaved rows (which may be padded) into packed RGB8. */
static picotag_status copy_decoded(const image_source *source, const struct heif_image *decoded,
                                   int has_alpha, picotag_image *image, picotag_error *error)
{
    int stride = 0;
    const uint8_t *plane = heif_image_get_plane_readonly(decoded, heif_channel_interleaved, &stride);
    int width = heif_image_get_width(decoded, heif_channel_interleaved);
    int height = heif_image_get_height(decoded, heif_channel_interleaved);
    size_t channels = has_alpha ? 4 : 3;
    if (!plane || width <= 0 || height <= 0 || (size_t)stride < (size_t)width * channels)
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_CORRUPT, &image->info, error,
                          "HEIF: libheif returned no interleaved RGB plane");

    image->pixels = malloc((size_t)width * (size_t)height * 3);
    if (!image->pixels)
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY, &image->info, error,
                          "cannot allocate %d x %d decoded pixels", width, height);

    /* Limitation: premultiplied alpha is composited as if it were straight. */
    for (int y = 0; y < height; y++) {
        const uint8_t *row = plane + (size_t)y * (size_t)stride;
        uint8_t *out = image->pixels + (size_t)y * (size_t)width * 3;
        if (has_alpha)
            image_rgba_row_over_white(row, out, (size_t)width);
        else
            memcpy(out, row, (size_t)width * 3);
    }
    image->width = (uint32_t)width;
    image->height = (uint32_t)height;
    /* Decoded at full resolution with the transforms applied, so this is the
     * size as displayed. */
    image->info.upright_width = image->width;
    image->info.upright_height = image->height;
    return PICOTAG_OK;
}

/* Reads the capture time from the image's first Exif item. The item is
 * returned as stored: a 4-byte big-endian offset, then that many bytes
 * before the TIFF header, as libheif 1.15's heif.h documents. The EXIF
 * orientation is not used, because the irot and imir boxes describe the
 * same rotation and libheif applies them. */
static void heif_read_capture_time(const struct heif_image_handle *handle,
                                   picotag_image_info *info)
{
    heif_item_id id;
    if (heif_image_handle_get_list_of_metadata_block_IDs(handle, "Exif", &id, 1) < 1)
        return;
    size_t size = heif_image_handle_get_metadata_size(handle, id);
    if (size < 4)
        return;
    uint8_t *block = malloc(size);
    if (!block)
        return;

    struct heif_error heif_error = heif_image_handle_get_metadata(handle, id, block);
    if (heif_error.code == heif_error_Ok) {
        uint32_t tiff_offset = ((uint32_t)block[0] << 24) | ((uint32_t)block[1] << 16) |
                               ((uint32_t)block[2] << 8) | block[3];
        if (tiff_offset < size - 4) {
            image_exif_fields fields;
            image_exif_read(block + 4 + tiff_offset, size - 4 - tiff_offset, &fields);
            memcpy(info->capture_time, fields.capture_time, sizeof info->capture_time);
        }
    }
    free(block);
}

static picotag_status decode_primary(const image_source *source, const char *format_name,
                                     struct heif_context *context, picotag_image *image,
                                     picotag_error *error)
{
    struct heif_image_handle *handle = NULL;
    struct heif_error heif_error = heif_context_get_primary_image_handle(context, &handle);
    if (heif_error.code != heif_error_Ok)
        return heif_failure(source, format_name, heif_error, image, error);

    /* The coded size (ispe), before rotation; grid images report the size of
     * the whole grid. */
    int stored_width = heif_image_handle_get_ispe_width(handle);
    int stored_height = heif_image_handle_get_ispe_height(handle);
    if (stored_width <= 0 || stored_height <= 0) {
        stored_width = heif_image_handle_get_width(handle);
        stored_height = heif_image_handle_get_height(handle);
    }
    picotag_status status = image_check_declared_size(
        source, format_name, (uint64_t)(stored_width > 0 ? stored_width : 0),
        (uint64_t)(stored_height > 0 ? stored_height : 0), &image->info, error);
    if (status != PICOTAG_OK) {
        heif_image_handle_release(handle);
        return status;
    }

    heif_read_capture_time(handle, &image->info);

    int has_alpha = heif_image_handle_has_alpha_channel(handle);
    image->info.had_alpha = has_alpha != 0;

    struct heif_decoding_options *options = heif_decoding_options_alloc();
    if (options) {
        options->ignore_transformations = 0;
        options->convert_hdr_to_8bit = 1;
    }
    struct heif_image *decoded = NULL;
    /* Limitation: for corrupt AV1 data, libdav1d (libheif's AVIF decoder)
     * prints parse errors to stderr; libheif 1.15 has no way to silence it. */
    heif_error = heif_decode_image(handle, &decoded, heif_colorspace_RGB,
                                   has_alpha ? heif_chroma_interleaved_RGBA
                                             : heif_chroma_interleaved_RGB,
                                   options);
    heif_decoding_options_free(options);
    heif_image_handle_release(handle);
    if (heif_error.code != heif_error_Ok)
        return heif_failure(source, format_name, heif_error, image, error);

    status = copy_decoded(source, decoded, has_alpha, image, error);
    heif_image_release(decoded);
    return status;
}

static picotag_status decode_heif_initialized(const image_source *source, picotag_image *image,
                                              picotag_error *error)
{
    const char *format_name = picotag_image_format_name(image->info.format);
    if (image->info.format == PICOTAG_IMAGE_FORMAT_AVIF &&
        !heif_have_decoder_for_format(heif_compression_AV1))
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT, &image->info,
                          error, "this libheif has no AV1 decoder");
    if (image->info.format == PICOTAG_IMAGE_FORMAT_HEIF &&
        !heif_have_decoder_for_format(heif_compression_HEVC))
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT, &image->info,
                          error, "this libheif has no HEVC decoder");

    struct heif_context *context = heif_context_alloc();
    if (!context)
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY, &image->info, error,
                          "cannot allocate the HEIF decoder");

    picotag_status status;
    struct heif_error heif_error =
        heif_context_read_from_memory_without_copy(context, source->data, source->size, NULL);
    if (heif_error.code != heif_error_Ok)
        status = heif_failure(source, format_name, heif_error, image, error);
    else
        status = decode_primary(source, format_name, context, image, error);

    heif_context_free(context);
    return status;
}

picotag_status image_decode_heif(const image_source *source, picotag_image *image,
                                 picotag_error *error)
{
    /* heif_init and heif_deinit are reference counted, so concurrent
     * decodes keep the decoder plugins registered while any one needs them. */
    struct heif_error heif_error = heif_init(NULL);
    if (heif_error.code != heif_error_Ok)
        return heif_failure(source, picotag_image_format_name(image->info.format), heif_error,
                            image, error);
    picotag_status status = decode_heif_initialized(source, image, error);
    heif_deinit();
    return status;
}
