/* The report as one JSON object (RFC 8259). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/error.h"
#include "engine/utf8.h"
#include "eval/report.h"

/* Writes a JSON string. Bytes that are not valid UTF-8 become U+FFFD,
 * because JSON text must be Unicode. */
static void write_json_string(FILE *stream, const char *text) {
    const uint8_t *bytes = (const uint8_t *)text;
    size_t length = strlen(text);
    fputc('"', stream);
    while (length > 0) {
        size_t valid = length;
        size_t invalid_at = 0;
        if (!picotag_utf8_validate(bytes, length, &invalid_at)) {
            valid = invalid_at;
        }
        for (size_t i = 0; i < valid; i++) {
            const uint8_t byte = bytes[i];
            if (byte == '"' || byte == '\\') {
                fprintf(stream, "\\%c", byte);
            } else if (byte < 0x20) {
                fprintf(stream, "\\u%04x", byte);
            } else {
                fputc(byte, stream);
            }
        }
        bytes += valid;
        length -= valid;
        if (length > 0) {
            fputs("\\ufffd", stream);
            bytes++;
            length--;
        }
    }
    fputc('"', stream);
}

/* Writes a double that reads back to the same value, or null for NaN. */
static void write_json_number(FILE *stream, double value) {
    if (isnan(value) || isinf(value)) {
        fputs("null", stream);
    } else {
        fprintf(stream, "%.17g", value);
    }
}

typedef enum class_field {
    FIELD_NAME,
    FIELD_LABELLED,
    FIELD_POSITIVES,
    FIELD_THRESHOLD,
    FIELD_AVERAGE_PRECISION,
    FIELD_TRUE_POSITIVES,
    FIELD_FALSE_POSITIVES,
    FIELD_FALSE_NEGATIVES,
    FIELD_PRECISION,
    FIELD_RECALL,
    FIELD_F1,
    FIELD_COUNT
} class_field;

static const char *const class_field_keys[FIELD_COUNT] = {
    "name",           "labelled",        "positives", "threshold", "average_precision",
    "true_positives", "false_positives", "false_negatives", "precision", "recall",
    "f1",
};

static void write_class_value(FILE *stream, const eval_report *report, size_t k, class_field field) {
    const eval_class_metrics *metrics = &report->per_class[k];
    if (field == FIELD_NAME) {
        write_json_string(stream, report->class_names[k]);
        return;
    }
    if (field == FIELD_LABELLED) {
        fputs(metrics->labelled ? "true" : "false", stream);
        return;
    }
    if (field == FIELD_THRESHOLD) {
        fprintf(stream, "%" PRId32, report->thresholds[k]);
        return;
    }
    if (!metrics->labelled) {
        fputs("null", stream);
        return;
    }
    switch (field) {
    case FIELD_POSITIVES:
        fprintf(stream, "%" PRId64, metrics->positives);
        break;
    case FIELD_AVERAGE_PRECISION:
        write_json_number(stream, metrics->average_precision);
        break;
    case FIELD_TRUE_POSITIVES:
        fprintf(stream, "%" PRId64, metrics->true_positives);
        break;
    case FIELD_FALSE_POSITIVES:
        fprintf(stream, "%" PRId64, metrics->false_positives);
        break;
    case FIELD_FALSE_NEGATIVES:
        fprintf(stream, "%" PRId64, metrics->false_negatives);
        break;
    case FIELD_PRECISION:
        write_json_number(stream, metrics->precision);
        break;
    case FIELD_RECALL:
        write_json_number(stream, metrics->recall);
        break;
    default:
        write_json_number(stream, metrics->f1);
        break;
    }
}

/* "per_class": one array per field, each indexed by class. */
static void write_per_class(FILE *stream, const eval_report *report) {
    fputs("\"per_class\": {", stream);
    for (int field = 0; field < FIELD_COUNT; field++) {
        fprintf(stream, "%s\"%s\": [", field > 0 ? ", " : "", class_field_keys[field]);
        for (size_t k = 0; k < report->class_count; k++) {
            if (k > 0) {
                fputs(", ", stream);
            }
            write_class_value(stream, report, k, (class_field)field);
        }
        fputc(']', stream);
    }
    fputc('}', stream);
}

static void write_failed_photos(FILE *stream, const eval_report *report) {
    fputs("\"failed_photos\": [", stream);
    size_t written = 0;
    for (size_t i = 0; i < report->photo_count; i++) {
        if (report->failures[i] == NULL) {
            continue;
        }
        fputs(written > 0 ? ", {\"file\": " : "{\"file\": ", stream);
        write_json_string(stream, report->files[i]);
        fputs(", \"error\": ", stream);
        write_json_string(stream, report->failures[i]);
        fputc('}', stream);
        written++;
    }
    fputc(']', stream);
}

static void write_summary_number(FILE *stream, const char *key, double value) {
    fprintf(stream, ", \"%s\": ", key);
    write_json_number(stream, value);
}

picotag_status eval_report_write_json(FILE *stream, const eval_report *report, picotag_error *error) {
    const eval_summary *summary = report->summary;
    size_t labelled = 0;
    for (size_t k = 0; k < report->class_count; k++) {
        labelled += report->per_class[k].labelled != 0;
    }

    fputs("{\"model\": ", stream);
    write_json_string(stream, report->model_path);
    fputs(", \"labels\": ", stream);
    write_json_string(stream, report->labels_path);
    fprintf(stream, ", \"photo_count\": %zu, \"failed_count\": %zu, ",
            report->photo_count - report->failed_count, report->failed_count);
    write_failed_photos(stream, report);
    fprintf(stream, ", \"class_count\": %zu, \"labelled_class_count\": %zu, \"classes_with_positives\": %zu",
            report->class_count, labelled, summary->classes_with_positives);
    fputs(", \"ignored\": [", stream);
    for (size_t i = 0; i < report->ignored_name_count; i++) {
        fputs(i > 0 ? ", " : "", stream);
        write_json_string(stream, report->ignored_names[i]);
    }
    fputc(']', stream);

    write_summary_number(stream, "mAP", summary->mean_average_precision);
    write_summary_number(stream, "CP", summary->class_precision);
    write_summary_number(stream, "CR", summary->class_recall);
    write_summary_number(stream, "CF1", summary->class_f1);
    write_summary_number(stream, "OP", summary->overall_precision);
    write_summary_number(stream, "OR", summary->overall_recall);
    write_summary_number(stream, "OF1", summary->overall_f1);
    fputs(", ", stream);
    write_per_class(stream, report);
    fputs("}\n", stream);

    if (fflush(stream) != 0 || ferror(stream)) {
        return picotag_error_set(error, PICOTAG_ERROR_IO, "cannot write the JSON report");
    }
    return PICOTAG_OK;
}
