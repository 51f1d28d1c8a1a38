/* Photo loading: reads the file, recognises its format by magic bytes,
 * dispatches to the decoder and applies the EXIF orientation. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image_internal.h"

/* Bytes read before the format is known; enough for every signature below,
 * so that a file of an unsupported format is rejected without reading it
 * whole. */
#define IMAGE_SIGNATURE_BYTES 64

static picotag_status status_for_failure(picotag_image_failure failure)
{
    switch (failure) {
    case PICOTAG_IMAGE_OK:
        return PICOTAG_OK;
    case PICOTAG_IMAGE_FAILURE_IO:
        return PICOTAG_ERROR_IO;
    case PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT:
    case PICOTAG_IMAGE_FAILURE_TOO_MANY_PIXELS:
        return PICOTAG_ERROR_UNSUPPORTED;
    case PICOTAG_IMAGE_FAILURE_TRUNCATED:
    case PICOTAG_IMAGE_FAILURE_CORRUPT:
        return PICOTAG_ERROR_FORMAT;
    case PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY:
        return PICOTAG_ERROR_OUT_OF_MEMORY;
    case PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT:
        return PICOTAG_ERROR_INVALID_ARGUMENT;
    }
    return PICOTAG_ERROR_FORMAT;
}

picotag_status image_fail(const char *name, picotag_image_failure failure, picotag_image_info *info,
                          picotag_error *error, const char *detail_format, ...)
{
    if (info)
        info->failure = (int32_t)failure;
    if (error) {
        int prefix = snprintf(error->message, sizeof error->message, "%s: %s: ",
                              name ? name : "(unnamed image)", picotag_image_failure_name(failure));
        if (prefix < 0)
            prefix = 0;
        if ((size_t)prefix < sizeof error->message) {
            va_list args;
            va_start(args, detail_format);
            vsnprintf(error->message + prefix, sizeof error->message - (size_t)prefix,
                      detail_format, args);
            va_end(args);
        }
    }
    return status_for_failure(failure);
}

picotag_status image_check_declared_size(const image_source *source, const char *format_name,
                                         uint64_t width, uint64_t height, picotag_image_info *info,
                                         picotag_error *error)
{
    info->stored_width = (uint32_t)(width > UINT32_MAX ? UINT32_MAX : width);
    info->stored_height = (uint32_t)(height > UINT32_MAX ? UINT32_MAX : height);

    if (width == 0 || height == 0)
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_CORRUPT, info, error,
                          "%s header declares an empty image (%llu x %llu pixels)", format_name,
                          (unsigned long long)width, (unsigned long long)height);

    /* Both factors are below 2^32, so the product cannot overflow. */
    if (width > UINT32_MAX || height > UINT32_MAX || width * height > source->max_pixels)
        return image_fail(source->name, PICOTAG_IMAGE_FAILURE_TOO_MANY_PIXELS, info, error,
                          "%s header declares %llu x %llu pixels (%.1f megapixels), over the "
                          "limit of %.1f megapixels; raise max_pixels to read it",
                          format_name, (unsigned long long)width, (unsigned long long)height,
                          (double)width * (double)height / 1e6, (double)source->max_pixels / 1e6);
    return PICOTAG_OK;
}

static int starts_with(const uint8_t *data, size_t size, const char *prefix, size_t prefix_size)
{
    return size >= prefix_size && memcmp(data, prefix, prefix_size) == 0;
}

static int brand_in(const uint8_t *brand, const char (*brands)[5], size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (memcmp(brand, brands[i], 4) == 0)
            return 1;
    return 0;
}

static const char hevc_brands[][5] = {"heic", "heix", "heim", "heis", "hevc", "hevx"};
static const char avif_brands[][5] = {"avif", "avis"};
static const char generic_heif_brands[][5] = {"mif1", "msf1"};

#define BRAND_IS(brand, list) brand_in((brand), (list), sizeof(list) / sizeof((list)[0]))

/* An ISO base media file starts with an 'ftyp' box: size (4 bytes), "ftyp",
 * major brand, minor version, then compatible brands up to the box size.
 * The generic HEIF brands (mif1, msf1) carry AV1 or HEVC images, so a file
 * whose only specific brand is "avif" is AVIF. */
