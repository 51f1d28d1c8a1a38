/*
 * EXIF orientation: the pixel permutation of each of the eight values, and
 * real photos stored in every orientation decoding to the same upright
 * picture.
 *
 * The photos of one set were re-encoded for each orientation (and
 * landscape_1.jpg has a different brightness from the others), so they are
 * compared by the normalised cross-correlation of 32 x 24 grey thumbnails:
 * measured >= 0.99 for the upright result, <= 0.70 for any wrong
 * orientation of the same shape. The test requires >= 0.95 and that no
 * other orientation of the reference matches better.
 *
 * The synthetic part always runs; the photo part exits 77 (skipped) when
 * the hard-inputs folder is absent.
 */
#include <stdlib.h>
#include <string.h>

#include "test_check.h"

#include "image/image_internal.h"
#include "image_test_support.h"
#include "picotag_image.h"

#define MIN_UPRIGHT_CORRELATION 0.95

static void orientation_permutes_pixels(void)
{
    /* A 2 x 3 image with pixels A B C / D E F (pixel value = letter), and the
     * upright image each EXIF orientation describes. */
    static const char *const expected[9] = {
        NULL,
        "ABCDEF",   /* 1: as stored, 2 x 3 */
        "CBAFED",   /* 2: mirrored left-right */
        "FEDCBA",   /* 3: rotated 180 degrees */
        "DEFABC",   /* 4: mirrored top-bottom */
        "ADBECF",   /* 5: transposed, 3 x 2: A D / B E / C F */
        "DAEBFC",   /* 6: rotated 90 degrees clockwise: D A / E B / F C */
        "FCEBDA",   /* 7: transverse: F C / E B / D A */
        "CFBEAD",   /* 8: rotated 90 degrees counter-clockwise: C F / B E / A D */
    };
    for (int orientation = 1; orientation <= 8; orientation++) {
        picotag_image image;
        memset(&image, 0, sizeof image);
        image.height = 2;
        image.width = 3;
        image.pixels = malloc(6 * 3);
        for (int i = 0; i < 6; i++)
            memset(image.pixels + i * 3, 'A' + i, 3);

        picotag_error error;
        CHECK_STATUS(PICOTAG_OK, image_apply_orientation(&image, orientation, "synthetic", &error), "");
        CHECK_EQ(orientation >= 5 ? 3 : 2, image.height);
        CHECK_EQ(orientation >= 5 ? 2 : 3, image.width);
        char actual[7] = {0};
        for (int i = 0; i < 6; i++)
            actual[i] = (char)image.pixels[i * 3];
        if (!CHECK(strcmp(actual, expected[orientation]) == 0))
            printf("  orientation %d: expected %s, got %s\n", orientation, expected[orientation], actual);
        free(image.pixels);
    }
}

/* Loads a photo as a grey thumbnail: 24 x 32 (height x width) for
 * landscape, 32 x 24 for portrait, 32 x 32 for square photos. */
static double *load_thumbnail(const char *relative, int *orientation, int *height, int *width)
{
    picotag_image image;
    picotag_error error;
    if (!CHECK_STATUS(PICOTAG_OK, picotag_image_load(test_input_path(relative), NULL, &image, &error),
                      error.message))
        return NULL;
    *orientation = image.info.orientation;
    *height = image.height < image.width ? 24 : 32;
    *width = image.height > image.width ? 24 : 32;
    double *thumbnail = test_grey_thumbnail(image.pixels, (int)image.height, (int)image.width,
                                            *height, *width);
    picotag_image_free(&image);
    return thumbnail;
}

/* Checks that `relative` decodes upright: it correlates with the reference
 * at least MIN_UPRIGHT_CORRELATION, and better than with any mirrored,
 * rotated or transposed version of the reference of the same shape. */
