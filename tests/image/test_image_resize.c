/*
 * The antialiased bilinear resize and the resize plan, on synthetic images.
 * Expected values are worked out by hand from the definition in
 * docs/PREPROCESSING.md (triangle weights, 14-bit cumulative rounding,
 * (sum + 32) >> 6 horizontally, (sum + 2^21) >> 22 vertically).
 */
#include <stdlib.h>
#include <string.h>

#include "test_check.h"

#include "image_test_support.h"
#include "picotag_image.h"

static uint8_t *random_image(int height, int width, uint32_t *state)
{
    size_t count = (size_t)height * (size_t)width * 3;
    uint8_t *pixels = malloc(count);
    for (size_t i = 0; pixels && i < count; i++) {
        *state = *state * 1664525u + 1013904223u;
        pixels[i] = (uint8_t)(*state >> 24);
    }
    return pixels;
}

static uint8_t *filled_image(int height, int width, uint8_t value)
{
    size_t count = (size_t)height * (size_t)width * 3;
    uint8_t *pixels = malloc(count);
    if (pixels)
        memset(pixels, value, count);
    return pixels;
}

static int all_bytes_equal(const uint8_t *pixels, size_t count, uint8_t value)
{
    for (size_t i = 0; i < count; i++)
        if (pixels[i] != value)
            return 0;
    return 1;
}

static void resize_same_size_is_identity(void)
{
    uint32_t state = 1;
    uint8_t *source = random_image(37, 53, &state);
    uint8_t *out = malloc(37 * 53 * 3);
    CHECK_STATUS(PICOTAG_OK, picotag_image_resize_rgb8(source, 37, 53, out, 37, 53), "");
    CHECK_EQ(0, memcmp(source, out, 37 * 53 * 3));
    free(source);
    free(out);
}

static void resize_constant_image_stays_constant(void)
{
    /* Every output's weights sum to exactly 2^14, so a flat field survives
     * any size change, including 3000 taps per output. */
    static const int sizes[][4] = {
        {1, 1, 9, 7}, {5, 7, 1, 1}, {100, 3, 7, 300}, {3000, 2, 1, 3}, {2, 3000, 3, 1},
        {17, 19, 16, 18}, {480, 640, 224, 224}, {1, 4000, 2, 2},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int sh = sizes[i][0], sw = sizes[i][1], dh = sizes[i][2], dw = sizes[i][3];
        for (int value = 0; value <= 255; value += 85) {
            uint8_t *source = filled_image(sh, sw, (uint8_t)value);
            uint8_t *out = malloc((size_t)dh * (size_t)dw * 3);
            CHECK_STATUS(PICOTAG_OK, picotag_image_resize_rgb8(source, sh, sw, out, dh, dw), "");
            if (!CHECK(all_bytes_equal(out, (size_t)dh * (size_t)dw * 3, (uint8_t)value)))
                printf("  size %dx%d -> %dx%d, value %d\n", sh, sw, dh, dw, value);
            free(source);
            free(out);
        }
    }
}

static void resize_halving_uses_1_3_3_1_filter(void)
{
    /* At scale 2 the triangle spans four source pixels with weights
     * 1/8, 3/8, 3/8, 1/8, exactly 2048, 6144, 6144, 2048 in 14 bits.
     * Columns alternating 0, 255: interior output = 8192 * 255 summed, which
     * the horizontal pass maps to 32640 (127.5 in 8 fractional bits) and the
     * vertical pass rounds half up to 128. */
    enum { height = 4, width = 16 };
    uint8_t source[height * width * 3];
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            memset(source + (y * width + x) * 3, x % 2 ? 255 : 0, 3);

    uint8_t out[2 * 8 * 3];
    CHECK_STATUS(PICOTAG_OK, picotag_image_resize_rgb8(source, height, width, out, 2, 8), "");
    for (int y = 0; y < 2; y++)
        for (int x = 1; x < 7; x++)
            CHECK_EQ(128, out[(y * 8 + x) * 3 + 1]);
}

static void resize_upscale_interpolates_linearly(void)
{
    /* 1 x 2 pixels [0, 255] to 1 x 4: output centres at source 0.25, 0.75,
     * 1.25, 1.75. The outer two see one pixel only, because the window is
     * clipped at the border. The inner two weigh 0.75 and 0.25 (12288 and
     * 4096), giving 63.75 and 191.25, rounded to 64 and 191. */
    uint8_t source[2 * 3] = {0, 0, 0, 255, 255, 255};
    uint8_t out[4 * 3];
    CHECK_STATUS(PICOTAG_OK, picotag_image_resize_rgb8(source, 1, 2, out, 1, 4), "");
    CHECK_EQ(0, out[0]);
    CHECK_EQ(64, out[3]);
    CHECK_EQ(191, out[6]);
    CHECK_EQ(255, out[9]);
}

