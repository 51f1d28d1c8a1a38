/* COCO instances JSON reduced to image-level labels, and its errors. */
#include <stdlib.h>

#include "eval/labels.h"
#include "eval_check.h"

static const char *const model_classes[] = {"person", "dog", "hot dog", "cell phone"};
enum { MODEL_CLASSES = 4 };

/* Three images and five categories, listed in another order than the
 * model's classes. The category "zebra" is not a class of the model. Image
 * 7 has no annotations, and image 42 has a crowd annotation and a repeated
 * category. */
static const char tiny_instances[] =
    "{\n"
    "  \"info\": {\"description\": \"tiny\"},\n"
    "  \"images\": [\n"
    "    {\"id\": 42, \"file_name\": \"a.jpg\", \"width\": 640, \"height\": 480},\n"
    "    {\"id\": 7, \"file_name\": \"sub/b.png\"},\n"
    "    {\"id\": 1000, \"file_name\": \"c.jpg\"}\n"
    "  ],\n"
    "  \"categories\": [\n"
    "    {\"id\": 77, \"name\": \"cell phone\", \"supercategory\": \"electronic\"},\n"
    "    {\"id\": 1, \"name\": \"person\"},\n"
    "    {\"id\": 24, \"name\": \"zebra\"},\n"
    "    {\"id\": 18, \"name\": \"dog\"},\n"
    "    {\"id\": 58, \"name\": \"hot dog\"}\n"
    "  ],\n"
    "  \"annotations\": [\n"
    "    {\"id\": 1, \"image_id\": 42, \"category_id\": 1, \"iscrowd\": 1},\n"
    "    {\"id\": 2, \"image_id\": 42, \"category_id\": 18},\n"
    "    {\"id\": 3, \"image_id\": 42, \"category_id\": 18},\n"
    "    {\"id\": 4, \"image_id\": 1000, \"category_id\": 77},\n"
    "    {\"id\": 5, \"image_id\": 1000, \"category_id\": 24}\n"
    "  ]\n"
    "}\n";

static eval_label_options model_options(int allow_missing_classes) {
    return (eval_label_options){
        .class_names = model_classes,
        .class_count = MODEL_CLASSES,
        .allow_missing_classes = allow_missing_classes,
    };
}

static picotag_status parse_coco(const char *text, int allow_missing_classes, eval_labels *labels,
                                 picotag_error *error) {
    const eval_label_options options = model_options(allow_missing_classes);
    return eval_labels_parse_coco(text, strlen(text), "instances.json", &options, labels, error);
}

/* Returns a copy of tiny_instances with the first `from` replaced by `to`. */
static char *edited_instances(const char *from, const char *to) {
    const char *at = strstr(tiny_instances, from);
    if (at == NULL) {
        return NULL;
    }
    const size_t before = (size_t)(at - tiny_instances);
    const size_t size = sizeof(tiny_instances) - strlen(from) + strlen(to);
    char *text = malloc(size);
    if (text != NULL) {
        memcpy(text, tiny_instances, before);
        snprintf(text + before, size - before, "%s%s", to, at + strlen(from));
    }
    return text;
}

/* Parses tiny_instances edited by one replacement and expects an error
 * containing `message`. */
static void check_edit_fails(const char *from, const char *to, const char *message) {
    char *text = edited_instances(from, to);
    if (!CHECK(text != NULL)) {
        return;
    }
    eval_labels labels;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_ERROR_FORMAT, parse_coco(text, 0, &labels, &error), error.message);
    CHECK_CONTAINS(error.message, message);
    CHECK_EQ(0, labels.photo_count);
    free(text);
}

static void coco_images_become_photos_in_file_order(void) {
    eval_labels labels;
    picotag_error error = {{0}};
    if (!CHECK_STATUS(PICOTAG_OK, parse_coco(tiny_instances, 0, &labels, &error), error.message)) {
        return;
    }
    CHECK_EQ(EVAL_LABELS_COCO, labels.format);
    CHECK_EQ(3, labels.photo_count);
    CHECK_STRING("a.jpg", labels.files[0]);
    CHECK_STRING("sub/b.png", labels.files[1]);
    CHECK_STRING("c.jpg", labels.files[2]);
    eval_labels_free(&labels);
}

static void coco_annotations_map_by_category_name(void) {
    eval_labels labels;
    picotag_error error = {{0}};
    if (!CHECK_STATUS(PICOTAG_OK, parse_coco(tiny_instances, 0, &labels, &error), error.message)) {
        return;
    }
    /* Model order: person, dog, hot dog, cell phone. The crowd annotation
     * counts; image 7 has no annotation and is negative everywhere. */
    const uint8_t expected[] = {
        1, 1, 0, 0,
        0, 0, 0, 0,
        0, 0, 0, 1,
    };
    for (size_t i = 0; i < sizeof(expected); i++) {
        CHECK_EQ(expected[i], labels.truth[i]);
    }
    CHECK_EQ(MODEL_CLASSES, labels.labelled_class_count);
    CHECK_EQ(1, labels.ignored_name_count);
    CHECK_STRING("zebra", labels.ignored_names[0]);
    eval_labels_free(&labels);
}

