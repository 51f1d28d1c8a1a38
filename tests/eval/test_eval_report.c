/* The JSON report, the table and the logits CSV, on a hand-made report. */
#include <cJSON.h>
#include <stdlib.h>
#include <unistd.h>

#include "eval/csv_reader.h"
#include "eval/report.h"
#include "eval_check.h"

enum { CLASSES = 3, PHOTOS = 3 };

static const char *const class_names[CLASSES] = {"person", "fork, knife", "kite"};
static const int32_t thresholds[CLASSES] = {-120, 0, 2147483647};
static const char *const files[PHOTOS] = {"a.jpg", "we\"ird\\name\t.jpg", "bad\xFF.jpg"};
static const char *const failures[PHOTOS] = {NULL, NULL, "bad\xFF.jpg: truncated file"};
static const char *const ignored[] = {"width", "coco_split"};

/* Class 0 is labelled with positives, class 1 is labelled without
 * positives, class 2 is not in the label file. */
static eval_class_metrics per_class[CLASSES];
static eval_summary summary;

static eval_report make_report(void) {
    per_class[0] = (eval_class_metrics){
        .labelled = 1, .positives = 2, .average_precision = 0.1 + 0.2, .true_positives = 1,
        .false_positives = 1, .false_negatives = 1, .precision = 0.5, .recall = 0.5, .f1 = 0.5,
    };
    per_class[1] = (eval_class_metrics){
        .labelled = 1, .positives = 0, .average_precision = NAN, .false_positives = 2,
    };
    per_class[2] = (eval_class_metrics){.labelled = 0, .average_precision = NAN};
    summary = (eval_summary){
        .classes_with_positives = 1, .mean_average_precision = 0.1 + 0.2, .class_precision = 0.5,
        .class_recall = 0.5, .class_f1 = 0.5, .overall_precision = 1.0 / 3.0,
        .overall_recall = 0.5, .overall_f1 = 0.4,
    };
    return (eval_report){
        .model_path = "model.ptm",
        .labels_path = "labels.csv",
        .class_count = CLASSES,
        .class_names = class_names,
        .thresholds = thresholds,
        .photo_count = PHOTOS,
        .files = files,
        .failures = failures,
        .failed_count = 1,
        .ignored_names = ignored,
        .ignored_name_count = 2,
        .ignored_kind = "columns",
        .per_class = per_class,
        .summary = &summary,
    };
}

/* Runs a writer into memory; returns the text (free it) or NULL. */
static char *write_to_memory(picotag_status (*writer)(FILE *, const eval_report *, picotag_error *),
                             const eval_report *report) {
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream(&text, &size);
    if (stream == NULL) {
        return NULL;
    }
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_OK, writer(stream, report, &error), error.message);
    fclose(stream);
    return text;
}

static const cJSON *get_path(const cJSON *root, const char *first, const char *second) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, first);
    return second != NULL ? cJSON_GetObjectItemCaseSensitive(item, second) : item;
}

static void json_report_is_valid_json(void) {
    const eval_report report = make_report();
    char *text = write_to_memory(eval_report_write_json, &report);
    if (!CHECK(text != NULL)) {
        return;
    }
    cJSON *root = cJSON_Parse(text);
    if (!CHECK(root != NULL)) {
        printf("  text: %s\n", text);
        free(text);
        return;
    }
    CHECK_EQ(1, cJSON_IsObject(root));
    CHECK_EQ('\n', text[strlen(text) - 1]);
    CHECK_EQ(2, cJSON_GetObjectItemCaseSensitive(root, "photo_count")->valuedouble);
    CHECK_EQ(1, cJSON_GetObjectItemCaseSensitive(root, "failed_count")->valuedouble);
    CHECK_EQ(3, cJSON_GetObjectItemCaseSensitive(root, "class_count")->valuedouble);
    CHECK_EQ(2, cJSON_GetObjectItemCaseSensitive(root, "labelled_class_count")->valuedouble);
    CHECK_STRING("coco_split", cJSON_GetArrayItem(get_path(root, "ignored", NULL), 1)->valuestring);
    cJSON_Delete(root);
    free(text);
}

