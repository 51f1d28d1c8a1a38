/* The CSV reader and label CSV files: quoting, column matching, and errors
 * that name the line. */
#include <stdlib.h>

#include "eval/csv_reader.h"
#include "eval/labels.h"
#include "eval_check.h"

static const char *const model_classes[] = {"person", "dog", "hot dog", "cell phone"};
enum { MODEL_CLASSES = 4 };

static eval_label_options model_options(int allow_missing_classes) {
    return (eval_label_options){
        .class_names = model_classes,
        .class_count = MODEL_CLASSES,
        .allow_missing_classes = allow_missing_classes,
    };
}

static picotag_status parse_labels(const char *text, int allow_missing_classes, eval_labels *labels,
                                   picotag_error *error) {
    const eval_label_options options = model_options(allow_missing_classes);
    return eval_labels_parse_csv(text, strlen(text), "labels.csv", &options, labels, error);
}

/* Reads every record of `text`; *fields_out receives the fields of the
 * record with index `wanted`, joined by '|'. Returns the record count, or
 * -1 on an error, with the message in `error`. */
static int read_records(const char *text, int wanted, char *joined, size_t joined_size,
                        size_t *wanted_line, picotag_error *error) {
    csv_reader reader;
    csv_reader_init(&reader, text, strlen(text), "test.csv");
    int records = 0;
    joined[0] = '\0';
    for (;;) {
        char **fields = NULL;
        size_t field_count = 0;
        size_t line = 0;
        if (csv_read_record(&reader, &fields, &field_count, &line, error) != PICOTAG_OK) {
            csv_reader_free(&reader);
            return -1;
        }
        if (field_count == 0) {
            break;
        }
        if (records == wanted) {
            size_t used = 0;
            for (size_t f = 0; f < field_count; f++) {
                used += (size_t)snprintf(joined + used, joined_size - used, "%s%s", f > 0 ? "|" : "",
                                         fields[f]);
            }
            *wanted_line = line;
        }
        records++;
    }
    csv_reader_free(&reader);
    return records;
}

static void csv_reader_splits_plain_fields(void) {
    char joined[256];
    size_t line = 0;
    picotag_error error = {{0}};
    CHECK_EQ(2, read_records("a,b,c\n1,,3\n", 1, joined, sizeof(joined), &line, &error));
    CHECK_STRING("1||3", joined);
    CHECK_EQ(2, line);
}

static void csv_reader_unquotes_fields(void) {
    char joined[256];
    size_t line = 0;
    picotag_error error = {{0}};
    const char *text = "file,x\n\"a, b\",\"say \"\"hi\"\"\"\n";
    CHECK_EQ(2, read_records(text, 1, joined, sizeof(joined), &line, &error));
    CHECK_STRING("a, b|say \"hi\"", joined);
}

static void csv_reader_keeps_line_breaks_in_quotes(void) {
    char joined[256];
    size_t line = 0;
    picotag_error error = {{0}};
    const char *text = "h1,h2\n\"two\nlines\",x\nlast,y\n";
    CHECK_EQ(3, read_records(text, 1, joined, sizeof(joined), &line, &error));
    CHECK_STRING("two\nlines|x", joined);
    CHECK_EQ(2, line);
    /* The record after the quoted line break starts on line 4. */
    CHECK_EQ(3, read_records(text, 2, joined, sizeof(joined), &line, &error));
    CHECK_STRING("last|y", joined);
    CHECK_EQ(4, line);
}

static void csv_reader_accepts_crlf_bom_and_blank_lines(void) {
    char joined[256];
    size_t line = 0;
    picotag_error error = {{0}};
    const char *text = "\xEF\xBB\xBF" "file,a\r\n\r\nx.jpg,1\r\n\n";
    CHECK_EQ(2, read_records(text, 0, joined, sizeof(joined), &line, &error));
    CHECK_STRING("file|a", joined);
    CHECK_EQ(2, read_records(text, 1, joined, sizeof(joined), &line, &error));
    CHECK_STRING("x.jpg|1", joined);
    CHECK_EQ(3, line);
}

