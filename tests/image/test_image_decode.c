/*
 * Decoding real and made-up photos: every supported format decodes to its
 * size, colour conversions follow their stated formulas, and every broken
 * file gets its own failure status and a message naming the file.
 *
 * Needs the hard-inputs sample folder; exits 77 (skipped) without it.
 */
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "test_check.h"

#include "image_test_support.h"
#include "picotag_image.h"

typedef struct decode_case {
    const char *path;
    int format;
    uint32_t width;   /* upright, as decoded */
    uint32_t height;
} decode_case;

static void decodes_every_format_to_its_size(void)
{
    static const decode_case cases[] = {
        {"pillow_Tests_images/hopper.jpg", PICOTAG_IMAGE_FORMAT_JPEG, 128, 128},
        {"pillow_Tests_images/app13-multiple.jpg", PICOTAG_IMAGE_FORMAT_JPEG, 256, 160},
        {"pillow_Tests_images/icc_profile_big.jpg", PICOTAG_IMAGE_FORMAT_JPEG, 425, 250},
        {"pillow_Tests_images/hopper_16bit_qtables.jpg", PICOTAG_IMAGE_FORMAT_JPEG, 128, 128},
        {"pillow_Tests_images/frozenpond.mpo", PICOTAG_IMAGE_FORMAT_JPEG, 640, 480},
        {"pillow_Tests_images/tiff_16bit_RGB_target.png", PICOTAG_IMAGE_FORMAT_PNG, 100, 40},
        {"pillow_Tests_images/apng/mode_16bit.png", PICOTAG_IMAGE_FORMAT_PNG, 128, 64},
        {"pillow_Tests_images/hopper.webp", PICOTAG_IMAGE_FORMAT_WEBP, 128, 128},
        {"pillow_Tests_images/transparent.webp", PICOTAG_IMAGE_FORMAT_WEBP, 200, 150},
        {"exif-samples/heic/IMG_5195.HEIC", PICOTAG_IMAGE_FORMAT_HEIF, 2566, 3313},
        {"libheif/examples/example.heic", PICOTAG_IMAGE_FORMAT_HEIF, 1280, 854},
        {"libheif/examples/example.avif", PICOTAG_IMAGE_FORMAT_AVIF, 800, 533},
        /* ispe 452 x 462; the clean-aperture box crops one row and column. */
        {"libheif/tests/data/rainbow-451x461.heic", PICOTAG_IMAGE_FORMAT_HEIF, 451, 461},
        {"pillow_Tests_images/avif/hopper.heif", PICOTAG_IMAGE_FORMAT_HEIF, 128, 128},
        {"debian_libsdl2-image-tests/sample.avif", PICOTAG_IMAGE_FORMAT_AVIF, 23, 42},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        picotag_image image;
        picotag_error error;
        const char *path = test_input_path(cases[i].path);
        picotag_status status = picotag_image_load(path, NULL, &image, &error);
        if (!CHECK_STATUS(PICOTAG_OK, status, error.message))
            continue;
        CHECK_EQ(cases[i].format, image.info.format);
        CHECK_EQ(cases[i].width, image.width);
        CHECK_EQ(cases[i].height, image.height);
        CHECK_EQ(cases[i].width, image.info.upright_width);
        CHECK_EQ(cases[i].height, image.info.upright_height);
        CHECK_EQ(PICOTAG_IMAGE_OK, image.info.failure);
        picotag_image_free(&image);
        CHECK(image.pixels == NULL);
    }
}

static picotag_status load_relative(const char *relative, picotag_image *image,
                                    picotag_error *error)
{
    return picotag_image_load(test_input_path(relative), NULL, image, error);
}