static void json_report_numbers_round_trip(void) {
    const eval_report report = make_report();
    char *text = write_to_memory(eval_report_write_json, &report);
    cJSON *root = text != NULL ? cJSON_Parse(text) : NULL;
    if (!CHECK(root != NULL)) {
        free(text);
        return;
    }
    /* 0.1 + 0.2 and 1/3 have no short decimal form: 17 digits bring back
     * the same double. */
    CHECK(cJSON_GetObjectItemCaseSensitive(root, "mAP")->valuedouble == 0.1 + 0.2);
    CHECK(cJSON_GetObjectItemCaseSensitive(root, "OP")->valuedouble == 1.0 / 3.0);
    CHECK_EQ(2147483647, cJSON_GetArrayItem(get_path(root, "per_class", "threshold"), 2)->valuedouble);
    CHECK_EQ(-120, cJSON_GetArrayItem(get_path(root, "per_class", "threshold"), 0)->valuedouble);
    cJSON_Delete(root);
    free(text);
}

static void json_report_writes_null_for_undefined(void) {
    const eval_report report = make_report();
    char *text = write_to_memory(eval_report_write_json, &report);
    cJSON *root = text != NULL ? cJSON_Parse(text) : NULL;
    if (!CHECK(root != NULL)) {
        free(text);
        return;
    }
    const cJSON *average_precision = get_path(root, "per_class", "average_precision");
    CHECK_EQ(3, cJSON_GetArraySize(average_precision));
    CHECK_EQ(1, cJSON_IsNumber(cJSON_GetArrayItem(average_precision, 0)));
    CHECK_EQ(1, cJSON_IsNull(cJSON_GetArrayItem(average_precision, 1)));
    CHECK_EQ(1, cJSON_IsNull(cJSON_GetArrayItem(average_precision, 2)));
    /* Class 1 is labelled, so its counts are numbers; class 2 is not. */
    CHECK_EQ(2, cJSON_GetArrayItem(get_path(root, "per_class", "false_positives"), 1)->valuedouble);
    CHECK_EQ(1, cJSON_IsNull(cJSON_GetArrayItem(get_path(root, "per_class", "positives"), 2)));
    CHECK_EQ(1, cJSON_IsFalse(cJSON_GetArrayItem(get_path(root, "per_class", "labelled"), 2)));
    CHECK_STRING("fork, knife", cJSON_GetArrayItem(get_path(root, "per_class", "name"), 1)->valuestring);
    cJSON_Delete(root);
    free(text);
}

static void json_report_escapes_file_names(void) {
    const eval_report report = make_report();
    char *text = write_to_memory(eval_report_write_json, &report);
    cJSON *root = text != NULL ? cJSON_Parse(text) : NULL;
    if (!CHECK(root != NULL)) {
        free(text);
        return;
    }
    const cJSON *failed = get_path(root, "failed_photos", NULL);
    CHECK_EQ(1, cJSON_GetArraySize(failed));
    const cJSON *first = cJSON_GetArrayItem(failed, 0);
    /* The byte 0xFF is not UTF-8 and becomes U+FFFD (EF BF BD). */
    CHECK_STRING("bad\xEF\xBF\xBD.jpg", cJSON_GetObjectItemCaseSensitive(first, "file")->valuestring);
    CHECK_STRING("bad\xEF\xBF\xBD.jpg: truncated file",
                 cJSON_GetObjectItemCaseSensitive(first, "error")->valuestring);
    cJSON_Delete(root);

    eval_report quoted = make_report();
    const char *const failures_of_quoted[PHOTOS] = {NULL, "quote and tab", NULL};
    quoted.failures = failures_of_quoted;
    char *quoted_text = write_to_memory(eval_report_write_json, &quoted);
    root = quoted_text != NULL ? cJSON_Parse(quoted_text) : NULL;
    if (CHECK(root != NULL)) {
        const cJSON *entry = cJSON_GetArrayItem(get_path(root, "failed_photos", NULL), 0);
        CHECK_STRING("we\"ird\\name\t.jpg", cJSON_GetObjectItemCaseSensitive(entry, "file")->valuestring);
        CHECK_CONTAINS(quoted_text, "\"we\\\"ird\\\\name\\u0009.jpg\"");
    }
    cJSON_Delete(root);
    free(quoted_text);
    free(text);
}

