/*
 * Writes the files the command tests use into DIRECTORY (created if
 * missing):
 *   photos/      eight small PNG and JPEG photos of different patterns
 *   manifest.tsv name, width and height of each photo
 *   corrupt.jpg  a JPEG cut off inside its header
 *   model.ptm    an 80-class COCO model (32 x 32 input, random weights)
 *   model_b.ptm  the same architecture with other weights
 * Each model's classifier bias is shifted so that every class's logit is 0
 * at its median over the eight photos. With thresholds of 0, every class
 * then tags about half of the photos. The logit_scale of each class spreads
 * the shown probabilities between about 0.1 and 0.9.
 */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image_test_support.h"
#include "picotag.h"
#include "picotag_image.h"
#include "test_model_writer.h"

#define PHOTO_COUNT 8

typedef struct photo_spec {
    const char *name;
    uint32_t width;
    uint32_t height;
    int pattern;
} photo_spec;

static const photo_spec photos[PHOTO_COUNT] = {
    {"beach.png", 64, 48, 0},  {"forest.jpg", 48, 64, 1}, {"night.png", 40, 40, 2},
    {"sunset.jpg", 96, 54, 3}, {"checker.png", 50, 50, 4}, {"snow.jpg", 72, 72, 5},
    {"rose.png", 30, 90, 6},   {"ocean.jpg", 80, 60, 7},
};

static uint8_t clamp_to_byte(int value) {
    if (value < 0) {
        return 0;
    }
    return value > 255 ? 255 : (uint8_t)value;
}

/* Fills packed RGB pixels with one of eight patterns: gradients, noise,
 * stripes and checks in different colours. */
static void paint(const photo_spec *spec, uint8_t *rgb) {
    uint32_t state = 2654435761u * (uint32_t)(spec->pattern + 1);
    for (uint32_t y = 0; y < spec->height; y++) {
        for (uint32_t x = 0; x < spec->width; x++) {
            state = state * 1664525u + 1013904223u;
            const int noise = (int)(state >> 27);
            uint8_t *pixel = rgb + 3 * ((size_t)y * spec->width + x);
            const int u = (int)(255 * x / spec->width);
            const int v = (int)(255 * y / spec->height);
            int r = 0, g = 0, b = 0;
            switch (spec->pattern) {
            case 0: r = 120 + v / 2; g = 170 + v / 4; b = 250 - v; break;
            case 1: r = 20 + noise * 2; g = 90 + noise * 4; b = 30 + noise; break;
            case 2: r = g = b = ((x * 7 + y * 13) % 17 == 0) ? 250 : 10 + noise; break;
            case 3: r = 250; g = 60 + v / 2; b = 20 + u / 8; break;
            case 4: r = g = b = ((x / 10 + y / 10) % 2) ? 240 : 15; break;
            case 5: r = g = b = 225 + noise; break;
            case 6: r = 200 + noise; g = (x / 5) % 2 ? 40 : 150; b = 90; break;
            default: r = 10; g = 60 + (int)((y + x / 3) % 20) * 5; b = 160 + noise * 2; break;
            }
            pixel[0] = clamp_to_byte(r);
            pixel[1] = clamp_to_byte(g);
            pixel[2] = clamp_to_byte(b);
        }
    }
}

static int write_file(const char *path, const void *bytes, size_t size) {
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        fprintf(stderr, "make_tools_fixture: cannot create %s: %s\n", path, strerror(errno));
        return 0;
    }
    const size_t written = fwrite(bytes, 1, size, file);
    return fclose(file) == 0 && written == size;
}

static int make_folder(const char *path) {
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "make_tools_fixture: cannot create %s: %s\n", path, strerror(errno));
        return 0;
    }
    return 1;
}

static int write_photos(const char *directory) {
    char path[1024];
    snprintf(path, sizeof(path), "%s/photos", directory);
    if (!make_folder(path)) {
        return 0;
    }
    snprintf(path, sizeof(path), "%s/manifest.tsv", directory);
    FILE *manifest = fopen(path, "w");
    if (manifest == NULL) {
        return 0;
    }

    int ok = 1;
    for (int i = 0; i < PHOTO_COUNT && ok; i++) {
        const photo_spec *spec = &photos[i];
        uint8_t *rgb = malloc((size_t)spec->width * spec->height * 3);
        size_t size = 0;
        uint8_t *encoded = NULL;
        if (rgb != NULL) {
            paint(spec, rgb);
            encoded = strstr(spec->name, ".png") != NULL
                          ? test_png_encode(spec->width, spec->height, PNG_COLOR_TYPE_RGB, 8, rgb,
                                            &size)
                          : test_jpeg_encode(spec->width, spec->height, 3, 90, rgb, &size);
        }
        snprintf(path, sizeof(path), "%s/photos/%s", directory, spec->name);
        ok = encoded != NULL && write_file(path, encoded, size);
        fprintf(manifest, "%s\t%u\t%u\n", spec->name, (unsigned)spec->width,
                (unsigned)spec->height);

        /* corrupt.jpg: the first 100 bytes of a JPEG, cut inside its tables. */
        if (ok && i == 1) {
            char corrupt[1024];
            snprintf(corrupt, sizeof(corrupt), "%s/corrupt.jpg", directory);
            ok = write_file(corrupt, encoded, size < 100 ? size / 2 : 100);
        }
        free(encoded);
        free(rgb);
    }
    return fclose(manifest) == 0 && ok;
}