static void resize_to_one_pixel_weights_whole_window(void)
{
    /* 3 x 3 to 1 x 1: scale 3, centre 1.5, weights 2/3, 1, 2/3 normalised to
     * 2/7, 3/7, 2/7: cumulative 4681.14, 11702.86, 16384 round to 4681,
     * 11703, 16384, so the weights are 4681, 7022, 4681. A single 255 in the
     * middle: horizontal (7022 * 255 + 32) >> 6 = 27978, vertical
     * (7022 * 27978 + 2^21) >> 22 = 47. */
    uint8_t source[3 * 3 * 3] = {0};
    memset(source + 4 * 3, 255, 3);
    uint8_t out[3];
    CHECK_STATUS(PICOTAG_OK, picotag_image_resize_rgb8(source, 3, 3, out, 1, 1), "");
    CHECK_EQ(47, out[0]);
    CHECK_EQ(47, out[2]);
}

static void resize_one_pixel_source_fills_output(void)
{
    uint8_t source[3] = {10, 200, 77};
    uint8_t out[5 * 9 * 3];
    CHECK_STATUS(PICOTAG_OK, picotag_image_resize_rgb8(source, 1, 1, out, 5, 9), "");
    int same = 1;
    for (int i = 0; i < 5 * 9; i++)
        same &= out[i * 3] == 10 && out[i * 3 + 1] == 200 && out[i * 3 + 2] == 77;
    CHECK(same);
}

static void resize_extreme_aspect_ratios(void)
{
    /* A 1 x 4000 strip and a 4000 x 1 column to 3 x 3, and a 1 x 1 image
     * stretched to 1 x 4096. The ramp's mean is kept within rounding. */
    uint8_t *strip = malloc(4000 * 3);
    for (int x = 0; x < 4000; x++)
        memset(strip + x * 3, x * 256 / 4000, 3);
    uint8_t out[3 * 3 * 3];
    CHECK_STATUS(PICOTAG_OK, picotag_image_resize_rgb8(strip, 1, 4000, out, 3, 3), "");
    CHECK(out[0] < out[3]);
    CHECK(out[3] < out[6]);
    CHECK(out[3] >= 126);
    CHECK(out[3] <= 129);
    CHECK_STATUS(PICOTAG_OK, picotag_image_resize_rgb8(strip, 4000, 1, out, 3, 3), "");
    CHECK(out[0] < out[9]);
    CHECK(out[9] < out[18]);
    free(strip);

    uint8_t one[3] = {1, 2, 3};
    uint8_t *wide = malloc(4096 * 3);
    CHECK_STATUS(PICOTAG_OK, picotag_image_resize_rgb8(one, 1, 1, wide, 1, 4096), "");
    CHECK_EQ(3, wide[4095 * 3 + 2]);
    free(wide);
}

static void resize_crop_matches_full_resize_then_crop(void)
{
    uint32_t state = 7;
    uint8_t *source = random_image(61, 83, &state);
    enum { rh = 47, rw = 70, top = 5, left = 11, ch = 30, cw = 41 };
    uint8_t *full = malloc(rh * rw * 3);
    uint8_t *crop = malloc(ch * cw * 3);
    CHECK_STATUS(PICOTAG_OK, picotag_image_resize_rgb8(source, 61, 83, full, rh, rw), "");
    CHECK_STATUS(PICOTAG_OK,
                 picotag_image_resize_crop_rgb8(source, 61, 83, rh, rw, top, left, crop, ch, cw), "");
    int same = 1;
    for (int y = 0; y < ch; y++)
        same &= memcmp(crop + y * cw * 3, full + ((y + top) * rw + left) * 3, cw * 3) == 0;
    CHECK(same);
    free(source);
    free(full);
    free(crop);
}

static void resize_rejects_invalid_arguments(void)
{
    uint8_t pixel[3] = {0};
    uint8_t out[3 * 4];
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_image_resize_rgb8(pixel, 0, 1, out, 1, 1), "");
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_image_resize_rgb8(pixel, 1, 1, out, 1, 0), "");
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_image_resize_rgb8(NULL, 1, 1, out, 1, 1), "");
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 picotag_image_resize_crop_rgb8(pixel, 1, 1, 4, 4, 3, 0, out, 2, 2), "crop below");
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 picotag_image_resize_crop_rgb8(pixel, 1, 1, 4, 4, 0, -1, out, 2, 2), "crop left");
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

