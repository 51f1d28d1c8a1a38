/*
 * Writes the files that the `picotag eval` command tests use into
 * DIRECTORY:
 *
 *   photos/             PNG and JPEG photos, one named with a comma, plus
 *                       broken.jpg (a truncated JPEG)
 *   model.ptm           a small random model with 4 classes whose
 *                       thresholds split these photos' logits
 *   labels.csv          every photo's truth is exactly (logit >= threshold),
 *                       so a correct evaluation finds mAP = CP = CR = OP =
 *                       OR = 1; columns in another order, with extra ones
 *   labels_with_broken.csv   the same plus photos/broken.jpg
 *   labels_missing.csv  without the "cell phone" column
 *   labels_bad.csv      with an invalid label on line 3
 *   coco/instances.json the same truth as COCO instances, file names
 *                       relative to photos/
 *   expected_logits.csv the logits computed here through the library, in
 *                       the format of --scores-out
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

enum { PHOTO_COUNT = 10, CLASS_COUNT = 4 };

static const char *const class_names[CLASS_COUNT] = {"person", "dog", "hot dog", "cell phone"};

/* The order of the class columns in labels.csv: not the model's. */
static const int csv_class_order[CLASS_COUNT] = {3, 2, 0, 1};

/* Photo paths relative to DIRECTORY, and to photos/ in the COCO file. */
static char photo_files[PHOTO_COUNT][64];