static void coco_missing_category_is_an_error(void) {
    check_edit_fails("\"name\": \"hot dog\"", "\"name\": \"hotdog\"",
                     "instances.json: no category for 1 of the model's classes: \"hot dog\"");
}

static void coco_missing_category_allowed(void) {
    char *text = edited_instances("\"name\": \"hot dog\"", "\"name\": \"hotdog\"");
    if (!CHECK(text != NULL)) {
        return;
    }
    eval_labels labels;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_OK, parse_coco(text, 1, &labels, &error), error.message);
    CHECK_EQ(3, labels.labelled_class_count);
    CHECK_EQ(0, labels.class_labelled[2]);
    CHECK_EQ(2, labels.ignored_name_count);
    eval_labels_free(&labels);
    free(text);
}

static void coco_rejects_invalid_json_with_line(void) {
    check_edit_fails("\"file_name\": \"sub/b.png\"}", "\"file_name\": \"sub/b.png\",}",
                     "instances.json:5: invalid JSON");
    check_edit_fails("  ]\n}\n", "  ]\n}\n}\n", "instances.json:23: unexpected text after the JSON document");
}

static void coco_rejects_missing_arrays(void) {
    check_edit_fails("\"annotations\"", "\"notes\"", "no \"annotations\" array");
    check_edit_fails("\"images\": [", "\"images\": 5, \"other\": [", "no \"images\" array");

    eval_labels labels;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_ERROR_FORMAT, parse_coco("[1, 2]", 0, &labels, &error), error.message);
    CHECK_CONTAINS(error.message, "not a JSON object");
}

static void coco_rejects_unknown_references(void) {
    check_edit_fails("\"image_id\": 1000, \"category_id\": 77", "\"image_id\": 1001, \"category_id\": 77",
                     "annotations[3]: image_id 1001 is not in \"images\"");
    check_edit_fails("\"category_id\": 18}", "\"category_id\": 19}",
                     "annotations[1]: category_id 19 is not in \"categories\"");
}

static void coco_rejects_bad_fields(void) {
    check_edit_fails("{\"id\": 7,", "{\"id\": 7.5,", "images[1]: \"id\" is missing or not an integer");
    check_edit_fails("{\"id\": 7,", "{\"id\": \"7\",", "images[1]: \"id\" is missing or not an integer");
    check_edit_fails("\"file_name\": \"c.jpg\"", "\"file_name\": 3",
                     "images[2]: \"file_name\" is missing or not a non-empty string");
    check_edit_fails("\"name\": \"zebra\"", "\"name\": \"\"",
                     "categories[2]: \"name\" is missing or not a non-empty string");
    check_edit_fails("\"id\": 5, \"image_id\": 1000", "\"id\": 5, \"image\": 1000",
                     "annotations[4]: \"image_id\" is missing or not an integer");
}

static void coco_rejects_duplicates(void) {
    check_edit_fails("{\"id\": 7,", "{\"id\": 42,", "two images have the id 42");
    check_edit_fails("{\"id\": 24,", "{\"id\": 18,", "two categories have the id 18");
    check_edit_fails("\"name\": \"zebra\"", "\"name\": \"dog\"", "categories[3]: a second category is named \"dog\"");
}

static void coco_rejects_empty_images(void) {
    const char *text = "{\"images\": [], \"annotations\": [], \"categories\": ["
                       "{\"id\": 1, \"name\": \"person\"}, {\"id\": 2, \"name\": \"dog\"},"
                       "{\"id\": 3, \"name\": \"hot dog\"}, {\"id\": 4, \"name\": \"cell phone\"}]}";
    eval_labels labels;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_ERROR_FORMAT, parse_coco(text, 0, &labels, &error), error.message);
    CHECK_CONTAINS(error.message, "the \"images\" array is empty");
}

static void labels_read_chooses_json_by_name(void) {
    char folder[] = "/tmp/picotag-eval-coco-XXXXXX";
    if (!CHECK(mkdtemp(folder) != NULL)) {
        return;
    }
    char path[256];
    snprintf(path, sizeof(path), "%s/instances_val.JSON", folder);
    FILE *file = fopen(path, "wb");
    if (!CHECK(file != NULL)) {
        return;
    }
    fputs(tiny_instances, file);
    fclose(file);

    const eval_label_options options = model_options(0);
    eval_labels labels;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_OK, eval_labels_read(path, &options, &labels, &error), error.message);
    CHECK_EQ(EVAL_LABELS_COCO, labels.format);
    CHECK_EQ(3, labels.photo_count);
    eval_labels_free(&labels);
    remove(path);
    remove(folder);
}

int main(void) {
    RUN_TEST(coco_images_become_photos_in_file_order);
    RUN_TEST(coco_annotations_map_by_category_name);
    RUN_TEST(coco_missing_category_is_an_error);
    RUN_TEST(coco_missing_category_allowed);
    RUN_TEST(coco_rejects_invalid_json_with_line);
    RUN_TEST(coco_rejects_missing_arrays);
    RUN_TEST(coco_rejects_unknown_references);
    RUN_TEST(coco_rejects_bad_fields);
    RUN_TEST(coco_rejects_duplicates);
    RUN_TEST(coco_rejects_empty_images);
    RUN_TEST(labels_read_chooses_json_by_name);
    return test_summary();
}
