#include "eval/metrics.h"

#include <math.h>
#include <stdlib.h>

#include "engine/error.h"

/* One photo's score for the class being ranked. */
typedef struct ranked_photo {
    int32_t score;
    uint32_t photo;
} ranked_photo;

/* Orders by score, highest first, then by photo index. The average
 * precision does not depend on the order within a tie, so the index only
 * makes the sort deterministic. */
static int compare_ranked_photos(const void *a, const void *b) {
    const ranked_photo *left = a;
    const ranked_photo *right = b;
    if (left->score != right->score) {
        return left->score > right->score ? -1 : 1;
    }
    return (left->photo > right->photo) - (left->photo < right->photo);
}

static int class_is_labelled(const eval_table *table, size_t class_index) {
    return table->class_labelled == NULL || table->class_labelled[class_index] != 0;
}

static int64_t count_positives(const eval_table *table, size_t class_index) {
    int64_t positives = 0;
    for (size_t i = 0; i < table->photo_count; i++) {
        positives += table->truth[i * table->class_count + class_index] != 0;
    }
    return positives;
}

static picotag_status check_table(const eval_table *table, picotag_error *error) {
    if (table == NULL || (table->photo_count > 0 && (table->scores == NULL || table->truth == NULL))) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "metrics: the table and its scores and truth must not be NULL");
    }
    if (table->photo_count > UINT32_MAX) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "metrics: %zu photos, at most %u are supported", table->photo_count,
                                 (unsigned)UINT32_MAX);
    }
    return PICOTAG_OK;
}

/* Computes the average precision of one class. `ranking` has room for
 * photo_count entries. Each group of equal scores is walked as one block,
 * and every positive in it gets the precision at the end of the block. */
static double average_precision_ranked(const eval_table *table, size_t class_index,
                                       ranked_photo *ranking) {
    const size_t count = table->photo_count;
    const int64_t positives = count_positives(table, class_index);
    if (positives == 0) {
        return NAN;
    }

    for (size_t i = 0; i < count; i++) {
        ranking[i].score = table->scores[i * table->class_count + class_index];
        ranking[i].photo = (uint32_t)i;
    }
    qsort(ranking, count, sizeof(*ranking), compare_ranked_photos);

    double precision_sum = 0.0;
    int64_t positives_so_far = 0;
    size_t group_start = 0;
    while (group_start < count) {
        size_t group_end = group_start;
        int64_t group_positives = 0;
        while (group_end < count && ranking[group_end].score == ranking[group_start].score) {
            group_positives += table->truth[(size_t)ranking[group_end].photo * table->class_count +
                                            class_index] != 0;
            group_end++;
        }

        positives_so_far += group_positives;
        const double precision = (double)positives_so_far / (double)group_end;
        for (int64_t p = 0; p < group_positives; p++) {
            precision_sum += precision;
        }
        group_start = group_end;
    }
    return precision_sum / (double)positives;
}

static ranked_photo *allocate_ranking(const eval_table *table, picotag_error *error) {
    ranked_photo *ranking = malloc((table->photo_count > 0 ? table->photo_count : 1) * sizeof(*ranking));
    if (ranking == NULL) {
        picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                          "metrics: out of memory ranking %zu photos", table->photo_count);
    }
    return ranking;
}

picotag_status eval_average_precision(const eval_table *table, size_t class_index,
                                      double *average_precision, picotag_error *error) {
    picotag_status status = check_table(table, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    if (class_index >= table->class_count || average_precision == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "metrics: class %zu out of range (%zu classes)", class_index,
                                 table->class_count);
    }

    ranked_photo *ranking = allocate_ranking(table, error);
    if (ranking == NULL) {
        return PICOTAG_ERROR_OUT_OF_MEMORY;
    }
    *average_precision = average_precision_ranked(table, class_index, ranking);
    free(ranking);
    return PICOTAG_OK;
}

static picotag_status no_positives_error(picotag_error *error) {
    return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                             "no labelled class has a positive photo, so the metrics are undefined");
}

