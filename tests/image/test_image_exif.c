/*
 * EXIF capture time and the upright (displayed) size.
 *
 * The capture time: the EXIF date format and its validation, then the order
 * DateTimeOriginal, DateTimeDigitized, DateTime and the UTC offset that
 * belongs to each. Those are checked on JPEG and PNG files made here with
 * crafted EXIF blocks, then on real JPEG, WebP and HEIC photos. The upright
 * size: JPEG EXIF orientation with DCT scaling, and AVIF rotation boxes.
 *
 * The photo checks exit 77 (skipped) when the hard-inputs folder is absent;
 * the checks on made-up files always run.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "test_check.h"

#include "image/image_internal.h"
#include "image_test_support.h"
#include "picotag_image.h"

#define CHECK_TEXT(expected, actual) check_text((expected), (actual), __FILE__, __LINE__)

static int check_text(const char *expected, const char *actual, const char *file, int line)
{
    int ok = strcmp(expected, actual) == 0;
    test_record(ok);
    if (!ok)
        printf("FAIL %s (%s:%d)\n  expected: \"%s\"\n  actual:   \"%s\"\n", test_current_name, file,
               line, expected, actual);
    return ok;
}

/* ---- Crafted EXIF blocks ------------------------------------------------- */

/* The tags of a made-up EXIF block; NULL and 0 leave a tag out. */
typedef struct exif_spec {
    int orientation;                   /* 0x0112, IFD0 */
    const char *date_time;             /* 0x0132, IFD0 */
    const char *date_time_original;    /* 0x9003, EXIF sub-IFD */
    const char *date_time_digitized;   /* 0x9004 */
    const char *offset_time;           /* 0x9010 */
    const char *offset_time_original;  /* 0x9011 */
    const char *offset_time_digitized; /* 0x9012 */
} exif_spec;

typedef struct tiff_entry {
    uint16_t tag;
    uint16_t type;   /* 2 ASCII, 3 SHORT, 4 LONG */
    uint32_t value;  /* SHORT and LONG */
    const char *text;
} tiff_entry;

typedef struct tiff_writer {
    uint8_t bytes[1024];
    size_t data_end;   /* where the next value that does not fit an entry goes */
} tiff_writer;

static void put16(uint8_t *at, uint32_t value)
{
    at[0] = (uint8_t)value;
    at[1] = (uint8_t)(value >> 8);
}

static void put32(uint8_t *at, uint32_t value)
{
    put16(at, value & 0xFFFF);
    put16(at + 2, value >> 16);
}

/* Writes a little-endian IFD at `offset`, values over 4 bytes in the data
 * area; returns the offset just past the IFD. */
static size_t write_ifd(tiff_writer *writer, size_t offset, const tiff_entry *entries, int count)
{
    uint8_t *ifd = writer->bytes + offset;
    put16(ifd, (uint32_t)count);
    for (int i = 0; i < count; i++) {
        uint8_t *entry = ifd + 2 + 12 * i;
        put16(entry, entries[i].tag);
        put16(entry + 2, entries[i].type);
        if (entries[i].type == 2) {
            size_t length = strlen(entries[i].text) + 1;
            put32(entry + 4, (uint32_t)length);
            uint8_t *target = entry + 8;
            if (length > 4) {
                put32(entry + 8, (uint32_t)writer->data_end);
                target = writer->bytes + writer->data_end;
                writer->data_end += length;
            }
            memcpy(target, entries[i].text, length);
        } else {
            put32(entry + 4, 1);
            if (entries[i].type == 3)
                put16(entry + 8, entries[i].value);
            else
                put32(entry + 8, entries[i].value);
        }
    }
    put32(ifd + 2 + 12 * count, 0);
    return offset + 2 + 12 * (size_t)count + 4;
}

static void add_text(tiff_entry *entries, int *count, uint16_t tag, const char *text)
{
    if (text)
        entries[(*count)++] = (tiff_entry){tag, 2, 0, text};
}

/* Builds a TIFF-structured EXIF block (no "Exif\0\0" header) into `out`,
 * which holds 1024 bytes; returns its size. */