static void same_picture_in_four_formats_agrees(void)
{
    /* The SDL_image samples hold one 23 x 42 picture as lossless PNG and
     * WebP and as lossy JPEG and AVIF. Measured mean absolute differences to
     * the PNG: WebP 0, JPEG 1.3, AVIF 2.4; upside down it would be about 52. */
    picotag_image png, other;
    picotag_error error;
    if (!CHECK_STATUS(PICOTAG_OK, load_relative("debian_libsdl2-image-tests/sample.png", &png, &error),
                      error.message))
        return;
    static const char *const others[] = {"debian_libsdl2-image-tests/sample.webp",
                                          "debian_libsdl2-image-tests/sample.jpg",
                                          "debian_libsdl2-image-tests/sample.avif"};
    static const double tolerance[] = {0.0, 3.0, 4.0};
    size_t count = (size_t)png.width * png.height * 3;
    for (size_t i = 0; i < 3; i++) {
        if (!CHECK_STATUS(PICOTAG_OK, load_relative(others[i], &other, &error), error.message))
            continue;
        if (CHECK_EQ(png.width, other.width) && CHECK_EQ(png.height, other.height)) {
            double difference = test_mean_abs_difference(png.pixels, other.pixels, count);
            if (!CHECK(difference <= tolerance[i]))
                printf("  %s: mean abs difference %.2f > %.2f\n", others[i], difference, tolerance[i]);
        }
        picotag_image_free(&other);
    }
    picotag_image_free(&png);
}

static void cmyk_jpeg_matches_rgb_version(void)
{
    /* pil_sample_cmyk.jpg is Adobe-inverted CMYK of pil_sample_rgb.jpg.
     * Measured difference 4.7; reading the samples as not inverted gives 245. */
    picotag_image cmyk, rgb;
    picotag_error error;
    if (!CHECK_STATUS(PICOTAG_OK, load_relative("pillow_Tests_images/pil_sample_cmyk.jpg", &cmyk, &error),
                      error.message))
        return;
    if (CHECK_STATUS(PICOTAG_OK, load_relative("pillow_Tests_images/pil_sample_rgb.jpg", &rgb, &error),
                     error.message)) {
        double difference = test_mean_abs_difference(cmyk.pixels, rgb.pixels, 100 * 100 * 3);
        if (!CHECK(difference < 8.0))
            printf("  mean abs difference %.2f\n", difference);
        picotag_image_free(&rgb);
    }
    picotag_image_free(&cmyk);
}

static void cmyk_conversion_formula(void)
{
    /* A flat CMYK JPEG written by libjpeg, which adds an Adobe marker, so the
     * decoder reads the samples as inverted: R = C' * K' / 255. */
    enum { side = 16 };
    uint8_t samples[side * side * 4];
    for (int i = 0; i < side * side; i++) {
        samples[i * 4 + 0] = 200;
        samples[i * 4 + 1] = 100;
        samples[i * 4 + 2] = 255;
        samples[i * 4 + 3] = 128;
    }
    size_t size = 0;
    uint8_t *jpeg = test_jpeg_encode(side, side, 4, 100, samples, &size);
    if (!CHECK(jpeg != NULL))
        return;
    picotag_image image;
    picotag_error error;
    if (CHECK_STATUS(PICOTAG_OK, picotag_image_load_memory(jpeg, size, "flat-cmyk.jpg", NULL, &image, &error),
                     error.message)) {
        const uint8_t *pixel = image.pixels + (8 * side + 8) * 3;
        CHECK(abs(pixel[0] - (200 * 128 + 127) / 255) <= 2);
        CHECK(abs(pixel[1] - (100 * 128 + 127) / 255) <= 2);
        CHECK(abs(pixel[2] - (255 * 128 + 127) / 255) <= 2);
        picotag_image_free(&image);
    }
    free(jpeg);
}

static void greyscale_jpeg_has_equal_channels(void)
{
    picotag_image image;
    picotag_error error;
    if (!CHECK_STATUS(PICOTAG_OK, load_relative("pillow_Tests_images/hopper_gray.jpg", &image, &error),
                      error.message))
        return;
    CHECK_EQ(128, image.width);
    int equal = 1, varied = 0;
    for (size_t i = 0; i < (size_t)image.width * image.height; i++) {
        equal &= image.pixels[i * 3] == image.pixels[i * 3 + 1] &&
                 image.pixels[i * 3] == image.pixels[i * 3 + 2];
        varied |= image.pixels[i * 3] != image.pixels[0];
    }
    CHECK(equal);
    CHECK(varied);
    picotag_image_free(&image);
}

