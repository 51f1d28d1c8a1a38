/* COCO instances JSON reduced to image-level labels. */
#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "eval/labels.h"
#include "eval/labels_internal.h"

/* Integers above 2^53 do not survive cJSON's conversion to double. */
#define MAX_EXACT_INTEGER 9007199254740992.0

/* An images[] entry: its id and its row in the table. */
typedef struct image_entry {
    int64_t id;
    size_t row;
} image_entry;

/* A categories[] entry: its id and the class it maps to, or -1. */
typedef struct category_entry {
    int64_t id;
    int class_index;
} category_entry;

static int compare_image_entries(const void *a, const void *b) {
    const image_entry *left = a;
    const image_entry *right = b;
    return (left->id > right->id) - (left->id < right->id);
}

static int compare_category_entries(const void *a, const void *b) {
    const category_entry *left = a;
    const category_entry *right = b;
    return (left->id > right->id) - (left->id < right->id);
}

static size_t line_of(const char *text, const char *position) {
    size_t line = 1;
    for (const char *p = text; p < position; p++) {
        line += *p == '\n';
    }
    return line;
}

static const cJSON *find_array(const cJSON *root, const char *key, const char *name,
                               picotag_status *status, picotag_error *error) {
    const cJSON *array = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!cJSON_IsArray(array)) {
        *status = picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                    "%s: no \"%s\" array; expected a COCO instances file with "
                                    "\"images\", \"annotations\" and \"categories\"",
                                    name, key);
        return NULL;
    }
    return array;
}

/* Reads member `key` of `item` (element `index` of array `array_name`) as
 * an integer. */
static picotag_status get_integer(const cJSON *item, const char *key, const char *name,
                                  const char *array_name, int index, int64_t *value,
                                  picotag_error *error) {
    const cJSON *member = cJSON_GetObjectItemCaseSensitive(item, key);
    if (!cJSON_IsNumber(member) || member->valuedouble != floor(member->valuedouble) ||
        fabs(member->valuedouble) > MAX_EXACT_INTEGER) {
        return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                 "%s: %s[%d]: \"%s\" is missing or not an integer", name, array_name,
                                 index, key);
    }
    *value = (int64_t)member->valuedouble;
    return PICOTAG_OK;
}

static picotag_status get_string(const cJSON *item, const char *key, const char *name,
                                 const char *array_name, int index, const char **value,
                                 picotag_error *error) {
    const cJSON *member = cJSON_GetObjectItemCaseSensitive(item, key);
    if (!cJSON_IsString(member) || member->valuestring == NULL || member->valuestring[0] == '\0') {
        return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                 "%s: %s[%d]: \"%s\" is missing or not a non-empty string", name,
                                 array_name, index, key);
    }
    *value = member->valuestring;
    return PICOTAG_OK;
}

/* Reads categories[] into `entries` (sorted by id) and marks the classes
 * they name. */
static picotag_status read_categories(const cJSON *array, const char *name,
                                      const eval_label_options *options, eval_labels *labels,
                                      category_entry *entries, picotag_error *error) {
    const int count = cJSON_GetArraySize(array);
    int index = 0;
    const cJSON *item = NULL;
    cJSON_ArrayForEach(item, array) {
        const char *category_name = NULL;
        picotag_status status = get_integer(item, "id", name, "categories", index, &entries[index].id, error);
        if (status == PICOTAG_OK) {
            status = get_string(item, "name", name, "categories", index, &category_name, error);
        }
        if (status != PICOTAG_OK) {
            return status;
        }

        const int class_index = labels_find_class(options, category_name);
        entries[index].class_index = class_index;
        if (class_index < 0) {
            status = labels_add_ignored(labels, category_name, error);
            if (status != PICOTAG_OK) {
                return status;
            }
        } else if (labels->class_labelled[class_index]) {
            return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                     "%s: categories[%d]: a second category is named \"%s\"", name,
                                     index, category_name);
        } else {
            labels->class_labelled[class_index] = 1;
        }
        index++;
    }

    qsort(entries, (size_t)count, sizeof(*entries), compare_category_entries);
    for (int i = 1; i < count; i++) {
        if (entries[i].id == entries[i - 1].id) {
            return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                     "%s: two categories have the id %lld", name,
                                     (long long)entries[i].id);
        }
    }
    return PICOTAG_OK;
}

/* Adds one photo per images[] entry, in file order, and fills `entries`
 * sorted by id. */
static picotag_status read_images(const cJSON *array, const char *name, eval_labels *labels,
                                  image_entry *entries, picotag_error *error) {
    const int count = cJSON_GetArraySize(array);
    int index = 0;
    const cJSON *item = NULL;
    cJSON_ArrayForEach(item, array) {
        const char *file_name = NULL;
        picotag_status status = get_integer(item, "id", name, "images", index, &entries[index].id, error);
        if (status == PICOTAG_OK) {
            status = get_string(item, "file_name", name, "images", index, &file_name, error);
        }
        uint8_t *row = NULL;
        if (status == PICOTAG_OK) {
            status = labels_add_photo(labels, file_name, &row, error);
        }
        if (status != PICOTAG_OK) {
            return status;
        }
        entries[index].row = (size_t)index;
        index++;
    }

    qsort(entries, (size_t)count, sizeof(*entries), compare_image_entries);
    for (int i = 1; i < count; i++) {
        if (entries[i].id == entries[i - 1].id) {
            return picotag_error_set(error, PICOTAG_ERROR_FORMAT, "%s: two images have the id %lld",
                                     name, (long long)entries[i].id);
        }
    }
    return PICOTAG_OK;
}

