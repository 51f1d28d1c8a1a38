/* The label CSV: a `file` column and one 0/1 column per class. */
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "eval/csv_reader.h"
#include "eval/labels.h"
#include "eval/labels_internal.h"

enum { COLUMN_IGNORED = -1, COLUMN_FILE = -2 };

/* Parses 0 or 1, also written as a decimal with zeros after the point
 * ("1.0", "0.00"). Returns 0 or 1, or -1 for anything else (soft labels,
 * empty fields, spaces). */
static int parse_label_value(const char *text) {
    if ((text[0] != '0' && text[0] != '1')) {
        return -1;
    }
    const int value = text[0] - '0';
    const char *rest = text + 1;
    if (*rest == '.') {
        rest++;
        while (*rest == '0') {
            rest++;
        }
    }
    return *rest == '\0' ? value : -1;
}

/* Maps each header field to COLUMN_FILE, a class index or COLUMN_IGNORED,
 * and marks the classes found. */
static picotag_status map_header(char **fields, size_t field_count, const char *name,
                                 const eval_label_options *options, eval_labels *labels,
                                 int *columns, size_t *file_column, picotag_error *error) {
    int file_found = 0;
    for (size_t c = 0; c < field_count; c++) {
        const char *header = fields[c];
        int column = COLUMN_IGNORED;
        if (strcmp(header, "file") == 0) {
            column = COLUMN_FILE;
        } else {
            column = labels_find_class(options, header);
        }

        for (size_t earlier = 0; earlier < c && column != COLUMN_IGNORED; earlier++) {
            if (columns[earlier] == column) {
                return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                         "%s:1: column \"%s\" appears twice (columns %zu and %zu)",
                                         name, header, earlier + 1, c + 1);
            }
        }
        columns[c] = column;

        if (column == COLUMN_FILE) {
            file_found = 1;
            *file_column = c;
        } else if (column >= 0) {
            labels->class_labelled[column] = 1;
        } else {
            picotag_status status = labels_add_ignored(labels, header, error);
            if (status != PICOTAG_OK) {
                return status;
            }
        }
    }
    if (!file_found) {
        return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                 "%s:1: no \"file\" column in the header; the first row must name "
                                 "the columns, with \"file\" for the photo paths",
                                 name);
    }
    return PICOTAG_OK;
}

static picotag_status read_row(char **fields, size_t field_count, size_t header_count, size_t line,
                               char **header, const int *columns, size_t file_column,
                               const char *name, eval_labels *labels, picotag_error *error) {
    if (field_count != header_count) {
        return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                 "%s:%zu: %zu fields, expected %zu as in the header", name, line,
                                 field_count, header_count);
    }
    if (fields[file_column][0] == '\0') {
        return picotag_error_set(error, PICOTAG_ERROR_FORMAT, "%s:%zu: the \"file\" field is empty",
                                 name, line);
    }

    uint8_t *row = NULL;
    picotag_status status = labels_add_photo(labels, fields[file_column], &row, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    for (size_t c = 0; c < field_count; c++) {
        if (columns[c] < 0) {
            continue;
        }
        const int value = parse_label_value(fields[c]);
        if (value < 0) {
            return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                     "%s:%zu: column \"%s\": invalid label \"%s\", expected 0 or 1",
                                     name, line, header[c], fields[c]);
        }
        row[columns[c]] = (uint8_t)value;
    }
    return PICOTAG_OK;
}

/* Copies the header's fields, which the reader overwrites on the next
 * record, into one allocation. */
static char **copy_header(char **fields, size_t field_count) {
    size_t bytes = field_count * sizeof(char *);
    for (size_t c = 0; c < field_count; c++) {
        bytes += strlen(fields[c]) + 1;
    }
    char **copy = malloc(bytes);
    if (copy == NULL) {
        return NULL;
    }
    char *text = (char *)(copy + field_count);
    for (size_t c = 0; c < field_count; c++) {
        const size_t size = strlen(fields[c]) + 1;
        memcpy(text, fields[c], size);
        copy[c] = text;
        text += size;
    }
    return copy;
}

picotag_status eval_labels_parse_csv(const char *text, size_t size, const char *name,
                                     const eval_label_options *options, eval_labels *labels,
                                     picotag_error *error) {
    picotag_status status = labels_begin(labels, options, name, error);
    if (status != PICOTAG_OK) {
        eval_labels_free(labels);
        return status;
    }

    labels->format = EVAL_LABELS_CSV;
    csv_reader reader;
    csv_reader_init(&reader, text, size, name);
    char **fields = NULL;
    size_t field_count = 0;
    size_t line = 0;
    char **header = NULL;
    int *columns = NULL;
    size_t file_column = 0;

    status = csv_read_record(&reader, &fields, &field_count, &line, error);
    if (status == PICOTAG_OK && field_count == 0) {
        status = picotag_error_set(error, PICOTAG_ERROR_FORMAT, "%s: empty file, expected a header row",
                                   name);
    }
    const size_t header_count = field_count;
    if (status == PICOTAG_OK) {
        header = copy_header(fields, field_count);
        columns = malloc(field_count * sizeof(*columns));
        if (header == NULL || columns == NULL) {
            status = picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY, "%s: out of memory", name);
        }
    }
    if (status == PICOTAG_OK) {
        status = map_header(header, header_count, name, options, labels, columns, &file_column, error);
    }
    if (status == PICOTAG_OK) {
        status = labels_check_classes(labels, options, name, "column", error);
    }

    while (status == PICOTAG_OK) {
        status = csv_read_record(&reader, &fields, &field_count, &line, error);
        if (status != PICOTAG_OK || field_count == 0) {
            break;
        }
        status = read_row(fields, field_count, header_count, line, header, columns, file_column, name,
                          labels, error);
    }
    if (status == PICOTAG_OK && labels->photo_count == 0) {
        status = picotag_error_set(error, PICOTAG_ERROR_FORMAT, "%s: no photos after the header", name);
    }

    free(header);
    free(columns);
    csv_reader_free(&reader);
    if (status != PICOTAG_OK) {
        eval_labels_free(labels);
    }
    return status;
}