static void png_16_bit_rounds_to_nearest(void)
{
    /* Every 16-bit grey value once (256 x 256 image); each must become
     * round(v * 255 / 65535) = (v * 255 + 32767) / 65535. */
    enum { side = 256 };
    uint8_t *rows = malloc(side * side * 2);
    for (uint32_t v = 0; v < 65536; v++) {
        rows[v * 2] = (uint8_t)(v >> 8);
        rows[v * 2 + 1] = (uint8_t)v;
    }
    size_t size = 0;
    uint8_t *png = test_png_encode(side, side, PNG_COLOR_TYPE_GRAY, 16, rows, &size);
    free(rows);
    if (!CHECK(png != NULL))
        return;

    picotag_image image;
    picotag_error error;
    if (CHECK_STATUS(PICOTAG_OK, picotag_image_load_memory(png, size, "grey16.png", NULL, &image, &error),
                     error.message)) {
        int mismatches = 0;
        for (uint32_t v = 0; v < 65536; v++) {
            uint8_t expected = (uint8_t)((v * 255u + 32767u) / 65535u);
            const uint8_t *pixel = image.pixels + (size_t)v * 3;
            if (pixel[0] != expected || pixel[1] != expected || pixel[2] != expected) {
                if (mismatches++ < 3)
                    printf("  value %u: expected %u, got %u %u %u\n", v, expected, pixel[0],
                           pixel[1], pixel[2]);
            }
        }
        CHECK_EQ(0, mismatches);
        picotag_image_free(&image);
    }
    free(png);
}

static void png_alpha_composites_over_white(void)
{
    /* One RGBA row with alphas 0, 1, 128, 254, 255 over colour (0, 100, 255). */
    static const uint8_t alphas[] = {0, 1, 128, 254, 255};
    enum { width = 5 };
    uint8_t row[width * 4];
    for (int x = 0; x < width; x++) {
        row[x * 4 + 0] = 0;
        row[x * 4 + 1] = 100;
        row[x * 4 + 2] = 255;
        row[x * 4 + 3] = alphas[x];
    }
    size_t size = 0;
    uint8_t *png = test_png_encode(width, 1, PNG_COLOR_TYPE_RGB_ALPHA, 8, row, &size);
    if (!CHECK(png != NULL))
        return;

    picotag_image image;
    picotag_error error;
    if (CHECK_STATUS(PICOTAG_OK, picotag_image_load_memory(png, size, "alpha.png", NULL, &image, &error),
                     error.message)) {
        CHECK_EQ(1, image.info.had_alpha);
        for (int x = 0; x < width; x++) {
            for (int c = 0; c < 3; c++) {
                int color = row[x * 4 + c], alpha = alphas[x];
                int expected = (color * alpha + 255 * (255 - alpha) + 127) / 255;
                CHECK_EQ(expected, image.pixels[x * 3 + c]);
            }
        }
        picotag_image_free(&image);
    }
    free(png);
}

static void webp_alpha_composites_over_white(void)
{
    /* transparent.webp has 20101 fully transparent pixels of 30000. */
    picotag_image image;
    picotag_error error;
    if (!CHECK_STATUS(PICOTAG_OK, load_relative("pillow_Tests_images/transparent.webp", &image, &error),
                      error.message))
        return;
    CHECK_EQ(1, image.info.had_alpha);
    size_t white = 0;
    for (size_t i = 0; i < (size_t)image.width * image.height; i++)
        white += image.pixels[i * 3] == 255 && image.pixels[i * 3 + 1] == 255 &&
                 image.pixels[i * 3 + 2] == 255;
    CHECK(white >= 20101);
    picotag_image_free(&image);
}