static void plan_short_side_rounds_half_up_and_centres(void)
{
    picotag_preprocess preprocess = make_preprocess(224, 224, 1, 256);
    picotag_resize_plan plan;
    picotag_error error;

    /* 480 x 640 landscape: 640 * 256 / 480 = 341.33 -> 341; crop (341 - 224) / 2 = 58. */
    CHECK_STATUS(PICOTAG_OK, picotag_image_plan_resize(480, 640, &preprocess, &plan, &error),
                 error.message);
    CHECK_EQ(256, plan.resized_height);
    CHECK_EQ(341, plan.resized_width);
    CHECK_EQ(16, plan.crop_top);
    CHECK_EQ(58, plan.crop_left);

    /* Portrait 3 x 2 (height 3) with resize_short 225: 337.5 rounds up to 338. */
    preprocess = make_preprocess(224, 224, 1, 225);
    CHECK_STATUS(PICOTAG_OK, picotag_image_plan_resize(3, 2, &preprocess, &plan, &error),
                 error.message);
    CHECK_EQ(338, plan.resized_height);
    CHECK_EQ(225, plan.resized_width);
    CHECK_EQ(57, plan.crop_top);
    CHECK_EQ(0, plan.crop_left);

    /* An extreme panorama keeps exact integers: 1 x 100000 to short side 256. */
    preprocess = make_preprocess(224, 224, 1, 256);
    CHECK_STATUS(PICOTAG_OK, picotag_image_plan_resize(1, 100000, &preprocess, &plan, &error),
                 error.message);
    CHECK_EQ(25600000, plan.resized_width);
    CHECK_EQ((25600000 - 224) / 2, plan.crop_left);
}

static void plan_stretch_ignores_aspect(void)
{
    picotag_preprocess preprocess = make_preprocess(100, 300, 2, 0);
    picotag_resize_plan plan;
    picotag_error error;
    CHECK_STATUS(PICOTAG_OK, picotag_image_plan_resize(4000, 10, &preprocess, &plan, &error),
                 error.message);
    CHECK_EQ(100, plan.resized_height);
    CHECK_EQ(300, plan.resized_width);
    CHECK_EQ(0, plan.crop_top);
    CHECK_EQ(0, plan.crop_left);
}

static void plan_rejects_invalid_records(void)
{
    picotag_resize_plan plan;
    picotag_error error;
    picotag_preprocess small_short = make_preprocess(224, 224, 1, 200);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 picotag_image_plan_resize(100, 100, &small_short, &plan, &error), error.message);
    CHECK_CONTAINS(error.message, "resize_short 200");

    picotag_preprocess unknown_mode = make_preprocess(224, 224, 3, 256);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 picotag_image_plan_resize(100, 100, &unknown_mode, &plan, &error), error.message);

    picotag_preprocess nearest = make_preprocess(224, 224, 2, 0);
    nearest.interpolation = 2;
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 picotag_image_plan_resize(100, 100, &nearest, &plan, &error), error.message);
}

/* Returns a decoded-image struct of 90 x 120 random pixels. */
static picotag_image hand_made_image(uint32_t seed)
{
    uint32_t state = seed;
    picotag_image image;
    memset(&image, 0, sizeof image);
    image.height = 90;
    image.width = 120;
    image.pixels = random_image(90, 120, &state);
    return image;
}

static void preprocess_applies_plan(void)
{
    /* picotag_image_preprocess on a hand-made image equals the plan's
     * resize-and-crop done with the public resize function. */
    picotag_image image = hand_made_image(3);

    picotag_preprocess preprocess = make_preprocess(32, 32, 1, 40);
    picotag_resize_plan plan;
    picotag_error error;
    CHECK_STATUS(PICOTAG_OK, picotag_image_plan_resize(90, 120, &preprocess, &plan, &error), "");
    uint8_t expected[32 * 32 * 3], actual[32 * 32 * 3];
    CHECK_STATUS(PICOTAG_OK,
                 picotag_image_resize_crop_rgb8(image.pixels, 90, 120, plan.resized_height,
                                                plan.resized_width, plan.crop_top, plan.crop_left,
                                                expected, 32, 32), "");
    CHECK_STATUS(PICOTAG_OK, picotag_image_preprocess(&image, &preprocess, actual, &error),
                 error.message);
    CHECK_EQ(0, memcmp(expected, actual, sizeof actual));
    free(image.pixels);
}