static picotag_status read_annotations(const cJSON *array, const char *name, eval_labels *labels,
                                       const image_entry *images, size_t image_count,
                                       const category_entry *categories, size_t category_count,
                                       picotag_error *error) {
    int index = 0;
    const cJSON *item = NULL;
    cJSON_ArrayForEach(item, array) {
        image_entry image_key = {0};
        category_entry category_key = {0};
        picotag_status status = get_integer(item, "image_id", name, "annotations", index, &image_key.id, error);
        if (status == PICOTAG_OK) {
            status = get_integer(item, "category_id", name, "annotations", index, &category_key.id, error);
        }
        if (status != PICOTAG_OK) {
            return status;
        }

        const image_entry *image = bsearch(&image_key, images, image_count, sizeof(*images),
                                           compare_image_entries);
        if (image == NULL) {
            return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                     "%s: annotations[%d]: image_id %lld is not in \"images\"", name,
                                     index, (long long)image_key.id);
        }
        const category_entry *category = bsearch(&category_key, categories, category_count,
                                                 sizeof(*categories), compare_category_entries);
        if (category == NULL) {
            return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                     "%s: annotations[%d]: category_id %lld is not in \"categories\"",
                                     name, index, (long long)category_key.id);
        }
        if (category->class_index >= 0) {
            labels->truth[image->row * labels->class_count + (size_t)category->class_index] = 1;
        }
        index++;
    }
    return PICOTAG_OK;
}

/* Checks that the document parsed and that only white space follows it. */
static picotag_status check_parse(const cJSON *root, const char *text, size_t size, const char *end,
                                  const char *name, picotag_error *error) {
    if (root == NULL) {
        const char *at = end != NULL && end >= text && end <= text + size ? end : text;
        return picotag_error_set(error, PICOTAG_ERROR_FORMAT, "%s:%zu: invalid JSON at byte %zu", name,
                                 line_of(text, at), (size_t)(at - text));
    }
    for (const char *p = end; p != NULL && p < text + size; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                     "%s:%zu: unexpected text after the JSON document", name,
                                     line_of(text, p));
        }
    }
    if (!cJSON_IsObject(root)) {
        return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                 "%s: the document is not a JSON object; expected a COCO instances file",
                                 name);
    }
    return PICOTAG_OK;
}

picotag_status eval_labels_parse_coco(const char *text, size_t size, const char *name,
                                      const eval_label_options *options, eval_labels *labels,
                                      picotag_error *error) {
    picotag_status status = labels_begin(labels, options, name, error);
    if (status != PICOTAG_OK) {
        eval_labels_free(labels);
        return status;
    }

    labels->format = EVAL_LABELS_COCO;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, size, &end, 0);
    status = check_parse(root, text, size, end, name, error);

    const cJSON *images = NULL;
    const cJSON *annotations = NULL;
    const cJSON *categories = NULL;
    if (status == PICOTAG_OK) {
        images = find_array(root, "images", name, &status, error);
    }
    if (status == PICOTAG_OK) {
        annotations = find_array(root, "annotations", name, &status, error);
    }
    if (status == PICOTAG_OK) {
        categories = find_array(root, "categories", name, &status, error);
    }

    image_entry *image_entries = NULL;
    category_entry *category_entries = NULL;
    size_t image_count = 0;
    size_t category_count = 0;
    if (status == PICOTAG_OK) {
        image_count = (size_t)cJSON_GetArraySize(images);
        category_count = (size_t)cJSON_GetArraySize(categories);
        image_entries = malloc((image_count > 0 ? image_count : 1) * sizeof(*image_entries));
        category_entries = malloc((category_count > 0 ? category_count : 1) * sizeof(*category_entries));
        if (image_entries == NULL || category_entries == NULL) {
            status = picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY, "%s: out of memory", name);
        }
    }

    if (status == PICOTAG_OK) {
        status = read_categories(categories, name, options, labels, category_entries, error);
    }
    if (status == PICOTAG_OK) {
        status = labels_check_classes(labels, options, name, "category", error);
    }
    if (status == PICOTAG_OK) {
        status = read_images(images, name, labels, image_entries, error);
    }
    if (status == PICOTAG_OK && image_count == 0) {
        status = picotag_error_set(error, PICOTAG_ERROR_FORMAT, "%s: the \"images\" array is empty", name);
    }
    if (status == PICOTAG_OK) {
        status = read_annotations(annotations, name, labels, image_entries, image_count,
                                  category_entries, category_count, error);
    }

    free(image_entries);
    free(category_entries);
    cJSON_Delete(root);
    if (status != PICOTAG_OK) {
        eval_labels_free(labels);
    }
    return status;
}