static void avif_transform_boxes_are_applied(void)
{
    /* rotRmirM.avif store one photo rotated by R quarter turns and mirrored
     * (M = 1) with irot/imir boxes saying how to undo it: all decode to the
     * same upright 640 x 427 picture. Measured differences to rot0mir0: 6.9
     * to 8.6 (lossy re-encoding); mirrored it would be about 28. */
    picotag_image reference;
    picotag_error error;
    if (!CHECK_STATUS(PICOTAG_OK, load_relative("pillow_Tests_images/avif/rot0mir0.avif", &reference, &error),
                      error.message))
        return;
    CHECK_EQ(640, reference.width);
    CHECK_EQ(427, reference.height);
    size_t count = (size_t)reference.width * reference.height * 3;

    for (int rotation = 0; rotation < 4; rotation++) {
        for (int mirror = 0; mirror < 2; mirror++) {
            char relative[64];
            snprintf(relative, sizeof relative, "pillow_Tests_images/avif/rot%dmir%d.avif", rotation, mirror);
            picotag_image image;
            if (!CHECK_STATUS(PICOTAG_OK, load_relative(relative, &image, &error), error.message))
                continue;
            CHECK_EQ(1, image.info.orientation);
            if (CHECK_EQ(reference.width, image.width) && CHECK_EQ(reference.height, image.height)) {
                double difference = test_mean_abs_difference(reference.pixels, image.pixels, count);
                if (!CHECK(difference < 14.0))
                    printf("  %s: mean abs difference %.2f\n", relative, difference);
            }
            picotag_image_free(&image);
        }
    }
    picotag_image_free(&reference);
}

static void heif_and_avif_hopper_match_jpeg(void)
{
    picotag_image jpeg, other;
    picotag_error error;
    if (!CHECK_STATUS(PICOTAG_OK, load_relative("pillow_Tests_images/hopper.jpg", &jpeg, &error),
                      error.message))
        return;
    static const char *const others[] = {"pillow_Tests_images/avif/hopper.avif",
                                          "pillow_Tests_images/avif/hopper.heif"};
    for (size_t i = 0; i < 2; i++) {
        if (!CHECK_STATUS(PICOTAG_OK, load_relative(others[i], &other, &error), error.message))
            continue;
        if (CHECK_EQ(128, other.width) && CHECK_EQ(128, other.height)) {
            double difference = test_mean_abs_difference(jpeg.pixels, other.pixels, 128 * 128 * 3);
            if (!CHECK(difference < 8.0))
                printf("  %s: mean abs difference %.2f\n", others[i], difference);
        }
        picotag_image_free(&other);
    }
    picotag_image_free(&jpeg);
}

typedef struct failure_case {
    const char *path;
    int failure;
    const char *reason;   /* expected in the message */
} failure_case;