static size_t build_exif(const exif_spec *spec, uint8_t *out)
{
    tiff_entry exif_entries[5];
    int exif_count = 0;
    add_text(exif_entries, &exif_count, 0x9003, spec->date_time_original);
    add_text(exif_entries, &exif_count, 0x9004, spec->date_time_digitized);
    add_text(exif_entries, &exif_count, 0x9010, spec->offset_time);
    add_text(exif_entries, &exif_count, 0x9011, spec->offset_time_original);
    add_text(exif_entries, &exif_count, 0x9012, spec->offset_time_digitized);

    const size_t ifd0_offset = 8;
    tiff_entry ifd0_entries[3];
    int ifd0_count = 0;
    if (spec->orientation)
        ifd0_entries[ifd0_count++] = (tiff_entry){0x0112, 3, (uint32_t)spec->orientation, NULL};
    add_text(ifd0_entries, &ifd0_count, 0x0132, spec->date_time);
    int exif_pointer = ifd0_count;
    if (exif_count > 0)
        ifd0_entries[ifd0_count++] = (tiff_entry){0x8769, 4, 0, NULL};

    size_t exif_offset = ifd0_offset + 2 + 12 * (size_t)ifd0_count + 4;
    size_t data_offset = exif_offset + (exif_count > 0 ? 2 + 12 * (size_t)exif_count + 4 : 0);
    if (exif_count > 0)
        ifd0_entries[exif_pointer].value = (uint32_t)exif_offset;

    tiff_writer writer;
    memset(&writer, 0, sizeof writer);
    writer.data_end = data_offset;
    memcpy(writer.bytes, "II*\0", 4);
    put32(writer.bytes + 4, (uint32_t)ifd0_offset);
    write_ifd(&writer, ifd0_offset, ifd0_entries, ifd0_count);
    if (exif_count > 0)
        write_ifd(&writer, exif_offset, exif_entries, exif_count);
    memcpy(out, writer.bytes, writer.data_end);
    return writer.data_end;
}

/* A width x height JPEG of a grey gradient with an APP1 EXIF segment made
 * from `spec` right after SOI (spec NULL: no EXIF). Free with free(). */
static uint8_t *make_jpeg(uint32_t width, uint32_t height, const exif_spec *spec, size_t *size)
{
    uint8_t *samples = malloc((size_t)width * height * 3);
    for (size_t i = 0; i < (size_t)width * height * 3; i++)
        samples[i] = (uint8_t)(i * 7 / 3);
    size_t jpeg_size = 0;
    uint8_t *jpeg = test_jpeg_encode(width, height, 3, 90, samples, &jpeg_size);
    free(samples);
    if (!jpeg || !spec) {
        *size = jpeg_size;
        return jpeg;
    }

    uint8_t tiff[1024];
    size_t tiff_size = build_exif(spec, tiff);
    size_t segment_length = 2 + 6 + tiff_size;   /* the length field counts itself */
    uint8_t *out = malloc(jpeg_size + 2 + segment_length);
    memcpy(out, jpeg, 2);                        /* SOI */
    out[2] = 0xFF;
    out[3] = 0xE1;
    out[4] = (uint8_t)(segment_length >> 8);
    out[5] = (uint8_t)segment_length;
    memcpy(out + 6, "Exif\0\0", 6);
    memcpy(out + 12, tiff, tiff_size);
    memcpy(out + 12 + tiff_size, jpeg + 2, jpeg_size - 2);
    *size = jpeg_size + 2 + segment_length;
    free(jpeg);
    return out;
}

/* A small RGB PNG with an eXIf chunk made from `spec` after IHDR. */
static uint8_t *make_png(const exif_spec *spec, size_t *size)
{
    uint8_t rows[4 * 3 * 3];
    for (size_t i = 0; i < sizeof rows; i++)
        rows[i] = (uint8_t)(i * 20);
    size_t png_size = 0;
    uint8_t *png = test_png_encode(4, 3, 2 /* PNG_COLOR_TYPE_RGB */, 8, rows, &png_size);
    if (!png)
        return NULL;

    uint8_t chunk[1024 + 12];
    size_t tiff_size = build_exif(spec, chunk + 8);
    chunk[0] = (uint8_t)(tiff_size >> 24);
    chunk[1] = (uint8_t)(tiff_size >> 16);
    chunk[2] = (uint8_t)(tiff_size >> 8);
    chunk[3] = (uint8_t)tiff_size;
    memcpy(chunk + 4, "eXIf", 4);
    uint32_t crc = (uint32_t)crc32(0, chunk + 4, (uInt)(4 + tiff_size));
    chunk[8 + tiff_size] = (uint8_t)(crc >> 24);
    chunk[9 + tiff_size] = (uint8_t)(crc >> 16);
    chunk[10 + tiff_size] = (uint8_t)(crc >> 8);
    chunk[11 + tiff_size] = (uint8_t)crc;
    size_t chunk_size = tiff_size + 12;

    /* The signature (8 bytes) and IHDR (25 bytes) come first. */
    const size_t after_ihdr = 8 + 25;
    uint8_t *out = malloc(png_size + chunk_size);
    memcpy(out, png, after_ihdr);
    memcpy(out + after_ihdr, chunk, chunk_size);
    memcpy(out + after_ihdr + chunk_size, png + after_ihdr, png_size - after_ihdr);
    *size = png_size + chunk_size;
    free(png);
    return out;
}

