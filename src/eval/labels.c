#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "eval/labels.h"
#include "eval/labels_internal.h"

/* The table grows by doubling; this many photos are allocated first. */
#define INITIAL_PHOTO_CAPACITY 64

/* At most this many missing class names are listed in an error message. */
#define MISSING_CLASSES_LISTED 5

void eval_labels_free(eval_labels *labels) {
    if (labels == NULL) {
        return;
    }
    for (size_t i = 0; i < labels->photo_count; i++) {
        free(labels->files[i]);
    }
    for (size_t i = 0; i < labels->ignored_name_count; i++) {
        free(labels->ignored_names[i]);
    }
    free(labels->files);
    free(labels->truth);
    free(labels->class_labelled);
    free(labels->ignored_names);
    memset(labels, 0, sizeof(*labels));
}

static char *copy_text(const char *text) {
    const size_t size = strlen(text) + 1;
    char *copy = malloc(size);
    if (copy != NULL) {
        memcpy(copy, text, size);
    }
    return copy;
}

int labels_find_class(const eval_label_options *options, const char *class_name) {
    for (size_t k = 0; k < options->class_count; k++) {
        if (strcmp(options->class_names[k], class_name) == 0) {
            return (int)k;
        }
    }
    return -1;
}

picotag_status labels_begin(eval_labels *labels, const eval_label_options *options, const char *name,
                            picotag_error *error) {
    memset(labels, 0, sizeof(*labels));
    if (options == NULL || options->class_names == NULL || options->class_count == 0 ||
        options->class_count > PICOTAG_MAX_CLASSES) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: the model's class names are required (1 to %d classes)", name,
                                 PICOTAG_MAX_CLASSES);
    }
    for (size_t k = 0; k < options->class_count; k++) {
        const int first = labels_find_class(options, options->class_names[k]);
        if (first != (int)k) {
            return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                     "%s: the model names classes %d and %zu both \"%s\", so labels "
                                     "cannot be matched to classes by name",
                                     name, first, k, options->class_names[k]);
        }
    }

    labels->class_count = options->class_count;
    labels->class_labelled = calloc(options->class_count, 1);
    if (labels->class_labelled == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY, "%s: out of memory", name);
    }
    return PICOTAG_OK;
}

picotag_status labels_add_photo(eval_labels *labels, const char *file, uint8_t **row,
                                picotag_error *error) {
    if (labels->photo_count == labels->photo_capacity) {
        const size_t capacity =
            labels->photo_capacity == 0 ? INITIAL_PHOTO_CAPACITY : 2 * labels->photo_capacity;
        if (capacity > SIZE_MAX / labels->class_count) {
            return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY, "too many photos");
        }
        char **files = realloc(labels->files, capacity * sizeof(*files));
        if (files == NULL) {
            return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                     "out of memory after %zu photos", labels->photo_count);
        }
        labels->files = files;
        uint8_t *truth = realloc(labels->truth, capacity * labels->class_count);
        if (truth == NULL) {
            return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                     "out of memory after %zu photos", labels->photo_count);
        }
        labels->truth = truth;
        labels->photo_capacity = capacity;
    }

    char *copy = copy_text(file);
    if (copy == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                 "out of memory after %zu photos", labels->photo_count);
    }
    labels->files[labels->photo_count] = copy;
    *row = labels->truth + labels->photo_count * labels->class_count;
    memset(*row, 0, labels->class_count);
    labels->photo_count++;
    return PICOTAG_OK;
}

picotag_status labels_add_ignored(eval_labels *labels, const char *ignored_name, picotag_error *error) {
    char **names = realloc(labels->ignored_names, (labels->ignored_name_count + 1) * sizeof(*names));
    if (names == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY, "out of memory");
    }
    labels->ignored_names = names;
    names[labels->ignored_name_count] = copy_text(ignored_name);
    if (names[labels->ignored_name_count] == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY, "out of memory");
    }
    labels->ignored_name_count++;
    return PICOTAG_OK;
}