static picotag_image_format detect_iso_media(const uint8_t *data, size_t size,
                                             const char **unsupported_name)
{
    const uint8_t *major = data + 8;
    if (BRAND_IS(major, avif_brands))
        return PICOTAG_IMAGE_FORMAT_AVIF;
    if (BRAND_IS(major, hevc_brands))
        return PICOTAG_IMAGE_FORMAT_HEIF;

    uint32_t box_size = ((uint32_t)data[0] << 24) | ((uint32_t)data[1] << 16) |
                        ((uint32_t)data[2] << 8) | data[3];
    size_t brands_end = box_size < size ? box_size : size;
    int avif = 0, heif = BRAND_IS(major, generic_heif_brands);
    for (size_t offset = 16; offset + 4 <= brands_end; offset += 4) {
        avif |= BRAND_IS(data + offset, avif_brands);
        heif |= BRAND_IS(data + offset, hevc_brands) || BRAND_IS(data + offset, generic_heif_brands);
    }

    if (avif)
        return PICOTAG_IMAGE_FORMAT_AVIF;
    if (heif)
        return PICOTAG_IMAGE_FORMAT_HEIF;
    *unsupported_name = "ISO base media (video or another non-image brand)";
    return PICOTAG_IMAGE_FORMAT_UNKNOWN;
}