picotag_status eval_mean_average_precision(const eval_table *table, double *per_class,
                                           double *mean_average_precision,
                                           size_t *classes_with_positives, picotag_error *error) {
    picotag_status status = check_table(table, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    ranked_photo *ranking = allocate_ranking(table, error);
    if (ranking == NULL) {
        return PICOTAG_ERROR_OUT_OF_MEMORY;
    }

    double sum = 0.0;
    size_t counted = 0;
    for (size_t k = 0; k < table->class_count; k++) {
        double average_precision = NAN;
        if (class_is_labelled(table, k)) {
            average_precision = average_precision_ranked(table, k, ranking);
        }
        if (per_class != NULL) {
            per_class[k] = average_precision;
        }
        if (!isnan(average_precision)) {
            sum += average_precision;
            counted++;
        }
    }
    free(ranking);

    if (classes_with_positives != NULL) {
        *classes_with_positives = counted;
    }
    if (counted == 0) {
        return no_positives_error(error);
    }
    if (mean_average_precision != NULL) {
        *mean_average_precision = sum / (double)counted;
    }
    return PICOTAG_OK;
}

/* numerator / denominator, or 0 when the denominator is 0. */
static double ratio_or_zero(double numerator, double denominator) {
    return denominator > 0.0 ? numerator / denominator : 0.0;
}

/* The harmonic mean 2ab / (a + b), or 0 when a + b = 0. */
static double harmonic_mean(double a, double b) {
    return a + b > 0.0 ? 2.0 * a * b / (a + b) : 0.0;
}

static void count_at_threshold(const eval_table *table, size_t class_index, int32_t threshold,
                               eval_class_metrics *metrics) {
    for (size_t i = 0; i < table->photo_count; i++) {
        const size_t at = i * table->class_count + class_index;
        const int tagged = table->scores[at] >= threshold;
        const int present = table->truth[at] != 0;
        metrics->positives += present;
        metrics->true_positives += tagged && present;
        metrics->false_positives += tagged && !present;
        metrics->false_negatives += !tagged && present;
    }
    const double tp = (double)metrics->true_positives;
    metrics->precision = ratio_or_zero(tp, tp + (double)metrics->false_positives);
    metrics->recall = ratio_or_zero(tp, tp + (double)metrics->false_negatives);
    metrics->f1 = harmonic_mean(metrics->precision, metrics->recall);
}

picotag_status eval_threshold_metrics(const eval_table *table, const int32_t *thresholds,
                                      eval_class_metrics *per_class, eval_summary *summary,
                                      picotag_error *error) {
    picotag_status status = check_table(table, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    if (thresholds == NULL || per_class == NULL || summary == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "metrics: thresholds and results must not be NULL");
    }

    double precision_sum = 0.0;
    double recall_sum = 0.0;
    size_t classes_with_positives = 0;
    int64_t true_positives = 0;
    int64_t false_positives = 0;
    int64_t false_negatives = 0;
    for (size_t k = 0; k < table->class_count; k++) {
        eval_class_metrics *metrics = &per_class[k];
        const double average_precision = metrics->average_precision;
        *metrics = (eval_class_metrics){.average_precision = average_precision};
        if (!class_is_labelled(table, k)) {
            continue;
        }
        metrics->labelled = 1;
        count_at_threshold(table, k, thresholds[k], metrics);

        true_positives += metrics->true_positives;
        false_positives += metrics->false_positives;
        false_negatives += metrics->false_negatives;
        if (metrics->positives > 0) {
            precision_sum += metrics->precision;
            recall_sum += metrics->recall;
            classes_with_positives++;
        }
    }
    if (classes_with_positives == 0) {
        return no_positives_error(error);
    }

    summary->classes_with_positives = classes_with_positives;
    summary->class_precision = precision_sum / (double)classes_with_positives;
    summary->class_recall = recall_sum / (double)classes_with_positives;
    summary->class_f1 = harmonic_mean(summary->class_precision, summary->class_recall);
    const double tp = (double)true_positives;
    summary->overall_precision = ratio_or_zero(tp, tp + (double)false_positives);
    summary->overall_recall = ratio_or_zero(tp, tp + (double)false_negatives);
    summary->overall_f1 = harmonic_mean(summary->overall_precision, summary->overall_recall);
    return PICOTAG_OK;
}

picotag_status eval_compute_metrics(const eval_table *table, const int32_t *thresholds,
                                    eval_class_metrics *per_class, eval_summary *summary,
                                    picotag_error *error) {
    picotag_status status = check_table(table, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    if (per_class == NULL || summary == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "metrics: results must not be NULL");
    }
    double *average_precisions = malloc((table->class_count > 0 ? table->class_count : 1) * sizeof(double));
    if (average_precisions == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                 "metrics: out of memory for %zu classes", table->class_count);
    }

    *summary = (eval_summary){0};
    status = eval_mean_average_precision(table, average_precisions, &summary->mean_average_precision,
                                         &summary->classes_with_positives, error);
    if (status == PICOTAG_OK) {
        for (size_t k = 0; k < table->class_count; k++) {
            per_class[k].average_precision = average_precisions[k];
        }
        status = eval_threshold_metrics(table, thresholds, per_class, summary, error);
    }
    free(average_precisions);
    return status;
}
