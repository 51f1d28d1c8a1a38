/*
 * Decompression bombs: files whose header declares far more pixels than
 * their data contains. They must be rejected from the header, before any
 * pixel buffer is allocated. Also the progressive JPEG scan limit, which
 * bounds decoding time.
 *
 * Two measurements back this up. The peak resident set size (ru_maxrss)
 * must grow by less than MAX_PEAK_GROWTH_KIB while the bombs are loaded.
 * And outside AddressSanitizer builds, the address space is limited to its
 * current size plus ADDRESS_SPACE_HEADROOM while they load. Lifting the
 * pixel limit then makes the decoders fail with "out of memory", which
 * shows that the limit is what kept them from allocating. (AddressSanitizer
 * reserves terabytes of address space up front, so the limit cannot apply
 * there.)
 *
 * The bombs are made here; only the GIF check uses the hard-inputs folder.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <webp/encode.h>

#include "test_check.h"

#include "image_test_support.h"
#include "picotag_image.h"

#define BOMB_SIDE 50000u
#define MAX_PEAK_GROWTH_KIB (16 * 1024)
#define ADDRESS_SPACE_HEADROOM ((rlim_t)512 << 20)

#if defined(__SANITIZE_ADDRESS__)
#define TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_UNDER_ASAN 1
#endif
#endif
#ifndef TEST_UNDER_ASAN
#define TEST_UNDER_ASAN 0
#endif

static void put_be32(uint8_t *out, uint32_t value)
{
    out[0] = (uint8_t)(value >> 24);
    out[1] = (uint8_t)(value >> 16);
    out[2] = (uint8_t)(value >> 8);
    out[3] = (uint8_t)value;
}

/* Appends a PNG chunk (length, type, data, CRC-32 of type and data). */
static size_t put_png_chunk(uint8_t *out, const char *type, const uint8_t *data, uint32_t length)
{
    put_be32(out, length);
    memcpy(out + 4, type, 4);
    if (length)
        memcpy(out + 8, data, length);
    uLong crc = crc32(0L, out + 4, 4 + length);
    put_be32(out + 8 + length, (uint32_t)crc);
    return 12 + length;
}

/* A valid PNG of a few hundred bytes whose IHDR declares side x side RGB. */
static uint8_t *make_png_bomb(uint32_t side, size_t *size)
{
    uint8_t raw[1024] = {0};
    uint8_t compressed[1024];
    uLongf compressed_size = sizeof compressed;
    if (compress2(compressed, &compressed_size, raw, sizeof raw, 9) != Z_OK)
        return NULL;

    uint8_t *png = malloc(64 + compressed_size);
    if (!png)
        return NULL;
    memcpy(png, "\x89PNG\r\n\x1A\n", 8);
    size_t offset = 8;
    uint8_t header[13];
    put_be32(header, side);
    put_be32(header + 4, side);
    header[8] = 8;  /* bit depth */
    header[9] = 2;  /* RGB */
    header[10] = header[11] = header[12] = 0;
    offset += put_png_chunk(png + offset, "IHDR", header, sizeof header);
    offset += put_png_chunk(png + offset, "IDAT", compressed, (uint32_t)compressed_size);
    offset += put_png_chunk(png + offset, "IEND", NULL, 0);
    *size = offset;
    return png;
}

/* A real 16 x 16 JPEG whose frame header is patched to side x side. */
static uint8_t *make_jpeg_bomb(uint16_t side, size_t *size)
{
    uint8_t samples[16 * 16 * 3];
    for (size_t i = 0; i < sizeof samples; i++)
        samples[i] = (uint8_t)(i * 7);
    uint8_t *jpeg = test_jpeg_encode(16, 16, 3, 90, samples, size);
    if (!jpeg)
        return NULL;
    for (size_t i = 2; i + 9 < *size; i++) {
        if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {
            /* SOF0: marker, length (2), precision (1), height (2), width (2). */
            jpeg[i + 5] = (uint8_t)(side >> 8);
            jpeg[i + 6] = (uint8_t)side;
            jpeg[i + 7] = (uint8_t)(side >> 8);
            jpeg[i + 8] = (uint8_t)side;
            return jpeg;
        }
    }
    free(jpeg);
    return NULL;
}

/* A real 16 x 16 lossy WebP whose VP8 frame header is patched to the
 * largest size WebP can declare, 16383 x 16383. */
