/* The readable report: summary lines, then one table row per class. */
#include <math.h>
#include <stdio.h>

#include "engine/error.h"
#include "eval/report.h"

static void write_percent_cell(FILE *stream, double fraction, int defined) {
    if (defined && !isnan(fraction)) {
        fprintf(stream, " %7.2f", 100.0 * fraction);
    } else {
        fprintf(stream, " %7s", "-");
    }
}

static void write_summary(FILE *stream, const eval_report *report) {
    const eval_summary *summary = report->summary;
    size_t labelled = 0;
    for (size_t k = 0; k < report->class_count; k++) {
        labelled += report->per_class[k].labelled != 0;
    }

    fprintf(stream, "model       %s (%zu classes)\n", report->model_path, report->class_count);
    fprintf(stream, "labels      %s (%zu of the classes labelled, %zu with positives)\n",
            report->labels_path, labelled, summary->classes_with_positives);
    fprintf(stream, "photos      %zu evaluated, %zu failed and excluded\n",
            report->photo_count - report->failed_count, report->failed_count);
    if (report->ignored_name_count > 0) {
        fprintf(stream, "ignored     %zu %s that name no class of the model:", report->ignored_name_count,
                report->ignored_kind);
        for (size_t i = 0; i < report->ignored_name_count; i++) {
            fprintf(stream, "%s %s", i > 0 ? "," : "", report->ignored_names[i]);
        }
        fputc('\n', stream);
    }
    fprintf(stream, "mAP         %.2f %% (mean over the %zu classes with positives)\n",
            100.0 * summary->mean_average_precision, summary->classes_with_positives);
    fprintf(stream, "thresholds  the model's own: tagged when logit >= threshold\n");
    fprintf(stream, "per class   CP %.2f %%  CR %.2f %%  CF1 %.2f %%\n", 100.0 * summary->class_precision,
            100.0 * summary->class_recall, 100.0 * summary->class_f1);
    fprintf(stream, "overall     OP %.2f %%  OR %.2f %%  OF1 %.2f %%\n",
            100.0 * summary->overall_precision, 100.0 * summary->overall_recall,
            100.0 * summary->overall_f1);
}

static void write_class_rows(FILE *stream, const eval_report *report) {
    fprintf(stream, "\n%5s  %-16s %9s %7s %7s %7s %7s\n", "class", "name", "positives", "AP %", "P %",
            "R %", "F1 %");
    for (size_t k = 0; k < report->class_count; k++) {
        const eval_class_metrics *metrics = &report->per_class[k];
        fprintf(stream, "%5zu  %-16s", k, report->class_names[k]);
        if (!metrics->labelled) {
            fprintf(stream, " %9s", "-");
        } else {
            fprintf(stream, " %9lld", (long long)metrics->positives);
        }
        write_percent_cell(stream, metrics->average_precision, metrics->labelled);
        write_percent_cell(stream, metrics->precision, metrics->labelled);
        write_percent_cell(stream, metrics->recall, metrics->labelled && metrics->positives > 0);
        write_percent_cell(stream, metrics->f1, metrics->labelled && metrics->positives > 0);
        fprintf(stream, "%s\n", metrics->labelled ? "" : "  (not in the label file)");
    }
}

picotag_status eval_report_write_table(FILE *stream, const eval_report *report, picotag_error *error) {
    write_summary(stream, report);
    write_class_rows(stream, report);
    if (fflush(stream) != 0 || ferror(stream)) {
        return picotag_error_set(error, PICOTAG_ERROR_IO, "cannot write the report");
    }
    return PICOTAG_OK;
}
