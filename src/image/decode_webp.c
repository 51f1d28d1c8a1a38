/* WebP decoding with libwebp: lossy and lossless, with or without alpha
 * (composited over white); of an animation, the first frame on its canvas.
 * The EXIF orientation and capture time, if the file has an EXIF chunk, are
 * reported; the caller applies the orientation. */
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>

#include "image/image_internal.h"

static picotag_image_failure failure_for_status(VP8StatusCode status)
{
    switch (status) {
    case VP8_STATUS_NOT_ENOUGH_DATA:
        return PICOTAG_IMAGE_FAILURE_TRUNCATED;
    case VP8_STATUS_OUT_OF_MEMORY:
        return PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY;
    case VP8_STATUS_UNSUPPORTED_FEATURE:
        return PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT;
    default:
        return PICOTAG_IMAGE_FAILURE_CORRUPT;
    }
}

static const char *describe_status(VP8StatusCode status)
{
    switch (status) {
    case VP8_STATUS_NOT_ENOUGH_DATA:
        return "the file ends before the image data does";
    case VP8_STATUS_OUT_OF_MEMORY:
        return "libwebp ran out of memory";
    case VP8_STATUS_UNSUPPORTED_FEATURE:
        return "uses a feature libwebp does not support";
    case VP8_STATUS_BITSTREAM_ERROR:
        return "invalid bitstream";
    default:
        return "decoding failed";
    }
}

static void webp_read_exif(const image_source *source, picotag_image_info *info)
{
    WebPData data = {source->data, source->size};
    WebPDemuxer *demuxer = WebPDemux(&data);
    if (!demuxer)
        return;

    WebPChunkIterator chunk;
    if (WebPDemuxGetChunk(demuxer, "EXIF", 1, &chunk)) {
        image_exif_fields fields;
        image_exif_read(chunk.chunk.bytes, chunk.chunk.size, &fields);
        info->orientation = fields.orientation;
        memcpy(info->capture_time, fields.capture_time, sizeof info->capture_time);
        WebPDemuxReleaseChunkIterator(&chunk);
    }
    WebPDemuxDelete(demuxer);
}

/* A still image, decoded straight into a buffer of our own. */
static picotag_status webp_decode_still(const image_source *source, int has_alpha,
                                        picotag_image *image, picotag_error *error)
{
    size_t width = image->info.stored_width, height = image->info.stored_height;
    size_t channels = has_alpha ? 4 : 3;
    uint8_t *buffer = malloc(width * height * channels);
    if (!buffer)
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY, &image->info, error,
                          "cannot allocate %zu x %zu decoded WebP pixels", width, height);

    WebPDecoderConfig config;
    if (!WebPInitDecoderConfig(&config)) {
        free(buffer);
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT, &image->info,
                          error, "WebP: libwebp version mismatch");
    }
    config.output.colorspace = has_alpha ? MODE_RGBA : MODE_RGB;
    config.output.is_external_memory = 1;
    config.output.u.RGBA.rgba = buffer;
    config.output.u.RGBA.stride = (int)(width * channels);
    config.output.u.RGBA.size = width * height * channels;

    VP8StatusCode status = WebPDecode(source->data, source->size, &config);
    WebPFreeDecBuffer(&config.output);
    if (status != VP8_STATUS_OK) {
        free(buffer);
        return image_fail(source->name, failure_for_status(status), &image->info, error,
                          "WebP: %s", describe_status(status));
    }

    if (has_alpha)
        image_rgba_row_over_white(buffer, buffer, width * height);
    image->pixels = has_alpha ? realloc(buffer, width * height * 3) : buffer;
    if (!image->pixels)
        image->pixels = buffer;
    image->width = (uint32_t)width;
    image->height = (uint32_t)height;
    return PICOTAG_OK;
}

/* The first frame of an animation, composed on the canvas by libwebp. */
static picotag_status webp_decode_first_frame(const image_source *source, picotag_image *image,
                                              picotag_error *error)
{
    WebPAnimDecoderOptions options;
    if (!WebPAnimDecoderOptionsInit(&options))
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT, &image->info,
                          error, "WebP: libwebp version mismatch");
    options.color_mode = MODE_RGBA;
    options.use_threads = 0;

    WebPData data = {source->data, source->size};
    WebPAnimDecoder *decoder = WebPAnimDecoderNew(&data, &options);
    WebPAnimInfo animation;
    uint8_t *frame = NULL;
    int timestamp = 0;
    if (!decoder || !WebPAnimDecoderGetInfo(decoder, &animation) ||
        !WebPAnimDecoderGetNext(decoder, &frame, &timestamp)) {
        WebPAnimDecoderDelete(decoder);
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_CORRUPT, &image->info, error,
                          "WebP: the first animation frame cannot be decoded");
    }

    size_t width = animation.canvas_width, height = animation.canvas_height;
    image->pixels = malloc(width * height * 3);
    if (!image->pixels) {
        WebPAnimDecoderDelete(decoder);
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY, &image->info, error,
                          "cannot allocate %zu x %zu decoded WebP pixels", width, height);
    }
    image_rgba_row_over_white(frame, image->pixels, width * height);
    image->width = (uint32_t)width;
    image->height = (uint32_t)height;
    image->info.had_alpha = 1;
    WebPAnimDecoderDelete(decoder);
    return PICOTAG_OK;
}

picotag_status image_decode_webp(const image_source *source, picotag_image *image,
                                 picotag_error *error)
{
    WebPBitstreamFeatures features;
    VP8StatusCode status = WebPGetFeatures(source->data, source->size, &features);
    if (status != VP8_STATUS_OK)
        return image_fail(source->name, failure_for_status(status), &image->info, error,
                          "WebP header: %s", describe_status(status));

    picotag_status result =
        image_check_declared_size(source, "WebP", (uint64_t)(features.width > 0 ? features.width : 0),
                                  (uint64_t)(features.height > 0 ? features.height : 0),
                                  &image->info, error);
    if (result != PICOTAG_OK)
        return result;

    webp_read_exif(source, &image->info);
    image->info.had_alpha = features.has_alpha != 0;
    if (features.has_animation)
        return webp_decode_first_frame(source, image, error);
    return webp_decode_still(source, features.has_alpha, image, error);
}