static void table_marks_undefined_values(void) {
    const eval_report report = make_report();
    char *text = write_to_memory(eval_report_write_table, &report);
    if (!CHECK(text != NULL)) {
        return;
    }
    CHECK_CONTAINS(text, "photos      2 evaluated, 1 failed and excluded\n");
    CHECK_CONTAINS(text, "mAP         30.00 % (mean over the 1 classes with positives)\n");
    CHECK_CONTAINS(text, "overall     OP 33.33 %  OR 50.00 %  OF1 40.00 %\n");
    CHECK_CONTAINS(text, "ignored     2 columns that name no class of the model: width, coco_split\n");
    CHECK_CONTAINS(text, "    0  person                   2   30.00   50.00   50.00   50.00\n");
    CHECK_CONTAINS(text, "    1  fork, knife              0       -    0.00       -       -\n");
    CHECK_CONTAINS(text, "    2  kite                     -       -       -       -       -  (not in the label file)\n");
    free(text);
}

static void logits_csv_quotes_and_skips_failed(void) {
    char path[] = "/tmp/picotag-eval-logits-XXXXXX";
    const int descriptor = mkstemp(path);
    if (!CHECK(descriptor >= 0)) {
        return;
    }
    close(descriptor);

    const char *const names[PHOTOS] = {"x,y.jpg", "plain.png", "gone.jpg"};
    const int32_t logits[PHOTOS * CLASSES] = {1, -2, 3, INT32_MIN, 0, INT32_MAX, 7, 8, 9};
    const uint8_t succeeded[PHOTOS] = {1, 1, 0};
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_OK,
                 eval_write_logits_csv(path, class_names, CLASSES, names, logits, succeeded, PHOTOS, &error),
                 error.message);

    FILE *file = fopen(path, "rb");
    char text[512] = {0};
    const size_t size = file != NULL ? fread(text, 1, sizeof(text) - 1, file) : 0;
    if (file != NULL) {
        fclose(file);
    }
    remove(path);
    CHECK_STRING("file,person,\"fork, knife\",kite\n"
                 "\"x,y.jpg\",1,-2,3\n"
                 "plain.png,-2147483648,0,2147483647\n",
                 text);

    /* The CSV reader reads it back field by field. */
    csv_reader reader;
    csv_reader_init(&reader, text, size, "logits.csv");
    char **fields = NULL;
    size_t field_count = 0;
    size_t line = 0;
    CHECK_STATUS(PICOTAG_OK, csv_read_record(&reader, &fields, &field_count, &line, &error), error.message);
    CHECK_EQ(4, field_count);
    CHECK_STRING("fork, knife", fields[2]);
    CHECK_STATUS(PICOTAG_OK, csv_read_record(&reader, &fields, &field_count, &line, &error), error.message);
    CHECK_STRING("x,y.jpg", fields[0]);
    csv_reader_free(&reader);
}

static void logits_csv_reports_unwritable_path(void) {
    const int32_t logits[CLASSES] = {0, 0, 0};
    const uint8_t succeeded[1] = {1};
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_ERROR_IO,
                 eval_write_logits_csv("/nonexistent-folder/logits.csv", class_names, CLASSES, files, logits,
                                       succeeded, 1, &error),
                 error.message);
    CHECK_CONTAINS(error.message, "/nonexistent-folder/logits.csv: cannot create");
}

int main(void) {
    RUN_TEST(json_report_is_valid_json);
    RUN_TEST(json_report_numbers_round_trip);
    RUN_TEST(json_report_writes_null_for_undefined);
    RUN_TEST(json_report_escapes_file_names);
    RUN_TEST(table_marks_undefined_values);
    RUN_TEST(logits_csv_quotes_and_skips_failed);
    RUN_TEST(logits_csv_reports_unwritable_path);
    return test_summary();
}