/* Writes "a", "b", ... and "(N more)" into `text`. */
static void list_missing_classes(const eval_labels *labels, const eval_label_options *options,
                                 size_t missing, char *text, size_t size) {
    size_t used = 0;
    size_t listed = 0;
    text[0] = '\0';
    for (size_t k = 0; k < labels->class_count && listed < MISSING_CLASSES_LISTED; k++) {
        if (labels->class_labelled[k]) {
            continue;
        }
        const int written = snprintf(text + used, size - used, "%s\"%s\"", listed > 0 ? ", " : "",
                                     options->class_names[k]);
        if (written < 0 || (size_t)written >= size - used) {
            return;
        }
        used += (size_t)written;
        listed++;
    }
    if (missing > listed) {
        snprintf(text + used, size - used, " and %zu more", missing - listed);
    }
}

picotag_status labels_check_classes(eval_labels *labels, const eval_label_options *options,
                                    const char *name, const char *source, picotag_error *error) {
    size_t missing = 0;
    for (size_t k = 0; k < labels->class_count; k++) {
        missing += labels->class_labelled[k] == 0;
    }
    labels->labelled_class_count = labels->class_count - missing;

    if (labels->labelled_class_count == 0) {
        return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                 "%s: no %s matches a class of the model by English name (the "
                                 "model's first class is \"%s\")",
                                 name, source, options->class_names[0]);
    }
    if (missing > 0 && !options->allow_missing_classes) {
        char listed[256];
        list_missing_classes(labels, options, missing, listed, sizeof(listed));
        return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                 "%s: no %s for %zu of the model's classes: %s; "
                                 "--allow-missing-classes evaluates the others",
                                 name, source, missing, listed);
    }
    return PICOTAG_OK;
}

static int ends_with_json(const char *path) {
    const size_t length = strlen(path);
    static const char suffix[] = ".json";
    const size_t suffix_length = sizeof(suffix) - 1;
    if (length < suffix_length) {
        return 0;
    }
    for (size_t i = 0; i < suffix_length; i++) {
        if (tolower((unsigned char)path[length - suffix_length + i]) != suffix[i]) {
            return 0;
        }
    }
    return 1;
}

/* Reads a whole file into a new buffer. */
static picotag_status read_whole_file(const char *path, char **data, size_t *size,
                                      picotag_error *error) {
    *data = NULL;
    *size = 0;
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_IO, "%s: cannot open: %s", path, strerror(errno));
    }

    size_t capacity = 1 << 16;
    size_t used = 0;
    char *buffer = malloc(capacity);
    picotag_status status = PICOTAG_OK;
    while (buffer != NULL) {
        if (used == capacity) {
            char *grown = capacity <= SIZE_MAX / 2 ? realloc(buffer, capacity * 2) : NULL;
            if (grown == NULL) {
                break;
            }
            buffer = grown;
            capacity *= 2;
        }
        const size_t got = fread(buffer + used, 1, capacity - used, file);
        used += got;
        if (got == 0) {
            if (ferror(file)) {
                status = picotag_error_set(error, PICOTAG_ERROR_IO, "%s: read error after %zu bytes: %s",
                                           path, used, strerror(errno));
            }
            break;
        }
    }
    fclose(file);

    if (status == PICOTAG_OK && (buffer == NULL || used == capacity)) {
        status = picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                   "%s: out of memory reading %zu bytes", path, used);
    }
    if (status != PICOTAG_OK) {
        free(buffer);
        return status;
    }
    *data = buffer;
    *size = used;
    return PICOTAG_OK;
}

picotag_status eval_labels_read(const char *path, const eval_label_options *options,
                                eval_labels *labels, picotag_error *error) {
    memset(labels, 0, sizeof(*labels));
    char *data = NULL;
    size_t size = 0;
    picotag_status status = read_whole_file(path, &data, &size, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    if (ends_with_json(path)) {
        status = eval_labels_parse_coco(data, size, path, options, labels, error);
    } else {
        status = eval_labels_parse_csv(data, size, path, options, labels, error);
    }
    free(data);
    return status;
}
