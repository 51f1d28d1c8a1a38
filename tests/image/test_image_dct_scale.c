/*
 * JPEG DCT scaling: the decoder picks the smallest scale M/8 whose result
 * still covers what the resize needs, with orientation taken into account,
 * and the preprocessed result stays close to a full-resolution decode.
 *
 * The table part always runs; the photo part exits 77 (skipped) when the
 * hard-inputs folder is absent.
 */
#include <stdlib.h>
#include <string.h>

#include "test_check.h"

#include "image/image_internal.h"
#include "image_test_support.h"
#include "picotag_image.h"

/* Mean absolute difference allowed between the DCT-scaled and the
 * full-resolution preprocessing of one photo. Measured 0.6 to 3.0 on the
 * photos below; docs/PREPROCESSING.md gives a larger set. */
#define MAX_SCALED_MEAN_DIFFERENCE 4.0

typedef struct scale_case {
    uint32_t stored_width, stored_height;
    int orientation;
    image_min_size min_size;
    int expected;
} scale_case;

static void scale_is_smallest_that_covers(void)
{
    static const scale_case cases[] = {
        /* 12 MP photo, short side 256: 3000 / 8 = 375 >= 256 already at 1/8. */
        {4000, 3000, 1, {256, 0, 0}, 1},
        /* 1352 x 900, short side 256: 900 * M / 8 >= 256 first at M = 3 (337.5). */
        {1352, 900, 1, {256, 0, 0}, 3},
        /* Exactly at the boundary: 2048 / 8 = 256. */
        {2048, 2048, 1, {256, 0, 0}, 1},
        {2047, 2048, 1, {256, 0, 0}, 2},
        /* Smaller than needed: full size. */
        {100, 100, 1, {256, 0, 0}, 8},
        /* Stretch to 224 x 448 (height x width) from 450 x 600 stored
         * (width x height): upright width 450 * M / 8 >= 448 needs M = 8;
         * with orientation 6 the upright width is 600 * M / 8, so M = 6. */
        {450, 600, 1, {0, 224, 448}, 8},
        {450, 600, 6, {0, 224, 448}, 6},
        {450, 600, 8, {0, 224, 448}, 6},
        /* No requirement: the smallest scale. */
        {640, 480, 1, {0, 0, 0}, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int actual = image_jpeg_scale_numerator(cases[i].stored_width, cases[i].stored_height,
                                                cases[i].orientation, cases[i].min_size);
        if (!CHECK_EQ(cases[i].expected, actual))
            printf("  case %zu: %u x %u, orientation %d\n", i, cases[i].stored_width,
                   cases[i].stored_height, cases[i].orientation);
    }
}

static picotag_preprocess make_preprocess(uint32_t height, uint32_t width, uint32_t mode,
                                          uint32_t resize_short)
{
    picotag_preprocess preprocess;
    memset(&preprocess, 0, sizeof preprocess);
    preprocess.input_height = height;
    preprocess.input_width = width;
    preprocess.resize_mode = mode;
    preprocess.resize_short = resize_short;
    preprocess.interpolation = 1;
    preprocess.channel_order = 1;
    return preprocess;
}

static void load_reduced(const char *relative, const picotag_preprocess *preprocess,
                         int full_resolution, int expected_scale, uint32_t expected_width,
                         uint32_t expected_height)
{
    picotag_image_options options;
    memset(&options, 0, sizeof options);
    options.preprocess = preprocess;
    options.full_resolution = full_resolution;
    picotag_image image;
    picotag_error error;
    if (!CHECK_STATUS(PICOTAG_OK, picotag_image_load(test_input_path(relative), &options, &image, &error),
                      error.message))
        return;
    if (!CHECK_EQ(expected_scale, image.info.scale_numerator))
        printf("  %s\n", relative);
    CHECK_EQ(expected_width, image.width);
    CHECK_EQ(expected_height, image.height);
    picotag_image_free(&image);
}

static void decoder_uses_chosen_scale(void)
{
    /* kite.jpg is 1352 x 900: at 3/8 libjpeg makes ceil(507) x ceil(337.5). */
    picotag_preprocess short_256 = make_preprocess(224, 224, 1, 256);
    load_reduced("debian_darknet/kite.jpg", &short_256, 0, 3, 507, 338);
    load_reduced("debian_darknet/kite.jpg", &short_256, 1, 8, 1352, 900);
    load_reduced("debian_darknet/kite.jpg", NULL, 0, 8, 1352, 900);

    /* landscape_6.jpg: stored 450 x 600, upright 600 x 450; at 6/8 the
     * upright decode is 450 x ceil(337.5). */
    picotag_preprocess stretch = make_preprocess(224, 448, 2, 0);
    load_reduced("exif-samples/jpg/orientation/landscape_6.jpg", &stretch, 0, 6, 450, 338);

    /* Other formats always decode at full size. */
    load_reduced("pillow_Tests_images/hopper.webp", &short_256, 0, 8, 128, 128);
}

static void scaled_preprocessing_is_close_to_full(void)
{
    /* All eight orientations: a flipped axis puts the DCT-scaled image's
     * partial last pixel first, which the resize must account for. */
    static const char *const photos[] = {
        "debian_darknet/kite.jpg",   "debian_darknet/dog.jpg",    "debian_darknet/eagle.jpg",
        "debian_darknet/horses.jpg", "debian_darknet/person.jpg", "debian_darknet/giraffe.jpg",
        "exif-samples/jpg/orientation/landscape_1.jpg", "exif-samples/jpg/orientation/landscape_2.jpg",
        "exif-samples/jpg/orientation/landscape_3.jpg", "exif-samples/jpg/orientation/landscape_4.jpg",
        "exif-samples/jpg/orientation/landscape_5.jpg", "exif-samples/jpg/orientation/landscape_6.jpg",
        "exif-samples/jpg/orientation/landscape_7.jpg", "exif-samples/jpg/orientation/landscape_8.jpg",
        "exif-samples/jpg/orientation/portrait_7.jpg",
    };
    picotag_preprocess recipes[2];
    recipes[0] = make_preprocess(224, 224, 1, 256);
    recipes[1] = make_preprocess(160, 160, 2, 0);
    picotag_image_options full;
    memset(&full, 0, sizeof full);
    full.full_resolution = 1;

    for (size_t r = 0; r < 2; r++) {
        size_t count = (size_t)recipes[r].input_height * recipes[r].input_width * 3;
        uint8_t *scaled = malloc(count), *reference = malloc(count);
        for (size_t i = 0; i < sizeof photos / sizeof photos[0]; i++) {
            picotag_image_info info;
            picotag_error error;
            const char *path = test_input_path(photos[i]);
            if (!CHECK_STATUS(PICOTAG_OK,
                              picotag_image_load_preprocessed(path, &recipes[r], NULL, scaled, &info, &error),
                              error.message))
                continue;
            int scaled_numerator = info.scale_numerator;
            CHECK(scaled_numerator < 8);
            if (!CHECK_STATUS(PICOTAG_OK,
                              picotag_image_load_preprocessed(path, &recipes[r], &full, reference, &info, &error),
                              error.message))
                continue;
            CHECK_EQ(8, info.scale_numerator);
            double difference = test_mean_abs_difference(scaled, reference, count);
            printf("%-48s recipe %zu: scale %d/8, mean abs difference %.2f\n", photos[i], r,
                   scaled_numerator, difference);
            if (!CHECK(difference <= MAX_SCALED_MEAN_DIFFERENCE))
                printf("  %s recipe %zu: mean abs difference %.2f\n", photos[i], r, difference);
        }
        free(scaled);
        free(reference);
    }
}

int main(void)
{
    RUN_TEST(scale_is_smallest_that_covers);
    if (!test_hard_inputs_dir()) {
        printf("SKIP: hard-inputs folder not found at %s (set PICOTAG_HARD_INPUTS); "
               "only the scale table ran\n", test_hard_inputs_expected_dir());
        int table_result = test_summary();
        return table_result != 0 ? table_result : TEST_SKIP_EXIT_CODE;
    }
    RUN_TEST(decoder_uses_chosen_scale);
    RUN_TEST(scaled_preprocessing_is_close_to_full);
    return test_summary();
}
