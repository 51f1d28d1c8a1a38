/*
 * The outputs of `picotag eval`: a table for people, JSON for programs, and
 * a CSV of the raw logits from which the metrics can be recomputed.
 * docs/EVAL.md describes each format.
 */
#ifndef PICOTAG_EVAL_REPORT_H
#define PICOTAG_EVAL_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "eval/metrics.h"
#include "picotag.h"

typedef struct eval_report {
    const char *model_path;
    const char *labels_path;
    size_t class_count;
    const char *const *class_names;      /* class_count English names */
    const int32_t *thresholds;           /* class_count: tagged when logit >= threshold */
    size_t photo_count;                  /* rows of the label file */
    const char *const *files;            /* photo_count, as the label file writes them */
    const char *const *failures;         /* photo_count: NULL, or why the photo was excluded */
    size_t failed_count;
    const char *const *ignored_names;    /* label-file columns or categories that match no class */
    size_t ignored_name_count;
    const char *ignored_kind;            /* "columns" or "categories" */
    const eval_class_metrics *per_class; /* class_count */
    const eval_summary *summary;
} eval_report;

/* Writes the summary lines and the per-class table, in percent. Returns
 * PICOTAG_ERROR_IO when the stream reports a write error. */
picotag_status eval_report_write_table(FILE *stream, const eval_report *report, picotag_error *error);

/* Writes one JSON object and a newline. Ratios are fractions in [0, 1]
 * printed with 17 significant digits, and undefined values are null. */
picotag_status eval_report_write_json(FILE *stream, const eval_report *report, picotag_error *error);

/* Writes `path`: a header `file,<class names>`, then one row per photo
 * that succeeded with its int32 logits. Fields are quoted as RFC 4180
 * requires. */
picotag_status eval_write_logits_csv(const char *path, const char *const *class_names,
                                     size_t class_count, const char *const *files,
                                     const int32_t *logits, const uint8_t *succeeded,
                                     size_t photo_count, picotag_error *error);

#endif