static void csv_reader_reads_last_line_without_break(void) {
    char joined[256];
    size_t line = 0;
    picotag_error error = {{0}};
    CHECK_EQ(2, read_records("a,b\nc,", 1, joined, sizeof(joined), &line, &error));
    CHECK_STRING("c|", joined);
}

static void csv_reader_rejects_unclosed_quote(void) {
    char joined[256];
    size_t line = 0;
    picotag_error error = {{0}};
    CHECK_EQ(-1, read_records("a,b\nx,\"open\n\n", 0, joined, sizeof(joined), &line, &error));
    CHECK_CONTAINS(error.message, "test.csv:2: a quoted field is not closed");
}

static void csv_reader_rejects_stray_quotes(void) {
    char joined[256];
    size_t line = 0;
    picotag_error error = {{0}};
    CHECK_EQ(-1, read_records("a,b\nx,ab\"c\n", 0, joined, sizeof(joined), &line, &error));
    CHECK_CONTAINS(error.message, "test.csv:2: a double quote inside unquoted field 2");
    CHECK_EQ(-1, read_records("a,b\n\"x\"y,1\n", 0, joined, sizeof(joined), &line, &error));
    CHECK_CONTAINS(error.message, "test.csv:2: unexpected text after the closing quote of field 1");
}

static void labels_match_columns_by_name(void) {
    /* Columns in another order than the model's, with extra columns. */
    const char *text =
        "file,coco_split,cell phone,width,hot dog,person,dog,height\n"
        "a.jpg,val2017,1,640,0,1,0,480\n"
        "\"b, c.png\",val2017,0,10,1,0,1.0,20\n";
    eval_labels labels;
    picotag_error error = {{0}};
    if (!CHECK_STATUS(PICOTAG_OK, parse_labels(text, 0, &labels, &error), error.message)) {
        return;
    }
    CHECK_EQ(EVAL_LABELS_CSV, labels.format);
    CHECK_EQ(2, labels.photo_count);
    CHECK_EQ(MODEL_CLASSES, labels.class_count);
    CHECK_EQ(MODEL_CLASSES, labels.labelled_class_count);
    CHECK_STRING("a.jpg", labels.files[0]);
    CHECK_STRING("b, c.png", labels.files[1]);
    /* Model order: person, dog, hot dog, cell phone. */
    const uint8_t expected[] = {1, 0, 0, 1, 0, 1, 1, 0};
    for (size_t i = 0; i < sizeof(expected); i++) {
        CHECK_EQ(expected[i], labels.truth[i]);
    }
    CHECK_EQ(3, labels.ignored_name_count);
    CHECK_STRING("coco_split", labels.ignored_names[0]);
    CHECK_STRING("width", labels.ignored_names[1]);
    CHECK_STRING("height", labels.ignored_names[2]);
    eval_labels_free(&labels);
}

static void labels_missing_class_is_an_error(void) {
    const char *text = "file,person,dog,hot dog\na.jpg,1,0,0\n";
    eval_labels labels;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_ERROR_FORMAT, parse_labels(text, 0, &labels, &error), error.message);
    CHECK_CONTAINS(error.message, "labels.csv: no column for 1 of the model's classes: \"cell phone\"");
    CHECK_CONTAINS(error.message, "--allow-missing-classes");
    CHECK_EQ(0, labels.photo_count);
}

static void labels_missing_classes_listed_briefly(void) {
    static const char *const many[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    const eval_label_options options = {.class_names = many, .class_count = 8};
    const char *text = "file,a\nx.jpg,1\n";
    eval_labels labels;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_ERROR_FORMAT,
                 eval_labels_parse_csv(text, strlen(text), "labels.csv", &options, &labels, &error),
                 error.message);
    CHECK_CONTAINS(error.message,
                   "no column for 7 of the model's classes: \"b\", \"c\", \"d\", \"e\", \"f\" and 2 more");
}