static int write_file(const char *directory, const char *name, const void *bytes, size_t size) {
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", directory, name);
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        fprintf(stderr, "make_eval_fixture: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    const size_t written = fwrite(bytes, 1, size, file);
    const int closed = fclose(file);
    if (written != size || closed != 0) {
        fprintf(stderr, "make_eval_fixture: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

static int write_text(const char *directory, const char *name, const char *text) {
    return write_file(directory, name, text, strlen(text));
}

static test_model *describe_model(void) {
    test_model *model = tm_create(77);
    const uint32_t stem = tm_add_value(model, TM_U8, 8);
    const uint32_t block = tm_add_value(model, TM_U8, 8);
    const uint32_t pooled = tm_add_value(model, TM_U8, 8);
    const uint32_t logits = tm_add_value(model, TM_I32, CLASS_COUNT);
    tm_add_conv(model, 0, stem, TM_NONE, 3, 2, 1);
    tm_add_conv(model, stem, block, TM_NONE, 3, 1, 1);
    tm_add_global_avgpool(model, block, pooled, 1717986918u, 31); /* M0 = 0.8 */
    tm_add_fully_connected(model, pooled, logits);
    tm_add_label(model, "person", "사람", "person", "사람", 0, 0.01f);
    tm_add_label(model, "dog", "개", "animal", "동물", 0, 0.01f);
    tm_add_label(model, "hot dog", "핫도그", "food", "음식", 0, 0.01f);
    tm_add_label(model, "cell phone", "휴대전화", "electronic", "전자기기", 0, 0.01f);
    tm_add_meta(model, "description", "picotag eval test model");
    return model;
}

/* A photo of two colour blocks with noise, different for every index, so
 * that the pooled features and the logits differ from photo to photo. */
static uint8_t *draw_photo(int index, uint32_t width, uint32_t height) {
    uint8_t *rgb = malloc((size_t)width * height * 3);
    if (rgb == NULL) {
        return NULL;
    }
    uint32_t state = 1234567u * (uint32_t)(index + 1);
    uint8_t colours[2][3];
    for (int c = 0; c < 6; c++) {
        state = state * 1664525u + 1013904223u;
        colours[c / 3][c % 3] = (uint8_t)(state >> 24);
    }
    const uint32_t split = width * (uint32_t)(2 + index % 5) / 8;
    for (uint32_t y = 0; y < height; y++) {
        for (uint32_t x = 0; x < width; x++) {
            for (int c = 0; c < 3; c++) {
                state = state * 1664525u + 1013904223u;
                const int noise = (int)(state >> 28) - 8;
                int value = colours[x < split][c] + noise;
                if (value < 0) {
                    value = 0;
                } else if (value > 255) {
                    value = 255;
                }
                rgb[((size_t)y * width + x) * 3 + (size_t)c] = (uint8_t)value;
            }
        }
    }
    return rgb;
}

static int write_photos(const char *directory) {
    for (int i = 0; i < PHOTO_COUNT; i++) {
        const uint32_t width = 40 + 6 * (uint32_t)i;
        const uint32_t height = 60 - 3 * (uint32_t)i;
        uint8_t *rgb = draw_photo(i, width, height);
        size_t size = 0;
        uint8_t *encoded = NULL;
        if (rgb != NULL && i % 2 == 0) {
            encoded = test_png_encode(width, height, PNG_COLOR_TYPE_RGB, 8, rgb, &size);
            snprintf(photo_files[i], sizeof(photo_files[i]), "photos/img_%02d.png", i);
        } else if (rgb != NULL) {
            encoded = test_jpeg_encode(width, height, 3, 92, rgb, &size);
            /* One name with a comma, which the CSV must quote. */
            snprintf(photo_files[i], sizeof(photo_files[i]), i == 3 ? "photos/img,%02d.jpg" : "photos/img_%02d.jpg", i);
        }
        const int status = encoded != NULL ? write_file(directory, photo_files[i], encoded, size) : -1;
        if (status == 0 && i == 1) {
            /* The first 60 bytes of a JPEG end inside its headers. */
            if (write_file(directory, "photos/broken.jpg", encoded, 60) != 0) {
                free(encoded);
                free(rgb);
                return -1;
            }
        }
        free(encoded);
        free(rgb);
        if (status != 0) {
            return -1;
        }
    }
    return 0;
}

/* Computes every photo's logits through the library, one at a time. */
static int compute_logits(const char *directory, const test_model_file *file,
                          int32_t logits[PHOTO_COUNT][CLASS_COUNT]) {
    picotag_model *model = NULL;
    picotag_runner *runner = NULL;
    picotag_error error;
    if (picotag_model_load_memory(file->bytes, file->size, "model.ptm", &model, &error) != PICOTAG_OK) {
        fprintf(stderr, "make_eval_fixture: %s\n", error.message);
        return -1;
    }
    const picotag_preprocess *preprocess = picotag_model_preprocess(model);
    int status = 0;
    if (picotag_runner_create(model, (int)preprocess->input_height, (int)preprocess->input_width, NULL,
                              &runner, &error) != PICOTAG_OK) {
        status = -1;
    }
    uint8_t *input = malloc((size_t)preprocess->input_height * preprocess->input_width * 3);
    for (int i = 0; i < PHOTO_COUNT && status == 0 && input != NULL; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", directory, photo_files[i]);
        if (picotag_image_load_preprocessed(path, preprocess, NULL, input, NULL, &error) != PICOTAG_OK ||
            picotag_runner_run(runner, input, logits[i], &error) != PICOTAG_OK) {
            status = -1;
        }
    }
    if (status != 0 || input == NULL) {
        fprintf(stderr, "make_eval_fixture: %s\n", error.message);
        status = -1;
    }
    free(input);
    picotag_runner_free(runner);
    picotag_model_free(model);
    return status;
}

static int compare_int32(const void *a, const void *b) {
    const int32_t left = *(const int32_t *)a;
    const int32_t right = *(const int32_t *)b;
    return (left > right) - (left < right);
}

/* The threshold of each class: its median logit over the photos, so that
 * about half are tagged. */
static void choose_thresholds(int32_t logits[PHOTO_COUNT][CLASS_COUNT], int32_t thresholds[CLASS_COUNT]) {
    for (int k = 0; k < CLASS_COUNT; k++) {
        int32_t column[PHOTO_COUNT];
        for (int i = 0; i < PHOTO_COUNT; i++) {
            column[i] = logits[i][k];
        }
        qsort(column, PHOTO_COUNT, sizeof(column[0]), compare_int32);
        thresholds[k] = column[PHOTO_COUNT / 2];
    }
}

/* Appends a CSV field, quoted when it contains a comma. */
static size_t append_csv_field(char *text, size_t size, size_t used, const char *field) {
    const char *format = strchr(field, ',') != NULL ? "\"%s\"" : "%s";
    return used + (size_t)snprintf(text + used, size - used, format, field);
}

/* Writes a label CSV with the columns file, coco_split, width and the
 * class columns in csv_class_order. The class `skipped_class` (or -1) is
 * left out, and row `bad_row` (or -1) gets an invalid value. */
static int write_labels_csv(const char *directory, const char *name, int truth[PHOTO_COUNT][CLASS_COUNT],
                            int include_broken, int skipped_class, int bad_row) {
    static char text[16384];
    size_t used = (size_t)snprintf(text, sizeof(text), "file,coco_split,width");
    for (int c = 0; c < CLASS_COUNT; c++) {
        if (csv_class_order[c] != skipped_class) {
            used += (size_t)snprintf(text + used, sizeof(text) - used, ",%s", class_names[csv_class_order[c]]);
        }
    }
    used += (size_t)snprintf(text + used, sizeof(text) - used, "\n");

    for (int i = 0; i < PHOTO_COUNT; i++) {
        /* The broken photo sits between good ones, so that leaving it out
         * must keep every later photo with its own labels. */
        if (include_broken && i == PHOTO_COUNT / 2) {
            used += (size_t)snprintf(text + used, sizeof(text) - used, "photos/broken.jpg,val2017,1");
            for (int c = 0; c < CLASS_COUNT - (skipped_class >= 0); c++) {
                used += (size_t)snprintf(text + used, sizeof(text) - used, ",1");
            }
            used += (size_t)snprintf(text + used, sizeof(text) - used, "\n");
        }
        used = append_csv_field(text, sizeof(text), used, photo_files[i]);
        used += (size_t)snprintf(text + used, sizeof(text) - used, ",val2017,%d", 40 + i);
        for (int c = 0; c < CLASS_COUNT; c++) {
            const int k = csv_class_order[c];
            if (k == skipped_class) {
                continue;
            }
            const char *value = truth[i][k] ? "1" : "0";
            if (i == bad_row && c == 1) {
                value = "maybe";
            }
            used += (size_t)snprintf(text + used, sizeof(text) - used, ",%s", value);
        }
        used += (size_t)snprintf(text + used, sizeof(text) - used, "\n");
    }
    return used < sizeof(text) ? write_text(directory, name, text) : -1;
}

/* COCO instances with category ids 1, 18, 58, 77, an extra category
 * "zebra" and one annotation per positive (two for the first photo's). */
static int write_instances_json(const char *directory, int truth[PHOTO_COUNT][CLASS_COUNT]) {
    static const int category_ids[CLASS_COUNT] = {1, 18, 58, 77};
    static char text[16384];
    size_t used = (size_t)snprintf(text, sizeof(text), "{\"images\": [");
    for (int i = 0; i < PHOTO_COUNT; i++) {
        used += (size_t)snprintf(text + used, sizeof(text) - used, "%s{\"id\": %d, \"file_name\": \"%s\"}",
                                 i > 0 ? ", " : "", 500 + i, photo_files[i] + strlen("photos/"));
    }
    used += (size_t)snprintf(text + used, sizeof(text) - used,
                             "],\n\"categories\": [{\"id\": 24, \"name\": \"zebra\"}");
    for (int k = CLASS_COUNT - 1; k >= 0; k--) {
        used += (size_t)snprintf(text + used, sizeof(text) - used, ", {\"id\": %d, \"name\": \"%s\"}",
                                 category_ids[k], class_names[k]);
    }
    used += (size_t)snprintf(text + used, sizeof(text) - used, "],\n\"annotations\": [");
    int annotation = 0;
    for (int i = 0; i < PHOTO_COUNT; i++) {
        for (int k = 0; k < CLASS_COUNT; k++) {
            int copies = 0;
            if (truth[i][k]) {
                copies = i == 0 ? 2 : 1;
            }
            for (int copy = 0; copy < copies; copy++) {
                used += (size_t)snprintf(text + used, sizeof(text) - used,
                                         "%s{\"id\": %d, \"image_id\": %d, \"category_id\": %d}",
                                         annotation > 0 ? ", " : "", annotation + 1, 500 + i,
                                         category_ids[k]);
                annotation++;
            }
        }
    }
    used += (size_t)snprintf(text + used, sizeof(text) - used, "]}\n");
    return used < sizeof(text) ? write_text(directory, "coco/instances.json", text) : -1;
}

static int write_expected_logits(const char *directory, int32_t logits[PHOTO_COUNT][CLASS_COUNT]) {
    static char text[16384];
    size_t used = (size_t)snprintf(text, sizeof(text), "file");
    for (int k = 0; k < CLASS_COUNT; k++) {
        used += (size_t)snprintf(text + used, sizeof(text) - used, ",%s", class_names[k]);
    }
    used += (size_t)snprintf(text + used, sizeof(text) - used, "\n");
    for (int i = 0; i < PHOTO_COUNT; i++) {
        used = append_csv_field(text, sizeof(text), used, photo_files[i]);
        for (int k = 0; k < CLASS_COUNT; k++) {
            used += (size_t)snprintf(text + used, sizeof(text) - used, ",%d", (int)logits[i][k]);
        }
        used += (size_t)snprintf(text + used, sizeof(text) - used, "\n");
    }
    return used < sizeof(text) ? write_text(directory, "expected_logits.csv", text) : -1;
}

static int make_folders(const char *directory) {
    static const char *const folders[] = {"photos", "coco"};
    for (size_t f = 0; f < sizeof(folders) / sizeof(folders[0]); f++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", directory, folders[f]);
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "make_eval_fixture: cannot create %s: %s\n", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_eval_fixture DIRECTORY\n");
        return 2;
    }
    const char *directory = argv[1];
    if (make_folders(directory) != 0 || write_photos(directory) != 0) {
        return 1;
    }

    test_model *description = describe_model();
    test_model_file file;
    int32_t logits[PHOTO_COUNT][CLASS_COUNT];
    if (tm_serialize(description, &file) != 0 || compute_logits(directory, &file, logits) != 0) {
        return 1;
    }
    tm_file_free(&file);

    int32_t thresholds[CLASS_COUNT];
    choose_thresholds(logits, thresholds);
    for (int k = 0; k < CLASS_COUNT; k++) {
        description->labels[k].threshold = thresholds[k];
    }
    int truth[PHOTO_COUNT][CLASS_COUNT];
    for (int k = 0; k < CLASS_COUNT; k++) {
        int positives = 0;
        for (int i = 0; i < PHOTO_COUNT; i++) {
            truth[i][k] = logits[i][k] >= thresholds[k];
            positives += truth[i][k];
        }
        /* A class without negatives would make a perfect ranking trivial. */
        if (positives == PHOTO_COUNT) {
            fprintf(stderr, "make_eval_fixture: class %d has the same logit on every photo\n", k);
            return 1;
        }
    }

    int status = tm_serialize(description, &file) == 0 ? 0 : -1;
    if (status == 0) {
        status = write_file(directory, "model.ptm", file.bytes, file.size);
        tm_file_free(&file);
    }
    if (status == 0) {
        status = write_labels_csv(directory, "labels.csv", truth, 0, -1, -1);
    }
    if (status == 0) {
        status = write_labels_csv(directory, "labels_with_broken.csv", truth, 1, -1, -1);
    }
    if (status == 0) {
        status = write_labels_csv(directory, "labels_missing.csv", truth, 0, 3, -1);
    }
    if (status == 0) {
        status = write_labels_csv(directory, "labels_bad.csv", truth, 0, -1, 1);
    }
    if (status == 0) {
        status = write_instances_json(directory, truth);
    }
    if (status == 0) {
        status = write_expected_logits(directory, logits);
    }
    tm_destroy(description);
    return status == 0 ? 0 : 1;
}