static void broken_files_get_their_failure(void)
{
    static const failure_case cases[] = {
        {"pillow_Tests_images/truncated_jpeg.jpg", PICOTAG_IMAGE_FAILURE_TRUNCATED, "Premature end"},
        /* The primary image of this Ultra HDR sample is cut off (Pillow also
         * reports it as truncated). */
        {"pillow_Tests_images/ultrahdr.jpg", PICOTAG_IMAGE_FAILURE_TRUNCATED, "truncated file"},
        /* Its entropy-coded data is garbage: bad Huffman codes. */
        {"pillow_Tests_images/hopper_bad_exif.jpg", PICOTAG_IMAGE_FAILURE_CORRUPT, "Huffman"},
        {"pillow_Tests_images/broken_data_stream.png", PICOTAG_IMAGE_FAILURE_CORRUPT, "corrupt data"},
        {"pillow_Tests_images/decompression_bomb.gif", PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT, "GIF"},
        {"pillow_Tests_images/Pillow_LICENSE.txt", PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT, "unrecognised"},
        {"debian_libsdl2-image-tests/sample.tif", PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT, "TIFF"},
        {"debian_libsdl2-image-tests/sample.bmp", PICOTAG_IMAGE_FAILURE_UNSUPPORTED_FORMAT, "BMP"},
        {"pillow_Tests_images/avif", PICOTAG_IMAGE_FAILURE_IO, "not a regular file"},
        {"pillow_Tests_images/no-such-file.jpg", PICOTAG_IMAGE_FAILURE_IO, "No such file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        picotag_image image;
        picotag_error error;
        const char *path = test_input_path(cases[i].path);
        picotag_status status = picotag_image_load(path, NULL, &image, &error);
        CHECK(status != PICOTAG_OK);
        CHECK(image.pixels == NULL);
        if (!CHECK_EQ(cases[i].failure, image.info.failure))
            printf("  %s: %s\n", cases[i].path, error.message);
        CHECK_CONTAINS(error.message, path);
        CHECK_CONTAINS(error.message, cases[i].reason);
    }
}

static void odd_but_complete_files_decode(void)
{
    /* Damaged metadata around intact image data: these decode. */
    static const decode_case cases[] = {
        {"pillow_Tests_images/junk_jpeg_header.jpg", PICOTAG_IMAGE_FORMAT_JPEG, 1024, 768},
        {"pillow_Tests_images/truncated_app14.jpg", PICOTAG_IMAGE_FORMAT_JPEG, 100, 100},
        {"pillow_Tests_images/invalid-exif.jpg", PICOTAG_IMAGE_FORMAT_JPEG, 200, 200},
        {"pillow_Tests_images/broken_exif_dpi.jpg", PICOTAG_IMAGE_FORMAT_JPEG, 100, 100},
        {"pillow_Tests_images/jpeg_ff00_header.jpg", PICOTAG_IMAGE_FORMAT_JPEG, 300, 225},
        {"pillow_Tests_images/multiple_exif.jpg", PICOTAG_IMAGE_FORMAT_JPEG, 1, 1},
        {"pillow_Tests_images/exif_gps.jpg", PICOTAG_IMAGE_FORMAT_JPEG, 8, 8},
        {"pillow_Tests_images/iss634.webp", PICOTAG_IMAGE_FORMAT_WEBP, 245, 245},
        {"pillow_Tests_images/avif/exif.avif", PICOTAG_IMAGE_FORMAT_AVIF, 512, 512},
        {"pillow_Tests_images/avif/xmp_tags_orientation.avif", PICOTAG_IMAGE_FORMAT_AVIF, 326, 268},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        picotag_image image;
        picotag_error error;
        if (!CHECK_STATUS(PICOTAG_OK, load_relative(cases[i].path, &image, &error), error.message))
            continue;
        CHECK_EQ(cases[i].width, image.width);
        CHECK_EQ(cases[i].height, image.height);
        picotag_image_free(&image);
    }
}

static void truncated_copies_are_reported(void)
{
    /* Each format cut at 10%, 50% and 90% of its length. */
    static const char *const files[] = {
        "pillow_Tests_images/hopper.jpg",       "pillow_Tests_images/flower.jpg",
        "debian_libsdl2-image-tests/sample.png", "pillow_Tests_images/hopper.webp",
        "pillow_Tests_images/transparent.webp",  "libheif/examples/example.heic",
        "pillow_Tests_images/avif/rot0mir0.avif",
    };
    static const int percents[] = {10, 50, 90};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t size = 0;
        uint8_t *data = test_read_file(test_input_path(files[i]), &size);
        if (!CHECK(data != NULL))
            continue;
        for (size_t p = 0; p < 3; p++) {
            size_t cut = size * (size_t)percents[p] / 100;
            picotag_image image;
            picotag_error error;
            picotag_status status =
                picotag_image_load_memory(data, cut, files[i], NULL, &image, &error);
            CHECK_STATUS(PICOTAG_ERROR_FORMAT, status, error.message);
            if (!CHECK_EQ(PICOTAG_IMAGE_FAILURE_TRUNCATED, image.info.failure))
                printf("  %s cut at %d%%: %s\n", files[i], percents[p], error.message);
            picotag_image_free(&image);
        }
        free(data);
    }
}