static void labels_missing_class_allowed(void) {
    const char *text = "file,person,dog,hot dog\na.jpg,1,0,1\n";
    eval_labels labels;
    picotag_error error = {{0}};
    if (!CHECK_STATUS(PICOTAG_OK, parse_labels(text, 1, &labels, &error), error.message)) {
        return;
    }
    CHECK_EQ(3, labels.labelled_class_count);
    CHECK_EQ(1, labels.class_labelled[2]);
    CHECK_EQ(0, labels.class_labelled[3]);
    CHECK_EQ(0, labels.truth[3]);
    eval_labels_free(&labels);
}

static void labels_without_matching_column_is_an_error(void) {
    const char *text = "file,zebra\na.jpg,1\n";
    eval_labels labels;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_ERROR_FORMAT, parse_labels(text, 1, &labels, &error), error.message);
    CHECK_CONTAINS(error.message, "no column matches a class of the model");
}

static void labels_reject_bad_values_with_line(void) {
    static const char *const bad_values[] = {"yes", "0.5", "2", "", " 1", "-1", "1e0", "0x1", "nan"};
    for (size_t v = 0; v < sizeof(bad_values) / sizeof(bad_values[0]); v++) {
        char text[256];
        snprintf(text, sizeof(text), "file,person,dog,hot dog,cell phone\na.jpg,0,0,0,1\nb.jpg,1,%s,0,0\n",
                 bad_values[v]);
        eval_labels labels;
        picotag_error error = {{0}};
        CHECK_STATUS(PICOTAG_ERROR_FORMAT, parse_labels(text, 0, &labels, &error), error.message);
        char expected[128];
        snprintf(expected, sizeof(expected), "labels.csv:3: column \"dog\": invalid label \"%s\", expected 0 or 1",
                 bad_values[v]);
        CHECK_CONTAINS(error.message, expected);
    }
}

static void labels_reject_wrong_field_count(void) {
    eval_labels labels;
    picotag_error error = {{0}};
    const char *missing_field = "file,person,dog,hot dog,cell phone\na.jpg,0,0,0,1\n\nb.jpg,1,0,0\n";
    CHECK_STATUS(PICOTAG_ERROR_FORMAT, parse_labels(missing_field, 0, &labels, &error), error.message);
    CHECK_CONTAINS(error.message, "labels.csv:4: 4 fields, expected 5 as in the header");

    const char *extra_field = "file,person,dog,hot dog,cell phone\na.jpg,0,0,0,1,7\n";
    CHECK_STATUS(PICOTAG_ERROR_FORMAT, parse_labels(extra_field, 0, &labels, &error), error.message);
    CHECK_CONTAINS(error.message, "labels.csv:2: 6 fields, expected 5 as in the header");
}

static void labels_line_numbers_count_quoted_breaks(void) {
    const char *text = "file,person,dog,hot dog,cell phone\n\"multi\nline.jpg\",0,0,0,1\nb.jpg,1,x,0,0\n";
    eval_labels labels;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_ERROR_FORMAT, parse_labels(text, 0, &labels, &error), error.message);
    CHECK_CONTAINS(error.message, "labels.csv:4: column \"dog\"");
}

static void labels_need_file_column(void) {
    eval_labels labels;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_ERROR_FORMAT,
                 parse_labels("path,person,dog,hot dog,cell phone\na.jpg,0,0,0,1\n", 0, &labels, &error),
                 error.message);
    CHECK_CONTAINS(error.message, "labels.csv:1: no \"file\" column");
}

static void labels_reject_empty_file_field(void) {
    eval_labels labels;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_ERROR_FORMAT,
                 parse_labels("file,person,dog,hot dog,cell phone\n,0,0,0,1\n", 0, &labels, &error),
                 error.message);
    CHECK_CONTAINS(error.message, "labels.csv:2: the \"file\" field is empty");
}

static void labels_reject_duplicate_class_column(void) {
    eval_labels labels;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_ERROR_FORMAT,
                 parse_labels("file,person,dog,hot dog,cell phone,dog\na.jpg,0,0,0,1,1\n", 0, &labels, &error),
                 error.message);
    CHECK_CONTAINS(error.message, "column \"dog\" appears twice (columns 3 and 6)");
}