static void views_reject_invalid_fields(void)
{
    picotag_resize_plan plan;
    picotag_error error;
    int mirrored = 0;
    picotag_preprocess flip = make_preprocess(32, 32, 2, 0);
    flip.view_flip = 2;
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 picotag_image_plan_view(100, 100, &flip, 0, &plan, &mirrored, &error),
                 error.message);
    CHECK_CONTAINS(error.message, "view_flip 2");

    picotag_preprocess grid = make_preprocess(32, 32, 2, 0);
    grid.view_grid = 2;
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 picotag_image_plan_view(100, 100, &grid, 0, &plan, &mirrored, &error),
                 error.message);
    CHECK_CONTAINS(error.message, "view_crop_permille 0");

    grid.view_crop_permille = 700;
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 picotag_image_plan_view(100, 100, &grid, 5, &plan, &mirrored, &error),
                 error.message);
    CHECK_CONTAINS(error.message, "view 5 does not exist");
    CHECK_EQ(5, picotag_preprocess_view_count(&grid));
    CHECK_EQ(0, picotag_preprocess_view_count(NULL));
}

static void views_mirror_and_crop(void)
{
    /* Views of a hand-made image: view 0 is picotag_image_preprocess's
     * output, view 1 its mirror, and the crop views follow their plans. */
    picotag_image image = hand_made_image(5);

    picotag_preprocess preprocess = make_preprocess(32, 32, 1, 40);
    preprocess.view_flip = 1;
    preprocess.view_grid = 2;
    preprocess.view_crop_permille = 600;
    enum { VIEW_BYTES = 32 * 32 * 3, VIEWS = 10 };
    CHECK_EQ(VIEWS, picotag_preprocess_view_count(&preprocess));
    uint8_t *views = malloc(VIEWS * VIEW_BYTES);
    picotag_error error;
    CHECK_STATUS(PICOTAG_OK, picotag_image_preprocess_views(&image, &preprocess, views, &error),
                 error.message);

    uint8_t whole[VIEW_BYTES];
    CHECK_STATUS(PICOTAG_OK, picotag_image_preprocess(&image, &preprocess, whole, &error),
                 error.message);
    CHECK_EQ(0, memcmp(whole, views, VIEW_BYTES));
    for (int y = 0; y < 32; y++) {
        for (int x = 0; x < 32; x++) {
            const uint8_t *left = views + (y * 32 + x) * 3;
            const uint8_t *right = views + VIEW_BYTES + (y * 32 + 31 - x) * 3;
            CHECK_EQ(0, memcmp(left, right, 3));
        }
    }

    for (int view = 2; view < VIEWS; view += 2) {
        picotag_resize_plan plan;
        int mirrored = -1;
        CHECK_STATUS(PICOTAG_OK,
                     picotag_image_plan_view(90, 120, &preprocess, view, &plan, &mirrored, &error),
                     error.message);
        CHECK_EQ(0, mirrored);
        uint8_t expected[VIEW_BYTES];
        CHECK_STATUS(PICOTAG_OK,
                     picotag_image_resize_crop_rgb8(image.pixels, 90, 120, plan.resized_height,
                                                    plan.resized_width, plan.crop_top,
                                                    plan.crop_left, expected, 32, 32), "");
        CHECK_EQ(0, memcmp(expected, views + view * VIEW_BYTES, VIEW_BYTES));
    }
    free(views);
    free(image.pixels);
}

int main(void)
{
    RUN_TEST(resize_same_size_is_identity);
    RUN_TEST(resize_constant_image_stays_constant);
    RUN_TEST(resize_halving_uses_1_3_3_1_filter);
    RUN_TEST(resize_upscale_interpolates_linearly);
    RUN_TEST(resize_to_one_pixel_weights_whole_window);
    RUN_TEST(resize_one_pixel_source_fills_output);
    RUN_TEST(resize_extreme_aspect_ratios);
    RUN_TEST(resize_crop_matches_full_resize_then_crop);
    RUN_TEST(resize_rejects_invalid_arguments);
    RUN_TEST(plan_short_side_rounds_half_up_and_centres);
    RUN_TEST(plan_stretch_ignores_aspect);
    RUN_TEST(plan_rejects_invalid_records);
    RUN_TEST(preprocess_applies_plan);
    RUN_TEST(views_reject_invalid_fields);
    RUN_TEST(views_mirror_and_crop);
    return test_summary();
}