static void corrupted_copies_never_crash(void)
{
    /* Deterministic byte flips in sample files: each load returns a status
     * (the sanitizer build checks memory safety). A low pixel limit keeps
     * flipped size fields from making large images. */
    static const char *const files[] = {
        "pillow_Tests_images/hopper.jpg",        "pillow_Tests_images/pil_sample_cmyk.jpg",
        "debian_libsdl2-image-tests/sample.png", "pillow_Tests_images/hopper.webp",
        "debian_libsdl2-image-tests/sample.avif", "pillow_Tests_images/avif/hopper.heif",
    };
    picotag_image_options options;
    memset(&options, 0, sizeof options);
    options.max_pixels = 1u << 20;
    uint32_t state = 12345;
    int decoded = 0, failed = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t size = 0;
        uint8_t *original = test_read_file(test_input_path(files[i]), &size);
        if (!CHECK(original != NULL))
            continue;
        uint8_t *copy = malloc(size);
        for (int trial = 0; trial < 40; trial++) {
            memcpy(copy, original, size);
            for (int flip = 0; flip < 1 + trial % 4; flip++) {
                state = state * 1664525u + 1013904223u;
                size_t offset = (state >> 8) % size;
                state = state * 1664525u + 1013904223u;
                copy[offset] ^= (uint8_t)(1u + (state >> 24) % 255u);
            }
            picotag_image image;
            picotag_error error;
            picotag_status status = picotag_image_load_memory(copy, size, files[i], &options, &image, &error);
            if (status == PICOTAG_OK) {
                decoded++;
                CHECK(image.pixels != NULL);
                CHECK(image.width > 0);
                CHECK(image.height > 0);
            } else {
                failed++;
                CHECK(image.pixels == NULL);
                CHECK(image.info.failure != PICOTAG_IMAGE_OK);
            }
            picotag_image_free(&image);
        }
        free(copy);
        free(original);
    }
    printf("corrupted copies: %d decoded, %d rejected\n", decoded, failed);
    CHECK(failed > 0);
}

static void empty_input_is_truncated(void)
{
    picotag_image image;
    picotag_error error;
    CHECK_STATUS(PICOTAG_ERROR_FORMAT, picotag_image_load_memory("", 0, "empty.jpg", NULL, &image, &error),
                 error.message);
    CHECK_EQ(PICOTAG_IMAGE_FAILURE_TRUNCATED, image.info.failure);
    CHECK_CONTAINS(error.message, "empty.jpg");

    const char *path = test_write_temp_file("empty.png", "", 0);
    if (CHECK(path != NULL)) {
        CHECK_STATUS(PICOTAG_ERROR_FORMAT, picotag_image_load(path, NULL, &image, &error), error.message);
        CHECK_CONTAINS(error.message, "empty");
    }
}

static void loading_leaves_file_untouched(void)
{
    const char *path = test_input_path("pillow_Tests_images/hopper_orientation_6.jpg");
    struct stat before, after;
    size_t size_before = 0, size_after = 0;
    if (!CHECK(stat(path, &before) == 0))
        return;
    uint8_t *bytes_before = test_read_file(path, &size_before);

    picotag_image image;
    picotag_error error;
    CHECK_STATUS(PICOTAG_OK, picotag_image_load(path, NULL, &image, &error), error.message);
    picotag_image_free(&image);

    CHECK(stat(path, &after) == 0);
    CHECK_EQ(before.st_size, after.st_size);
    CHECK_EQ(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
    CHECK_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
    uint8_t *bytes_after = test_read_file(path, &size_after);
    CHECK(bytes_before != NULL);
    CHECK(bytes_after != NULL);
    CHECK_EQ(size_before, size_after);
    if (bytes_before && bytes_after && size_before == size_after)
        CHECK_EQ(0, memcmp(bytes_before, bytes_after, size_before));
    free(bytes_before);
    free(bytes_after);
}

int main(void)
{
    if (!test_hard_inputs_dir()) {
        printf("SKIP: hard-inputs folder not found at %s (set PICOTAG_HARD_INPUTS)\n",
               test_hard_inputs_expected_dir());
        return TEST_SKIP_EXIT_CODE;
    }
    RUN_TEST(decodes_every_format_to_its_size);
    RUN_TEST(same_picture_in_four_formats_agrees);
    RUN_TEST(cmyk_jpeg_matches_rgb_version);
    RUN_TEST(cmyk_conversion_formula);
    RUN_TEST(greyscale_jpeg_has_equal_channels);
    RUN_TEST(png_16_bit_rounds_to_nearest);
    RUN_TEST(png_alpha_composites_over_white);
    RUN_TEST(webp_alpha_composites_over_white);
    RUN_TEST(avif_transform_boxes_are_applied);
    RUN_TEST(heif_and_avif_hopper_match_jpeg);
    RUN_TEST(broken_files_get_their_failure);
    RUN_TEST(odd_but_complete_files_decode);
    RUN_TEST(truncated_copies_are_reported);
    RUN_TEST(corrupted_copies_never_crash);
    RUN_TEST(empty_input_is_truncated);
    RUN_TEST(loading_leaves_file_untouched);
    return test_summary();
}