picotag_image_format image_detect_format(const uint8_t *data, size_t size,
                                         const char **unsupported_name)
{
    *unsupported_name = NULL;

    if (starts_with(data, size, "\xFF\xD8\xFF", 3))
        return PICOTAG_IMAGE_FORMAT_JPEG;
    if (starts_with(data, size, "\x89PNG\r\n\x1A\n", 8))
        return PICOTAG_IMAGE_FORMAT_PNG;
    if (size >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
        return PICOTAG_IMAGE_FORMAT_WEBP;
    if (size >= 12 && memcmp(data + 4, "ftyp", 4) == 0)
        return detect_iso_media(data, size, unsupported_name);

    if (starts_with(data, size, "GIF87a", 6) || starts_with(data, size, "GIF89a", 6))
        *unsupported_name = "GIF";
    else if (starts_with(data, size, "II*\0", 4) || starts_with(data, size, "MM\0*", 4))
        *unsupported_name = "TIFF";
    else if (starts_with(data, size, "BM", 2))
        *unsupported_name = "BMP";
    else if (starts_with(data, size, "\xFF\x0A", 2) ||
             starts_with(data, size, "\0\0\0\x0CJXL \r\n\x87\n", 12))
        *unsupported_name = "JPEG XL";
    else if (starts_with(data, size, "qoif", 4))
        *unsupported_name = "QOI";
    else if (starts_with(data, size, "8BPS", 4))
        *unsupported_name = "Photoshop PSD";
    return PICOTAG_IMAGE_FORMAT_UNKNOWN;
}

const char *picotag_image_format_name(int format)
{
    switch (format) {
    case PICOTAG_IMAGE_FORMAT_JPEG:
        return "JPEG";
    case PICOTAG_IMAGE_FORMAT_PNG:
        return "PNG";
    case PICOTAG_IMAGE_FORMAT_WEBP:
        return "WebP";
    case PICOTAG_IMAGE_FORMAT_HEIF:
        return "HEIF";
    case PICOTAG_IMAGE_FORMAT_AVIF:
        return "AVIF";
    default:
        return "unknown";
    }
}

const char *picotag_image_failure_name(int failure)
{
    switch (failure) {
    case PICOTAG_IMAGE_OK:
        return "ok";
    case PICOTAG_IMAGE_FAILURE_IO:
        return "I/O error";
    case PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT:
        return "unsupported format";
    case PICOTAG_IMAGE_FAILURE_TRUNCATED:
        return "truncated file";
    case PICOTAG_IMAGE_FAILURE_CORRUPT:
        return "corrupt data";
    case PICOTAG_IMAGE_FAILURE_TOO_MANY_PIXELS:
        return "too many pixels";
    case PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY:
        return "out of memory";
    case PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT:
        return "invalid argument";
    default:
        return "unknown failure";
    }
}

void picotag_image_free(picotag_image *image)
{
    if (!image)
        return;
    free(image->pixels);
    memset(image, 0, sizeof *image);
}

static void reset_image(picotag_image *image)
{
    memset(image, 0, sizeof *image);
    image->info.orientation = 1;
    image->info.scale_numerator = 8;
}

/* The stored size turned by the EXIF orientation, for the decoders that
 * report the orientation instead of applying it. A DCT-scaled JPEG's decoded
 * size would be smaller. */
static void set_upright_size(picotag_image_info *info)
{
    int quarter_turn = info->orientation >= 5 && info->orientation <= 8;
    info->upright_width = quarter_turn ? info->stored_height : info->stored_width;
    info->upright_height = quarter_turn ? info->stored_width : info->stored_height;
}

static picotag_status decode_supported(const image_source *source, picotag_image_format format,
                                       picotag_image *image, picotag_error *error)
{
    picotag_status status;

    image->info.format = (int32_t)format;
    switch (format) {
    case PICOTAG_IMAGE_FORMAT_JPEG:
        status = image_decode_jpeg(source, image, error);
        break;
    case PICOTAG_IMAGE_FORMAT_PNG:
        status = image_decode_png(source, image, error);
        break;
    case PICOTAG_IMAGE_FORMAT_WEBP:
        status = image_decode_webp(source, image, error);
        break;
    case PICOTAG_IMAGE_FORMAT_HEIF:
    case PICOTAG_IMAGE_FORMAT_AVIF:
        status = image_decode_heif(source, image, error);
        break;
    default:
        status = image_fail(source->name, PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT, &image->info,
                            error, "not a supported format");
        break;
    }

    if (status == PICOTAG_OK && image->info.orientation != 1)
        status = image_apply_orientation(image, image->info.orientation, source->name, error);
    if (status == PICOTAG_OK && image->info.upright_width == 0)
        set_upright_size(&image->info);

    if (status != PICOTAG_OK) {
        picotag_image_info info = image->info;
        free(image->pixels);
        reset_image(image);
        image->info = info;
        if (image->info.failure == PICOTAG_IMAGE_OK)
            image->info.failure = PICOTAG_IMAGE_FAILURE_CORRUPT;
    }
    return status;
}

static picotag_status reject_unknown(const char *name, const char *unsupported_name,
                                     picotag_image_info *info, picotag_error *error)
{
    if (unsupported_name)
        return image_fail(name, PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT, info, error,
                          "%s is not supported; picotag reads JPEG, PNG, WebP, HEIC/HEIF and AVIF",
                          unsupported_name);
    return image_fail(name, PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT, info, error,
                      "not a JPEG, PNG, WebP, HEIC/HEIF or AVIF file (unrecognised signature)");
}

static void prepare_source(const picotag_image_options *options, const char *name,
                           const uint8_t *data, size_t size, image_source *source)
{
    memset(source, 0, sizeof *source);
    source->data = data;
    source->size = size;
    source->name = name;
    source->max_pixels = PICOTAG_IMAGE_DEFAULT_MAX_PIXELS;
    if (options && options->max_pixels != 0)
        source->max_pixels = options->max_pixels;
    if (options && options->preprocess && !options->full_resolution)
        source->min_size = image_min_size_for(options->preprocess);
}

picotag_status picotag_image_load_memory(const void *data, size_t size, const char *name,
                                         const picotag_image_options *options,
                                         picotag_image *image, picotag_error *error)
{
    if (!image)
        return image_fail(name, PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, NULL, error,
                          "image pointer is NULL");
    reset_image(image);
    if (!data && size != 0)
        return image_fail(name, PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, &image->info, error,
                          "data pointer is NULL");
    if (size == 0)
        return image_fail(name, PICOTAG_IMAGE_FAILURE_TRUNCATED, &image->info, error,
                          "the file is empty");

    const char *unsupported_name;
    picotag_image_format format = image_detect_format(data, size, &unsupported_name);
    if (format == PICOTAG_IMAGE_FORMAT_UNKNOWN)
        return reject_unknown(name, unsupported_name, &image->info, error);

    image_source source;
    prepare_source(options, name, data, size, &source);
    return decode_supported(&source, format, image, error);
}

static picotag_status io_failure(const char *path, const char *action, int error_number,
                                 picotag_image_info *info, picotag_error *error)
{
    char text[128];
    const char *reason = strerror_r(error_number, text, sizeof text);
    return image_fail(path, PICOTAG_IMAGE_FAILURE_IO, info, error, "%s failed: %s", action, reason);
}

/* Reads up to `capacity` bytes; returns the count read, or -1 with errno set. */
static ssize_t read_fully(int fd, uint8_t *buffer, size_t capacity)
{
    size_t total = 0;
    while (total < capacity) {
        ssize_t got = read(fd, buffer + total, capacity - total);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (got == 0)
            break;
        total += (size_t)got;
    }
    return (ssize_t)total;
}

/* Reads the rest of a supported file into memory after its signature. */
static picotag_status read_whole_file(int fd, const char *path, const struct stat *stat_buffer,
                                      const uint8_t *signature, size_t signature_size,
                                      uint8_t **data, size_t *size, picotag_image_info *info,
                                      picotag_error *error)
{
    /* Limitation: the whole compressed file is held in memory while it is
     * decoded; a file larger than the free memory fails as out of memory. */
    size_t capacity = (size_t)stat_buffer->st_size;
    if (capacity < signature_size)
        capacity = signature_size;
    uint8_t *buffer = malloc(capacity);
    if (!buffer)
        return image_fail(path, PICOTAG_IMAGE_FAILURE_OUT_OF_MEMORY, info, error,
                          "cannot allocate %zu bytes for the file", capacity);
    memcpy(buffer, signature, signature_size);

    ssize_t got = read_fully(fd, buffer + signature_size, capacity - signature_size);
    if (got < 0) {
        int saved = errno;
        free(buffer);
        return io_failure(path, "read", saved, info, error);
    }
    *data = buffer;
    *size = signature_size + (size_t)got;
    return PICOTAG_OK;
}

picotag_status picotag_image_load(const char *path, const picotag_image_options *options,
                                  picotag_image *image, picotag_error *error)
{
    if (!image)
        return image_fail(path, PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, NULL, error,
                          "image pointer is NULL");
    reset_image(image);
    if (!path)
        return image_fail("(null path)", PICOTAG_IMAGE_FAILURE_INVALID_ARGUMENT, &image->info,
                          error, "path is NULL");

    /* Read-only: a photo file is never written. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_failure(path, "open", errno, &image->info, error);

    struct stat stat_buffer;
    if (fstat(fd, &stat_buffer) != 0) {
        int saved = errno;
        close(fd);
        return io_failure(path, "stat", saved, &image->info, error);
    }
    if (!S_ISREG(stat_buffer.st_mode)) {
        close(fd);
        return image_fail(path, PICOTAG_IMAGE_FAILURE_IO, &image->info, error,
                          "not a regular file");
    }

    uint8_t signature[IMAGE_SIGNATURE_BYTES];
    ssize_t signature_size = read_fully(fd, signature, sizeof signature);
    if (signature_size < 0) {
        int saved = errno;
        close(fd);
        return io_failure(path, "read", saved, &image->info, error);
    }
    if (signature_size == 0) {
        close(fd);
        return image_fail(path, PICOTAG_IMAGE_FAILURE_TRUNCATED, &image->info, error,
                          "the file is empty");
    }

    const char *unsupported_name;
    picotag_image_format format =
        image_detect_format(signature, (size_t)signature_size, &unsupported_name);
    if (format == PICOTAG_IMAGE_FORMAT_UNKNOWN) {
        close(fd);
        return reject_unknown(path, unsupported_name, &image->info, error);
    }

    uint8_t *data = NULL;
    size_t size = 0;
    picotag_status status = read_whole_file(fd, path, &stat_buffer, signature,
                                            (size_t)signature_size, &data, &size, &image->info,
                                            error);
    close(fd);
    if (status != PICOTAG_OK) {
        image->info.format = (int32_t)format;
        return status;
    }

    image_source source;
    prepare_source(options, path, data, size, &source);
    status = decode_supported(&source, format, image, error);
    free(data);
    return status;
}
