/*
 * Multi-label metrics over a table of integer scores (one logit per photo
 * and class) and 0/1 ground truth: average precision per class, mean
 * average precision, and precision, recall and F1 at per-class thresholds.
 * docs/EVAL.md gives the equations.
 *
 * Ties: photos with equal scores are ranked together. The precision at a
 * positive photo with score s is
 *
 *     #{positives with score >= s} / #{photos with score >= s},
 *
 * so the result does not depend on the order of the photos. This is the
 * rule of picotag_train.metrics and of scikit-learn's
 * average_precision_score, and it matters here because integer logits tie
 * often.
 */
#ifndef PICOTAG_EVAL_METRICS_H
#define PICOTAG_EVAL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "picotag.h"

/* A photos x classes table, row-major: element (i, k) is at
 * i * class_count + k. */
typedef struct eval_table {
    size_t photo_count;
    size_t class_count;
    const int32_t *scores;
    const uint8_t *truth;            /* non-zero: the photo shows the class */
    /* class_count flags, non-zero for a class that the label file covers,
     * or NULL when it covers every class. A class that is not labelled is
     * left out of every metric, because its truth is unknown rather than
     * negative. */
    const uint8_t *class_labelled;
} eval_table;

/* One class's results. */
typedef struct eval_class_metrics {
    int labelled;                    /* 0: the label file lacks this class; the rest is zero or NaN */
    int64_t positives;               /* photos that show the class */
    double average_precision;        /* NaN when the class has no positives or is not labelled */
    int64_t true_positives;          /* at the threshold: tagged and present */
    int64_t false_positives;         /* tagged, not present */
    int64_t false_negatives;         /* present, not tagged */
    double precision;                /* TP / (TP + FP), 0 when nothing is tagged */
    double recall;                   /* TP / (TP + FN), 0 when there are no positives */
    double f1;                       /* 2 P R / (P + R), 0 when P + R = 0 */
} eval_class_metrics;

/* The means over classes. Every ratio is a fraction in [0, 1]. */
typedef struct eval_summary {
    size_t classes_with_positives;   /* labelled classes with at least one positive */
    double mean_average_precision;   /* mAP over classes_with_positives */
    double class_precision;          /* CP: mean per-class precision over classes_with_positives */
    double class_recall;             /* CR */
    double class_f1;                 /* CF1 = 2 CP CR / (CP + CR) */
    double overall_precision;        /* OP: sum TP / sum (TP + FP) over labelled classes */
    double overall_recall;           /* OR: sum TP / sum (TP + FN) */
    double overall_f1;               /* OF1 = 2 OP OR / (OP + OR) */
} eval_summary;

/* Computes the average precision of class `class_index`: the mean, over the
 * photos that show the class, of the precision at that photo's score, with
 * ties ranked together. Stores NaN when the class has no positives. Fails
 * only when out of memory or on an invalid argument. */
picotag_status eval_average_precision(const eval_table *table, size_t class_index,
                                      double *average_precision, picotag_error *error);

/* Computes every class's average precision into `per_class` (class_count
 * entries, NaN for classes without positives or not labelled) and their
 * mean over the classes with positives. Fails with
 * PICOTAG_ERROR_INVALID_ARGUMENT when no labelled class has a positive,
 * because the mean is then undefined. */
picotag_status eval_mean_average_precision(const eval_table *table, double *per_class,
                                           double *mean_average_precision,
                                           size_t *classes_with_positives, picotag_error *error);

/* Fills every field of `per_class` (class_count entries) except
 * average_precision, which is left as it was, and the CP, CR, CF1, OP, OR,
 * OF1 and classes_with_positives fields of `summary`. A photo is
 * tagged with class k when scores(i, k) >= thresholds[k]. Fails with
 * PICOTAG_ERROR_INVALID_ARGUMENT when no labelled class has a positive. */
picotag_status eval_threshold_metrics(const eval_table *table, const int32_t *thresholds,
                                      eval_class_metrics *per_class, eval_summary *summary,
                                      picotag_error *error);

/* Computes everything: per-class average precision, counts and ratios,
 * and the summary. */
picotag_status eval_compute_metrics(const eval_table *table, const int32_t *thresholds,
                                    eval_class_metrics *per_class, eval_summary *summary,
                                    picotag_error *error);

#endif