static void check_upright(const char *relative, const double *reference, int height, int width,
                          int expected_orientation)
{
    int orientation = 0, actual_height = 0, actual_width = 0;
    double *thumbnail = load_thumbnail(relative, &orientation, &actual_height, &actual_width);
    if (!thumbnail)
        return;
    CHECK_EQ(expected_orientation, orientation);
    if (!CHECK_EQ(height, actual_height) || !CHECK_EQ(width, actual_width)) {
        free(thumbnail);
        return;
    }

    size_t count = (size_t)height * (size_t)width;
    double upright = test_normalized_correlation(thumbnail, reference, count);
    if (!CHECK(upright >= MIN_UPRIGHT_CORRELATION))
        printf("  %s: correlation with the upright reference %.3f\n", relative, upright);

    double *candidate = malloc(count * sizeof *candidate);
    for (int transform = 1; transform < 8; transform++) {
        int flip_vertical = transform & 1, flip_horizontal = (transform >> 1) & 1;
        int transpose = (transform >> 2) & 1;
        if (transpose && height != width)
            continue;
        test_transform_plane(reference, height, width, flip_vertical, flip_horizontal, transpose,
                             candidate);
        double wrong = test_normalized_correlation(thumbnail, candidate, count);
        if (!CHECK(wrong < upright))
            printf("  %s: matches transform %d (%.3f) better than upright (%.3f)\n", relative,
                   transform, wrong, upright);
    }
    free(candidate);
    free(thumbnail);
}

static void exif_sample_photos_decode_upright(void)
{
    static const char *const sets[] = {"landscape", "portrait"};
    for (int set = 0; set < 2; set++) {
        char relative[128];
        snprintf(relative, sizeof relative, "exif-samples/jpg/orientation/%s_1.jpg", sets[set]);
        int orientation = 0, height = 0, width = 0;
        double *reference = load_thumbnail(relative, &orientation, &height, &width);
        if (!reference)
            continue;
        CHECK_EQ(set == 0 ? 24 : 32, height);
        for (int n = 2; n <= 8; n++) {
            snprintf(relative, sizeof relative, "exif-samples/jpg/orientation/%s_%d.jpg", sets[set], n);
            check_upright(relative, reference, height, width, n);
        }
        free(reference);
    }
}

static void pillow_hopper_orientations_decode_upright(void)
{
    static const char *const extensions[] = {"jpg", "webp"};
    for (int e = 0; e < 2; e++) {
        char relative[128];
        snprintf(relative, sizeof relative, "pillow_Tests_images/hopper.%s", extensions[e]);
        int orientation = 0, height = 0, width = 0;
        double *reference = load_thumbnail(relative, &orientation, &height, &width);
        if (!reference)
            continue;
        for (int n = 2; n <= 8; n++) {
            snprintf(relative, sizeof relative, "pillow_Tests_images/hopper_orientation_%d.%s", n,
                     extensions[e]);
            check_upright(relative, reference, height, width, n);
        }
        free(reference);
    }
}

static void orientation_swaps_rectangle_size(void)
{
    /* Stored 2 x 1 (width x height) with orientation 8: upright 1 x 2. */
    picotag_image image;
    picotag_error error;
    const char *path = test_input_path("pillow_Tests_images/orientation_rectangle.jpg");
    if (!CHECK_STATUS(PICOTAG_OK, picotag_image_load(path, NULL, &image, &error), error.message))
        return;
    CHECK_EQ(8, image.info.orientation);
    CHECK_EQ(2, image.info.stored_width);
    CHECK_EQ(1, image.info.stored_height);
    CHECK_EQ(1, image.width);
    CHECK_EQ(2, image.height);
    picotag_image_free(&image);
}

static void invalid_exif_means_no_rotation(void)
{
    picotag_image image;
    picotag_error error;
    const char *path = test_input_path("pillow_Tests_images/invalid-exif.jpg");
    if (!CHECK_STATUS(PICOTAG_OK, picotag_image_load(path, NULL, &image, &error), error.message))
        return;
    CHECK_EQ(1, image.info.orientation);
    picotag_image_free(&image);

    static const uint8_t garbage[] = {'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0xFF, 0xFF, 0xFF, 0xF0};
    CHECK_EQ(1, image_exif_orientation(garbage, sizeof garbage));
    CHECK_EQ(1, image_exif_orientation(garbage, 3));
}

int main(void)
{
    RUN_TEST(orientation_permutes_pixels);
    if (!test_hard_inputs_dir()) {
        printf("SKIP: hard-inputs folder not found at %s (set PICOTAG_HARD_INPUTS); "
               "only the synthetic checks ran\n", test_hard_inputs_expected_dir());
        int synthetic_result = test_summary();
        return synthetic_result != 0 ? synthetic_result : TEST_SKIP_EXIT_CODE;
    }
    RUN_TEST(exif_sample_photos_decode_upright);
    RUN_TEST(pillow_hopper_orientations_decode_upright);
    RUN_TEST(orientation_swaps_rectangle_size);
    RUN_TEST(invalid_exif_means_no_rotation);
    return test_summary();
}