/* Decodes a JPEG made from `spec` and returns its capture time. */
static const char *jpeg_capture_time(const exif_spec *spec)
{
    static char capture_time[PICOTAG_IMAGE_CAPTURE_TIME_BYTES];
    size_t size = 0;
    uint8_t *jpeg = make_jpeg(16, 8, spec, &size);
    picotag_image image;
    picotag_error error;
    strcpy(capture_time, "(decoding failed)");
    if (CHECK_STATUS(PICOTAG_OK, picotag_image_load_memory(jpeg, size, "crafted.jpg", NULL, &image, &error),
                     error.message)) {
        snprintf(capture_time, sizeof capture_time, "%s", image.info.capture_time);
        picotag_image_free(&image);
    }
    free(jpeg);
    return capture_time;
}

/* ---- Capture time -------------------------------------------------------- */

static void exif_date_converts_to_iso_8601(void)
{
    static const struct {
        const char *date_time;
        const char *offset;
        const char *expected;
    } cases[] = {
        {"2021:07:04 15:30:12", NULL, "2021-07-04T15:30:12"},
        {"2021:07:04 15:30:12", "+09:00", "2021-07-04T15:30:12+09:00"},
        {"2021:07:04 15:30:12", "-03:30", "2021-07-04T15:30:12-03:30"},
        {"2021:07:04 15:30:12", "+14:00", "2021-07-04T15:30:12+14:00"},
        {"2020:02:29 00:00:00", NULL, "2020-02-29T00:00:00"},
        {"2000:02:29 23:59:59", NULL, "2000-02-29T23:59:59"},
        {"2021:07:04 15:30:12   ", NULL, "2021-07-04T15:30:12"},   /* space padding */
        /* A malformed offset is dropped, the date kept. */
        {"2021:07:04 15:30:12", "+15:00", "2021-07-04T15:30:12"},
        {"2021:07:04 15:30:12", "+09:60", "2021-07-04T15:30:12"},
        {"2021:07:04 15:30:12", "09:00", "2021-07-04T15:30:12"},
        {"2021:07:04 15:30:12", "   :  ", "2021-07-04T15:30:12"},
        {"2021:07:04 15:30:12", "+09:00Z", "2021-07-04T15:30:12"},
        /* Rejected dates. */
        {"0000:00:00 00:00:00", NULL, ""},
        {"    :  :     :  :  ", NULL, ""},
        {"2021:13:04 15:30:12", NULL, ""},
        {"2021:00:04 15:30:12", NULL, ""},
        {"2021:02:29 15:30:12", NULL, ""},
        {"1900:02:29 15:30:12", NULL, ""},
        {"2021:04:31 15:30:12", NULL, ""},
        {"2021:07:04 24:00:00", NULL, ""},
        {"2021:07:04 15:60:12", NULL, ""},
        {"2021:07:04 15:30:60", NULL, ""},
        {"2021-07-04 15:30:12", NULL, ""},
        {"2021:07:04T15:30:12", NULL, ""},
        {"2021:07:04 15:30", NULL, ""},
        {"2021:07:04 15:30:12.5", NULL, ""},
        {"2021:7:4 15:30:12", NULL, ""},
        {"", NULL, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[PICOTAG_IMAGE_CAPTURE_TIME_BYTES];
        const char *offset = cases[i].offset;
        int valid = image_exif_capture_time(cases[i].date_time, strlen(cases[i].date_time) + 1,
                                            offset, offset ? strlen(offset) + 1 : 0, out);
        if (!CHECK_TEXT(cases[i].expected, out))
            printf("  date \"%s\", offset \"%s\"\n", cases[i].date_time, offset ? offset : "(none)");
        CHECK_EQ(cases[i].expected[0] != '\0', valid);
    }

    /* The value need not end in NUL within its size. */
    char out[PICOTAG_IMAGE_CAPTURE_TIME_BYTES];
    CHECK_EQ(1, image_exif_capture_time("2021:07:04 15:30:12", 19, "+09:00", 6, out));
    CHECK_TEXT("2021-07-04T15:30:12+09:00", out);
    CHECK_EQ(0, image_exif_capture_time("2021:07:04 15:30:12", 18, NULL, 0, out));
}

static void jpeg_prefers_date_time_original(void)
{
    exif_spec spec = {.date_time = "2021:07:06 10:00:00",
                      .date_time_original = "2021:07:04 15:30:12",
                      .date_time_digitized = "2021:07:05 09:00:00",
                      .offset_time = "+01:00",
                      .offset_time_original = "+09:00",
                      .offset_time_digitized = "+02:00"};
    CHECK_TEXT("2021-07-04T15:30:12+09:00", jpeg_capture_time(&spec));
}

static void jpeg_falls_back_in_order(void)
{
    exif_spec digitized = {.date_time = "2021:07:06 10:00:00",
                           .date_time_digitized = "2021:07:05 09:00:00",
                           .offset_time_original = "+09:00",
                           .offset_time_digitized = "+02:00"};
    CHECK_TEXT("2021-07-05T09:00:00+02:00", jpeg_capture_time(&digitized));

    exif_spec modified = {.date_time = "2021:07:06 10:00:00", .offset_time_original = "+09:00"};
    CHECK_TEXT("2021-07-06T10:00:00", jpeg_capture_time(&modified));

    /* An invalid DateTimeOriginal gives way to the next valid date. */
    exif_spec invalid_original = {.date_time = "2021:07:06 10:00:00",
                                  .date_time_original = "2021:13:04 15:30:12",
                                  .offset_time_original = "+09:00"};
    CHECK_TEXT("2021-07-06T10:00:00", jpeg_capture_time(&invalid_original));
}

static void jpeg_malformed_date_gives_empty(void)
{
    exif_spec month_13 = {.date_time_original = "2021:13:04 15:30:12", .offset_time_original = "+09:00"};
    CHECK_TEXT("", jpeg_capture_time(&month_13));

    exif_spec blank = {.date_time = "    :  :     :  :  ", .date_time_original = "0000:00:00 00:00:00"};
    CHECK_TEXT("", jpeg_capture_time(&blank));

    exif_spec dashes = {.date_time_original = "2021-07-04 15:30:12"};
    CHECK_TEXT("", jpeg_capture_time(&dashes));
}

static void jpeg_without_exif_gives_empty(void)
{
    CHECK_TEXT("", jpeg_capture_time(NULL));

    exif_spec orientation_only = {.orientation = 3};
    CHECK_TEXT("", jpeg_capture_time(&orientation_only));
}

static void png_exif_chunk_gives_capture_time(void)
{
    exif_spec spec = {.orientation = 6,
                      .date_time_original = "2019:12:31 23:59:59",
                      .offset_time_original = "-05:00"};
    size_t size = 0;
    uint8_t *png = make_png(&spec, &size);
    if (!CHECK(png != NULL))
        return;
    picotag_image image;
    picotag_error error;
    if (CHECK_STATUS(PICOTAG_OK, picotag_image_load_memory(png, size, "crafted.png", NULL, &image, &error),
                     error.message)) {
        CHECK_EQ(PICOTAG_IMAGE_FORMAT_PNG, image.info.format);
        CHECK_EQ(6, image.info.orientation);
        CHECK_TEXT("2019-12-31T23:59:59-05:00", image.info.capture_time);
        picotag_image_free(&image);
    }
    free(png);
}

static void sample_photos_give_exiftool_capture_time(void)
{
    /* The values exiftool 12.57 prints for EXIF:DateTimeOriginal (else
     * CreateDate, else ModifyDate) with the matching offset. */
    static const struct {
        const char *path;
        const char *expected;
    } cases[] = {
        {"debian_darknet/dog.jpg", "2014-09-19T16:08:30"},
        {"debian_darknet/kite.jpg", "2010-06-06T12:27:25"},
        {"pillow_Tests_images/flower.jpg", "2003-12-14T12:01:44"},
        {"pillow_Tests_images/flower.webp", "2003-12-14T12:01:44"},
        {"pillow_Tests_images/flower2.webp", "2013-07-04T17:24:41"},   /* DateTime only */
        {"pillow_Tests_images/pil_sample_rgb.jpg", "2009-03-06T22:15:29"},
        {"exif-samples/heic/IMG_5195.HEIC", "2021-04-11T15:47:53-05:00"},
        {"pillow_Tests_images/hopper.jpg", ""},
        {"pillow_Tests_images/hopper_orientation_6.webp", ""},
        {"pillow_Tests_images/invalid-exif.jpg", ""},
        {"pillow_Tests_images/avif/exif.avif", ""},   /* EXIF with an orientation only */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        picotag_image image;
        picotag_error error;
        if (!CHECK_STATUS(PICOTAG_OK, picotag_image_load(test_input_path(cases[i].path), NULL, &image, &error),
                          error.message))
            continue;
        if (!CHECK_TEXT(cases[i].expected, image.info.capture_time))
            printf("  %s\n", cases[i].path);
        picotag_image_free(&image);
    }
}

/* ---- Upright size -------------------------------------------------------- */

static void jpeg_upright_size_ignores_dct_scaling(void)
{
    /* Stored 64 x 32 with orientation 6: displayed 32 x 64. Preprocessed
     * for an 8 x 8 input, the JPEG is decoded at 1/4 scale. */
    exif_spec spec = {.orientation = 6};
    size_t size = 0;
    uint8_t *jpeg = make_jpeg(64, 32, &spec, &size);
    const char *path = test_write_temp_file("rotated.jpg", jpeg, size);
    free(jpeg);
    if (!CHECK(path != NULL))
        return;

    picotag_preprocess preprocess;
    memset(&preprocess, 0, sizeof preprocess);
    preprocess.input_height = 8;
    preprocess.input_width = 8;
    preprocess.resize_mode = PICOTAG_RESIZE_SHORT_SIDE_CENTER_CROP;
    preprocess.resize_short = 8;
    preprocess.interpolation = 1;
    preprocess.channel_order = 1;
    uint8_t out[8 * 8 * 3];
    picotag_image_info info;
    picotag_error error;
    if (!CHECK_STATUS(PICOTAG_OK, picotag_image_load_preprocessed(path, &preprocess, NULL, out, &info, &error),
                      error.message))
        return;
    CHECK_EQ(6, info.orientation);
    CHECK(info.scale_numerator < 8);
    CHECK_EQ(64, info.stored_width);
    CHECK_EQ(32, info.stored_height);
    CHECK_EQ(32, info.upright_width);
    CHECK_EQ(64, info.upright_height);
}

static void avif_rotation_gives_displayed_size(void)
{
    /* rotRmirM.avif: one 640 x 427 photo stored turned by R quarter turns,
     * with an irot box that turns it back. */
    picotag_preprocess preprocess;
    memset(&preprocess, 0, sizeof preprocess);
    preprocess.input_height = 32;
    preprocess.input_width = 32;
    preprocess.resize_mode = PICOTAG_RESIZE_STRETCH;
    preprocess.interpolation = 1;
    preprocess.channel_order = 1;
    uint8_t out[32 * 32 * 3];

    for (int rotation = 0; rotation < 4; rotation++) {
        for (int mirror = 0; mirror < 2; mirror++) {
            char relative[64];
            snprintf(relative, sizeof relative, "pillow_Tests_images/avif/rot%dmir%d.avif", rotation,
                     mirror);
            picotag_image_info info;
            picotag_error error;
            if (!CHECK_STATUS(PICOTAG_OK,
                              picotag_image_load_preprocessed(test_input_path(relative), &preprocess,
                                                              NULL, out, &info, &error),
                              error.message))
                continue;
            int quarter_turn = rotation % 2 == 1;
            CHECK_EQ(quarter_turn ? 427 : 640, info.stored_width);
            CHECK_EQ(quarter_turn ? 640 : 427, info.stored_height);
            if (!CHECK_EQ(640, info.upright_width) || !CHECK_EQ(427, info.upright_height))
                printf("  %s\n", relative);
        }
    }
}

int main(void)
{
    RUN_TEST(exif_date_converts_to_iso_8601);
    RUN_TEST(jpeg_prefers_date_time_original);
    RUN_TEST(jpeg_falls_back_in_order);
    RUN_TEST(jpeg_malformed_date_gives_empty);
    RUN_TEST(jpeg_without_exif_gives_empty);
    RUN_TEST(png_exif_chunk_gives_capture_time);
    RUN_TEST(jpeg_upright_size_ignores_dct_scaling);
    if (!test_hard_inputs_dir()) {
        printf("SKIP: hard-inputs folder not found at %s (set PICOTAG_HARD_INPUTS); "
               "only the checks on made-up files ran\n", test_hard_inputs_expected_dir());
        int synthetic_result = test_summary();
        return synthetic_result != 0 ? synthetic_result : TEST_SKIP_EXIT_CODE;
    }
    RUN_TEST(sample_photos_give_exiftool_capture_time);
    RUN_TEST(avif_rotation_gives_displayed_size);
    return test_summary();
}