static int compare_int32(const void *left, const void *right) {
    const int32_t a = *(const int32_t *)left;
    const int32_t b = *(const int32_t *)right;
    return (a > b) - (a < b);
}

/* Runs the serialized model on every photo: logits[photo][class]. */
static int run_on_photos(const test_model_file *file, const char *directory,
                         int32_t logits[PHOTO_COUNT][TM_COCO_CLASSES]) {
    picotag_model *model = NULL;
    picotag_runner *runner = NULL;
    picotag_error error;
    if (picotag_model_load_memory(file->bytes, file->size, "fixture.ptm", &model, &error) !=
            PICOTAG_OK ||
        picotag_runner_create(model, 32, 32, NULL, &runner, &error) != PICOTAG_OK) {
        fprintf(stderr, "make_tools_fixture: %s\n", error.message);
        picotag_model_free(model);
        return 0;
    }

    int ok = 1;
    uint8_t rgb[32 * 32 * 3];
    for (int i = 0; i < PHOTO_COUNT && ok; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/photos/%s", directory, photos[i].name);
        ok = picotag_image_load_preprocessed(path, picotag_model_preprocess(model), NULL, rgb,
                                             NULL, &error) == PICOTAG_OK &&
             picotag_runner_run(runner, rgb, logits[i], &error) == PICOTAG_OK;
        if (!ok) {
            fprintf(stderr, "make_tools_fixture: %s\n", error.message);
        }
    }
    picotag_runner_free(runner);
    picotag_model_free(model);
    return ok;
}

static int32_t read_i32(const uint8_t *bytes) {
    return (int32_t)((uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
                     (uint32_t)bytes[3] << 24);
}

static void write_i32(uint8_t *bytes, int32_t value) {
    for (int b = 0; b < 4; b++) {
        bytes[b] = (uint8_t)((uint32_t)value >> (8 * b));
    }
}

/* Centres every class's logits on their median over the photos and sets
 * the thresholds and logit scales described at the top. */
static void calibrate(test_model *description, int32_t logits[PHOTO_COUNT][TM_COCO_CLASSES]) {
    const uint32_t *classifier = description->ops[description->op_count - 1];
    tm_tensor *bias = &description->tensors[classifier[11]];
    for (int k = 0; k < TM_COCO_CLASSES; k++) {
        int32_t sorted[PHOTO_COUNT];
        for (int i = 0; i < PHOTO_COUNT; i++) {
            sorted[i] = logits[i][k];
        }
        qsort(sorted, PHOTO_COUNT, sizeof(sorted[0]), compare_int32);
        const int32_t median = sorted[PHOTO_COUNT / 2];
        const int32_t spread = sorted[PHOTO_COUNT - 1] - sorted[0];

        uint8_t *bias_bytes = bias->data + 4 * (size_t)k;
        write_i32(bias_bytes, read_i32(bias_bytes) - median);
        description->labels[k].threshold = 0;
        description->labels[k].logit_scale = spread > 0 ? 4.0f / (float)spread : 0.01f;
    }
}

static int write_model(const char *directory, const char *name, uint64_t seed) {
    test_model *description = tm_coco_model(seed);
    test_model_file file;
    int32_t logits[PHOTO_COUNT][TM_COCO_CLASSES];
    int ok = description != NULL && tm_serialize(description, &file) == 0;
    if (ok) {
        ok = run_on_photos(&file, directory, logits);
        tm_file_free(&file);
    }
    if (ok) {
        calibrate(description, logits);
        ok = tm_serialize(description, &file) == 0;
    }
    if (ok) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", directory, name);
        ok = tm_write_file(&file, path) == 0;
        tm_file_free(&file);
    }
    tm_destroy(description);
    return ok;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_tools_fixture DIRECTORY\n");
        return 2;
    }
    const char *directory = argv[1];
    if (!make_folder(directory) || !write_photos(directory) ||
        !write_model(directory, "model.ptm", 101) || !write_model(directory, "model_b.ptm", 202)) {
        return 1;
    }
    return 0;
}