static uint8_t *make_webp_bomb(size_t *size)
{
    uint8_t samples[16 * 16 * 3];
    for (size_t i = 0; i < sizeof samples; i++)
        samples[i] = (uint8_t)(i * 5);
    uint8_t *encoded = NULL;
    *size = WebPEncodeRGB(samples, 16, 16, 16 * 3, 80.0f, &encoded);
    if (*size < 30 || memcmp(encoded + 12, "VP8 ", 4) != 0 ||
        memcmp(encoded + 23, "\x9d\x01\x2a", 3) != 0) {
        WebPFree(encoded);
        return NULL;
    }
    uint8_t *webp = malloc(*size);
    memcpy(webp, encoded, *size);
    WebPFree(encoded);
    webp[26] = 0xFF, webp[27] = 0x3F; /* width 16383, no upscaling */
    webp[28] = 0xFF, webp[29] = 0x3F; /* height 16383 */
    return webp;
}

static long peak_rss_kib(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

static picotag_status load_with_limit(const uint8_t *data, size_t size, const char *name,
                                      uint64_t max_pixels, picotag_image *image,
                                      picotag_error *error)
{
    picotag_image_options options;
    memset(&options, 0, sizeof options);
    options.max_pixels = max_pixels;
    return picotag_image_load_memory(data, size, name, &options, image, error);
}

static void check_rejected(const uint8_t *data, size_t size, const char *name, uint64_t max_pixels,
                           const char *declared)
{
    picotag_image image;
    picotag_error error;
    picotag_status status = load_with_limit(data, size, name, max_pixels, &image, &error);
    CHECK_STATUS(PICOTAG_ERROR_UNSUPPORTED, status, error.message);
    CHECK_EQ(PICOTAG_IMAGE_FAILURE_TOO_MANY_PIXELS, image.info.failure);
    CHECK(image.pixels == NULL);
    CHECK_CONTAINS(error.message, name);
    CHECK_CONTAINS(error.message, declared);
    CHECK_CONTAINS(error.message, "max_pixels");
}

static uint8_t *png_bomb, *jpeg_bomb, *webp_bomb;
static size_t png_bomb_size, jpeg_bomb_size, webp_bomb_size;

static void bombs_are_rejected_from_header(void)
{
    long before = peak_rss_kib();

    check_rejected(png_bomb, png_bomb_size, "bomb.png", 0, "50000 x 50000");
    check_rejected(jpeg_bomb, jpeg_bomb_size, "bomb.jpg", 0, "50000 x 50000");
    /* 268.4 megapixels is within the default limit; a lower one applies. */
    check_rejected(webp_bomb, webp_bomb_size, "bomb.webp", 100000000, "16383 x 16383");

    const char *path = test_write_temp_file("bomb.png", png_bomb, png_bomb_size);
    if (CHECK(path != NULL)) {
        picotag_image image;
        picotag_error error;
        CHECK_STATUS(PICOTAG_ERROR_UNSUPPORTED, picotag_image_load(path, NULL, &image, &error),
                     error.message);
        CHECK_CONTAINS(error.message, "too many pixels");
    }

    long growth = peak_rss_kib() - before;
    printf("peak resident memory grew by %ld KiB while loading the bombs\n", growth);
    CHECK(growth < MAX_PEAK_GROWTH_KIB);
}

static void pixel_limit_is_inclusive(void)
{
    /* 16 x 16 = 256 pixels: allowed at a limit of 256, rejected at 255. */
    uint8_t samples[16 * 16 * 3] = {0};
    size_t size = 0;
    uint8_t *jpeg = test_jpeg_encode(16, 16, 3, 90, samples, &size);
    if (!CHECK(jpeg != NULL))
        return;
    picotag_image image;
    picotag_error error;
    CHECK_STATUS(PICOTAG_OK, load_with_limit(jpeg, size, "small.jpg", 256, &image, &error), error.message);
    picotag_image_free(&image);
    check_rejected(jpeg, size, "small.jpg", 255, "16 x 16");
    free(jpeg);
}

static void heif_limit_applies_before_decoding(void)
{
    const char *path = test_input_path("libheif/examples/example.heic");
    size_t size = 0;
    uint8_t *data = test_read_file(path, &size);
    if (!data) {
        printf("note: %s not found; HEIF limit check skipped\n", path);
        return;
    }
    check_rejected(data, size, "example.heic", 1000000, "1280 x 854");
    free(data);
}

static rlim_t current_address_space(void)
{
    FILE *statm = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (statm) {
        if (fscanf(statm, "%lu", &pages) != 1)
            pages = 0;
        fclose(statm);
    }
    return (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE);
}

static void limit_is_what_prevents_allocation(void)
{
    if (TEST_UNDER_ASAN) {
        printf("note: address-space limit checks skipped under AddressSanitizer\n");
        return;
    }
    struct rlimit saved;
    if (!CHECK(getrlimit(RLIMIT_AS, &saved) == 0))
        return;
    rlim_t used = current_address_space();
    if (!CHECK(used > 0))
        return;
    struct rlimit limited = saved;
    limited.rlim_cur = used + ADDRESS_SPACE_HEADROOM;
    if (saved.rlim_cur != RLIM_INFINITY && saved.rlim_cur < limited.rlim_cur)
        limited.rlim_cur = saved.rlim_cur;
    if (!CHECK(setrlimit(RLIMIT_AS, &limited) == 0))
        return;

    /* With the default limit nothing large is allocated. */
    check_rejected(png_bomb, png_bomb_size, "bomb.png", 0, "50000 x 50000");
    check_rejected(jpeg_bomb, jpeg_bomb_size, "bomb.jpg", 0, "50000 x 50000");

    /* Without it, the decoders ask for 50000 * 50000 * 3 bytes and fail. */
    picotag_image image;
    picotag_error error;
    CHECK_STATUS(PICOTAG_ERROR_OUT_OF_MEMORY,
                 load_with_limit(png_bomb, png_bomb_size, "bomb.png", UINT64_MAX, &image, &error),
                 error.message);
    CHECK_STATUS(PICOTAG_ERROR_OUT_OF_MEMORY,
                 load_with_limit(jpeg_bomb, jpeg_bomb_size, "bomb.jpg", UINT64_MAX, &image, &error),
                 error.message);

    CHECK(setrlimit(RLIMIT_AS, &saved) == 0);
}

static void progressive_scan_count_is_limited(void)
{
    /* 3 * (1 + 63 * 6) = 1137 scans, over the decoder's limit of 1000; the
     * same picture in 192 scans decodes. */
    uint8_t samples[16 * 16 * 3];
    for (size_t i = 0; i < sizeof samples; i++)
        samples[i] = (uint8_t)(i * 3);
    size_t size = 0;
    picotag_image image;
    picotag_error error;

    uint8_t *many = test_jpeg_encode_many_scans(16, 16, samples, 5, &size);
    if (CHECK(many != NULL)) {
        CHECK_STATUS(PICOTAG_ERROR_FORMAT, picotag_image_load_memory(many, size, "scans.jpg", NULL, &image, &error),
                     error.message);
        CHECK_EQ(PICOTAG_IMAGE_FAILURE_CORRUPT, image.info.failure);
        CHECK_CONTAINS(error.message, "more than 1000 progressive scans");
    }
    free(many);

    uint8_t *fewer = test_jpeg_encode_many_scans(16, 16, samples, 0, &size);
    if (CHECK(fewer != NULL)) {
        CHECK_STATUS(PICOTAG_OK, picotag_image_load_memory(fewer, size, "scans.jpg", NULL, &image, &error),
                     error.message);
        CHECK_EQ(16, image.width);
        picotag_image_free(&image);
    }
    free(fewer);
}

static void gif_bomb_is_unsupported_format(void)
{
    if (!test_hard_inputs_dir()) {
        printf("note: hard-inputs folder not found; GIF check skipped\n");
        return;
    }
    picotag_image image;
    picotag_error error;
    const char *path = test_input_path("pillow_Tests_images/decompression_bomb.gif");
    CHECK_STATUS(PICOTAG_ERROR_UNSUPPORTED, picotag_image_load(path, NULL, &image, &error), error.message);
    CHECK_EQ(PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT, image.info.failure);
    CHECK_CONTAINS(error.message, "GIF");
}

int main(void)
{
    png_bomb = make_png_bomb(BOMB_SIDE, &png_bomb_size);
    jpeg_bomb = make_jpeg_bomb(BOMB_SIDE, &jpeg_bomb_size);
    webp_bomb = make_webp_bomb(&webp_bomb_size);
    if (!CHECK(png_bomb && jpeg_bomb && webp_bomb))
        return test_summary();
    printf("bomb files: PNG %zu bytes, JPEG %zu bytes, WebP %zu bytes\n", png_bomb_size,
           jpeg_bomb_size, webp_bomb_size);

    RUN_TEST(bombs_are_rejected_from_header);
    RUN_TEST(pixel_limit_is_inclusive);
    RUN_TEST(heif_limit_applies_before_decoding);
    RUN_TEST(limit_is_what_prevents_allocation);
    RUN_TEST(progressive_scan_count_is_limited);
    RUN_TEST(gif_bomb_is_unsupported_format);

    free(png_bomb);
    free(jpeg_bomb);
    free(webp_bomb);
    return test_summary();
}