static void labels_allow_repeated_ignored_column(void) {
    eval_labels labels;
    picotag_error error = {{0}};
    const char *text = "file,note,person,dog,hot dog,cell phone,note\na.jpg,x,0,0,0,1,y\n";
    CHECK_STATUS(PICOTAG_OK, parse_labels(text, 0, &labels, &error), error.message);
    CHECK_EQ(2, labels.ignored_name_count);
    eval_labels_free(&labels);
}

static void labels_reject_empty_and_header_only(void) {
    eval_labels labels;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_ERROR_FORMAT, parse_labels("", 0, &labels, &error), error.message);
    CHECK_CONTAINS(error.message, "labels.csv: empty file");
    CHECK_STATUS(PICOTAG_ERROR_FORMAT, parse_labels("file,person,dog,hot dog,cell phone\n", 0, &labels, &error),
                 error.message);
    CHECK_CONTAINS(error.message, "labels.csv: no photos after the header");
}

static void labels_reject_model_with_repeated_names(void) {
    static const char *const repeated[] = {"cat", "dog", "cat"};
    const eval_label_options options = {.class_names = repeated, .class_count = 3};
    eval_labels labels;
    picotag_error error = {{0}};
    const char *text = "file,cat,dog\na.jpg,1,0\n";
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 eval_labels_parse_csv(text, strlen(text), "labels.csv", &options, &labels, &error),
                 error.message);
    CHECK_CONTAINS(error.message, "the model names classes 0 and 2 both \"cat\"");
}

static void labels_read_chooses_csv_by_name(void) {
    char folder[] = "/tmp/picotag-eval-csv-XXXXXX";
    if (!CHECK(mkdtemp(folder) != NULL)) {
        return;
    }
    char path[256];
    snprintf(path, sizeof(path), "%s/labels.txt", folder);
    FILE *file = fopen(path, "wb");
    if (!CHECK(file != NULL)) {
        return;
    }
    fputs("file,person,dog,hot dog,cell phone\nx.jpg,1,1,0,0\n", file);
    fclose(file);

    const eval_label_options options = model_options(0);
    eval_labels labels;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_OK, eval_labels_read(path, &options, &labels, &error), error.message);
    CHECK_EQ(1, labels.photo_count);
    CHECK_EQ(EVAL_LABELS_CSV, labels.format);
    eval_labels_free(&labels);
    remove(path);

    CHECK_STATUS(PICOTAG_ERROR_IO, eval_labels_read(path, &options, &labels, &error), error.message);
    CHECK_CONTAINS(error.message, "labels.txt: cannot open");
    remove(folder);
}

int main(void) {
    RUN_TEST(csv_reader_splits_plain_fields);
    RUN_TEST(csv_reader_unquotes_fields);
    RUN_TEST(csv_reader_keeps_line_breaks_in_quotes);
    RUN_TEST(csv_reader_accepts_crlf_bom_and_blank_lines);
    RUN_TEST(csv_reader_reads_last_line_without_break);
    RUN_TEST(csv_reader_rejects_unclosed_quote);
    RUN_TEST(csv_reader_rejects_stray_quotes);
    RUN_TEST(labels_match_columns_by_name);
    RUN_TEST(labels_missing_class_is_an_error);
    RUN_TEST(labels_missing_classes_listed_briefly);
    RUN_TEST(labels_missing_class_allowed);
    RUN_TEST(labels_without_matching_column_is_an_error);
    RUN_TEST(labels_reject_bad_values_with_line);
    RUN_TEST(labels_reject_wrong_field_count);
    RUN_TEST(labels_line_numbers_count_quoted_breaks);
    RUN_TEST(labels_need_file_column);
    RUN_TEST(labels_reject_empty_file_field);
    RUN_TEST(labels_reject_duplicate_class_column);
    RUN_TEST(labels_allow_repeated_ignored_column);
    RUN_TEST(labels_reject_empty_and_header_only);
    RUN_TEST(labels_reject_model_with_repeated_names);
    RUN_TEST(labels_read_chooses_csv_by_name);
    return test_summary();
}
