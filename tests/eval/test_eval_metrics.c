/* Average precision, mean average precision and thresholded metrics on
 * small tables whose results are computed by hand. */
#include <stdlib.h>

#include "eval/metrics.h"
#include "eval_check.h"

static eval_table make_table(const int32_t *scores, const uint8_t *truth, size_t photos, size_t classes) {
    return (eval_table){
        .photo_count = photos,
        .class_count = classes,
        .scores = scores,
        .truth = truth,
        .class_labelled = NULL,
    };
}

/* The average precision of a single-class table. */
static double single_class_ap(const int32_t *scores, const uint8_t *truth, size_t photos) {
    const eval_table table = make_table(scores, truth, photos, 1);
    double average_precision = -1.0;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_OK, eval_average_precision(&table, 0, &average_precision, &error),
                 error.message);
    return average_precision;
}

/* AP straight from the definition: for each positive, the fraction of
 * positives among all photos that score at least as high. O(n^2). */
static double brute_force_ap(const int32_t *scores, const uint8_t *truth, size_t photos,
                             size_t stride, size_t class_index) {
    double sum = 0.0;
    int positives = 0;
    for (size_t i = 0; i < photos; i++) {
        if (!truth[i * stride + class_index]) {
            continue;
        }
        int at_least = 0;
        int positive_at_least = 0;
        for (size_t j = 0; j < photos; j++) {
            if (scores[j * stride + class_index] >= scores[i * stride + class_index]) {
                at_least++;
                positive_at_least += truth[j * stride + class_index] != 0;
            }
        }
        sum += (double)positive_at_least / at_least;
        positives++;
    }
    return positives > 0 ? sum / positives : NAN;
}

static uint32_t next_random(uint32_t *state) {
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

static void average_precision_perfect_ranking_is_one(void) {
    const int32_t scores[] = {900, 100, 200};
    const uint8_t truth[] = {1, 0, 0};
    CHECK_NEAR(1.0, single_class_ap(scores, truth, 3));

    const int32_t two_scores[] = {5, 40, -3, 30};
    const uint8_t two_truth[] = {0, 1, 0, 1};
    CHECK_NEAR(1.0, single_class_ap(two_scores, two_truth, 4));
}

static void average_precision_worst_ranking(void) {
    /* The single positive ranked last of 4: precision 1/4. */
    const int32_t scores[] = {10, 90, 80, 70};
    const uint8_t truth[] = {1, 0, 0, 0};
    CHECK_NEAR(0.25, single_class_ap(scores, truth, 4));

    /* Two positives at ranks 3 and 4: (1/3 + 2/4) / 2. */
    const uint8_t two_last[] = {1, 0, 0, 1};
    CHECK_NEAR((1.0 / 3.0 + 2.0 / 4.0) / 2.0, single_class_ap(scores, two_last, 4));
}

static void average_precision_hand_computed(void) {
    /* Positives at ranks 1 and 3: (1/1 + 2/3) / 2. */
    const int32_t scores[] = {9, 8, 7, 6};
    const uint8_t truth[] = {1, 0, 1, 0};
    CHECK_NEAR((1.0 + 2.0 / 3.0) / 2.0, single_class_ap(scores, truth, 4));
}

static void average_precision_tie_counts_whole_group(void) {
    /* A positive tied with a negative: precision 1/2 in either order. */
    const int32_t tied[] = {5, 5};
    const uint8_t positive_first[] = {1, 0};
    const uint8_t positive_second[] = {0, 1};
    CHECK_NEAR(0.5, single_class_ap(tied, positive_first, 2));
    CHECK_NEAR(0.5, single_class_ap(tied, positive_second, 2));

    /* Behind a positive, a group of three with two positives: every
     * positive in the group gets precision 3/4. */
    const int32_t scores[] = {9, 3, 3, 3};
    const uint8_t truth[] = {1, 1, 0, 1};
    CHECK_NEAR((1.0 + 0.75 + 0.75) / 3.0, single_class_ap(scores, truth, 4));
}

static void average_precision_all_tied(void) {
    /* Every photo ties, so each positive counts all 5 photos: AP = 2/5. */
    const int32_t scores[] = {-7, -7, -7, -7, -7};
    const uint8_t truth[] = {0, 1, 0, 0, 1};
    CHECK_NEAR(0.4, single_class_ap(scores, truth, 5));
}

static void average_precision_extreme_scores(void) {
    const int32_t scores[] = {INT32_MIN, INT32_MAX, 0};
    const uint8_t top[] = {0, 1, 0};
    const uint8_t bottom[] = {1, 0, 0};
    CHECK_NEAR(1.0, single_class_ap(scores, top, 3));
    CHECK_NEAR(1.0 / 3.0, single_class_ap(scores, bottom, 3));
}

static void average_precision_without_positives_is_nan(void) {
    const int32_t scores[] = {3, 4};
    const uint8_t truth[] = {0, 0};
    CHECK_NAN(single_class_ap(scores, truth, 2));
}

static void average_precision_matches_definition_with_ties(void) {
    enum { PHOTOS = 40, ROUNDS = 200 };
    int32_t scores[PHOTOS];
    uint8_t truth[PHOTOS];
    uint32_t state = 7;
    int mismatches = 0;
    for (int round = 0; round < ROUNDS; round++) {
        const size_t photos = 1 + next_random(&state) % PHOTOS;
        for (size_t i = 0; i < photos; i++) {
            scores[i] = (int32_t)(next_random(&state) % 6) - 3;   /* few values: many ties */
            truth[i] = next_random(&state) % 5 < 2;
        }
        const double expected = brute_force_ap(scores, truth, photos, 1, 0);
        const double actual = single_class_ap(scores, truth, photos);
        if (isnan(expected) ? !isnan(actual) : fabs(expected - actual) > EVAL_TOLERANCE) {
            if (mismatches++ == 0) {
                printf("  round %d: expected %.17g, actual %.17g\n", round, expected, actual);
            }
        }
    }
    CHECK_EQ(0, mismatches);
}

static void average_precision_independent_of_photo_order(void) {
    enum { PHOTOS = 30 };
    int32_t scores[PHOTOS];
    uint8_t truth[PHOTOS];
    int32_t reversed_scores[PHOTOS];
    uint8_t reversed_truth[PHOTOS];
    uint32_t state = 99;
    for (size_t i = 0; i < PHOTOS; i++) {
        scores[i] = (int32_t)(next_random(&state) % 4);
        truth[i] = next_random(&state) % 2;
    }
    truth[0] = 1;
    for (size_t i = 0; i < PHOTOS; i++) {
        reversed_scores[i] = scores[PHOTOS - 1 - i];
        reversed_truth[i] = truth[PHOTOS - 1 - i];
    }
    CHECK_NEAR(single_class_ap(scores, truth, PHOTOS),
               single_class_ap(reversed_scores, reversed_truth, PHOTOS));
}

static void mean_skips_classes_without_positives(void) {
    /* Class 0 ranks its positive first, so its AP is 1. Class 1 has
     * positives at ranks 1 and 3: AP (1 + 2/3) / 2. Class 2 has none. */
    const int32_t scores[] = {
        90, 50, 30,
        20, 80, 60,
        40, 30, 10,
    };
    const uint8_t truth[] = {
        1, 0, 0,
        0, 1, 0,
        0, 1, 0,
    };
    const eval_table table = make_table(scores, truth, 3, 3);
    double per_class[3];
    double mean = -1.0;
    size_t counted = 0;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_OK, eval_mean_average_precision(&table, per_class, &mean, &counted, &error),
                 error.message);
    CHECK_NEAR(1.0, per_class[0]);
    CHECK_NEAR((1.0 + 2.0 / 3.0) / 2.0, per_class[1]);
    CHECK_NAN(per_class[2]);
    CHECK_EQ(2, counted);
    CHECK_NEAR((1.0 + (1.0 + 2.0 / 3.0) / 2.0) / 2.0, mean);
}

static void mean_matches_definition_on_random_table(void) {
    enum { PHOTOS = 50, CLASSES = 7 };
    int32_t scores[PHOTOS * CLASSES];
    uint8_t truth[PHOTOS * CLASSES];
    uint32_t state = 2024;
    for (size_t i = 0; i < PHOTOS * CLASSES; i++) {
        scores[i] = (int32_t)(next_random(&state) % 9) * 100 - 400;
        truth[i] = next_random(&state) % 3 == 0;
    }
    /* Class 4 has no positives and must not count. */
    for (size_t i = 0; i < PHOTOS; i++) {
        truth[i * CLASSES + 4] = 0;
    }

    double expected_sum = 0.0;
    for (size_t k = 0; k < CLASSES; k++) {
        if (k != 4) {
            expected_sum += brute_force_ap(scores, truth, PHOTOS, CLASSES, k);
        }
    }
    const eval_table table = make_table(scores, truth, PHOTOS, CLASSES);
    double mean = -1.0;
    size_t counted = 0;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_OK, eval_mean_average_precision(&table, NULL, &mean, &counted, &error),
                 error.message);
    CHECK_EQ(CLASSES - 1, counted);
    CHECK_NEAR(expected_sum / (CLASSES - 1), mean);
}

static void mean_without_any_positive_is_an_error(void) {
    const int32_t scores[] = {1, 2, 3, 4};
    const uint8_t truth[] = {0, 0, 0, 0};
    const eval_table table = make_table(scores, truth, 2, 2);
    double mean = -1.0;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 eval_mean_average_precision(&table, NULL, &mean, NULL, &error), error.message);
    CHECK_CONTAINS(error.message, "no labelled class has a positive photo");

    const int32_t thresholds[] = {0, 0};
    eval_class_metrics per_class[2];
    eval_summary summary;
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 eval_threshold_metrics(&table, thresholds, per_class, &summary, &error),
                 error.message);
}

static void threshold_is_inclusive(void) {
    const int32_t scores[] = {500, 499};
    const uint8_t truth[] = {1, 1};
    const int32_t thresholds[] = {500};
    const eval_table table = make_table(scores, truth, 2, 1);
    eval_class_metrics per_class[1];
    eval_summary summary;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_OK, eval_threshold_metrics(&table, thresholds, per_class, &summary, &error),
                 error.message);
    CHECK_EQ(1, per_class[0].true_positives);
    CHECK_EQ(1, per_class[0].false_negatives);
    CHECK_NEAR(0.5, per_class[0].recall);
}

static void threshold_metrics_hand_computed(void) {
    /* Class 0 tags photos 0 and 1: TP 1, FP 1, FN 1, so P = R = F1 = 1/2.
     * Class 1 tags photos 0 and 2: TP 2, so P = R = F1 = 1. */
    const int32_t scores[] = {
        9, 6,
        7, 2,
        1, 8,
        4, 3,
    };
    const uint8_t truth[] = {
        1, 1,
        0, 0,
        1, 1,
        0, 0,
    };
    const int32_t thresholds[] = {5, 5};
    const eval_table table = make_table(scores, truth, 4, 2);
    eval_class_metrics per_class[2];
    eval_summary summary;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_OK, eval_threshold_metrics(&table, thresholds, per_class, &summary, &error),
                 error.message);

    CHECK_EQ(2, per_class[0].positives);
    CHECK_EQ(1, per_class[0].true_positives);
    CHECK_EQ(1, per_class[0].false_positives);
    CHECK_EQ(1, per_class[0].false_negatives);
    CHECK_NEAR(0.5, per_class[0].precision);
    CHECK_NEAR(0.5, per_class[0].recall);
    CHECK_NEAR(0.5, per_class[0].f1);
    CHECK_NEAR(1.0, per_class[1].precision);
    CHECK_NEAR(1.0, per_class[1].recall);
    CHECK_NEAR(1.0, per_class[1].f1);

    CHECK_NEAR(0.75, summary.class_precision);
    CHECK_NEAR(0.75, summary.class_recall);
    CHECK_NEAR(0.75, summary.class_f1);
    CHECK_NEAR(0.75, summary.overall_precision);   /* TP 3 of 4 tags */
    CHECK_NEAR(0.75, summary.overall_recall);      /* TP 3 of 4 positives */
    CHECK_NEAR(0.75, summary.overall_f1);
}

static void class_f1_is_harmonic_mean_of_means(void) {
    /* Class 0: P 1, R 1/2. Class 1: P 1/3, R 1. CP = 2/3, CR = 3/4, and
     * CF1 = 2 CP CR / (CP + CR), not the mean of the per-class F1. */
    const int32_t scores[] = {
        9, 9,
        1, 9,
        1, 9,
    };
    const uint8_t truth[] = {
        1, 1,
        1, 0,
        0, 0,
    };
    const int32_t thresholds[] = {5, 5};
    const eval_table table = make_table(scores, truth, 3, 2);
    eval_class_metrics per_class[2];
    eval_summary summary;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_OK, eval_threshold_metrics(&table, thresholds, per_class, &summary, &error),
                 error.message);
    const double cp = (1.0 + 1.0 / 3.0) / 2.0;
    const double cr = (0.5 + 1.0) / 2.0;
    CHECK_NEAR(cp, summary.class_precision);
    CHECK_NEAR(cr, summary.class_recall);
    CHECK_NEAR(2.0 * cp * cr / (cp + cr), summary.class_f1);
    CHECK_NEAR(2.0 * 1.0 * 0.5 / 1.5, per_class[0].f1);
    CHECK_NEAR(2.0 / 4.0, summary.overall_precision);  /* TP 2 of 4 tags */
    CHECK_NEAR(2.0 / 3.0, summary.overall_recall);     /* TP 2 of 3 positives */
}

static void class_without_tags_has_zero_precision(void) {
    const int32_t scores[] = {3, 9, 2, 1};
    const uint8_t truth[] = {1, 1, 0, 0};
    const int32_t thresholds[] = {100, 5};
    const eval_table table = make_table(scores, truth, 2, 2);
    eval_class_metrics per_class[2];
    eval_summary summary;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_OK, eval_threshold_metrics(&table, thresholds, per_class, &summary, &error),
                 error.message);
    CHECK_NEAR(0.0, per_class[0].precision);
    CHECK_NEAR(0.0, per_class[0].recall);
    CHECK_NEAR(0.0, per_class[0].f1);
    CHECK_NEAR(0.5, summary.class_precision);
    CHECK_NEAR(1.0, summary.overall_precision);
    CHECK_NEAR(0.5, summary.overall_recall);
    CHECK_NEAR(2.0 * 1.0 * 0.5 / 1.5, summary.overall_f1);
}

static void class_without_positives_counts_only_in_overall(void) {
    /* Class 1 has no positives but tags photo 0: its false positive lowers
     * OP, while CP and CR average class 0 alone. */
    const int32_t scores[] = {
        9, 9,
        1, 1,
    };
    const uint8_t truth[] = {
        1, 0,
        0, 0,
    };
    const int32_t thresholds[] = {5, 5};
    const eval_table table = make_table(scores, truth, 2, 2);
    eval_class_metrics per_class[2];
    eval_summary summary;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_OK, eval_threshold_metrics(&table, thresholds, per_class, &summary, &error),
                 error.message);
    CHECK_EQ(1, summary.classes_with_positives);
    CHECK_EQ(1, per_class[1].false_positives);
    CHECK_NEAR(1.0, summary.class_precision);
    CHECK_NEAR(1.0, summary.class_recall);
    CHECK_NEAR(0.5, summary.overall_precision);
    CHECK_NEAR(1.0, summary.overall_recall);
    CHECK_NEAR(2.0 / 3.0, summary.overall_f1);
}

static void unlabelled_class_is_left_out(void) {
    /* Class 1 is not labelled: its positives and its tags count nowhere. */
    const int32_t scores[] = {
        9, 9,
        1, 9,
    };
    const uint8_t truth[] = {
        1, 1,
        0, 0,
    };
    const uint8_t labelled[] = {1, 0};
    const int32_t thresholds[] = {5, 5};
    eval_table table = make_table(scores, truth, 2, 2);
    table.class_labelled = labelled;
    eval_class_metrics per_class[2];
    eval_summary summary;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_OK, eval_compute_metrics(&table, thresholds, per_class, &summary, &error),
                 error.message);
    CHECK_EQ(1, per_class[0].labelled);
    CHECK_EQ(0, per_class[1].labelled);
    CHECK_NAN(per_class[1].average_precision);
    CHECK_EQ(0, per_class[1].positives);
    CHECK_EQ(0, per_class[1].false_positives);
    CHECK_EQ(1, summary.classes_with_positives);
    CHECK_NEAR(1.0, summary.mean_average_precision);
    CHECK_NEAR(1.0, summary.overall_precision);
}

static void compute_metrics_fills_everything(void) {
    const int32_t scores[] = {
        9, 6,
        7, 2,
        1, 8,
        4, 3,
    };
    const uint8_t truth[] = {
        1, 1,
        0, 0,
        1, 1,
        0, 0,
    };
    const int32_t thresholds[] = {5, 5};
    const eval_table table = make_table(scores, truth, 4, 2);
    eval_class_metrics per_class[2];
    eval_summary summary;
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_OK, eval_compute_metrics(&table, thresholds, per_class, &summary, &error),
                 error.message);
    /* Class 0 ranks 9, 7, 4, 1 with positives at ranks 1 and 4. */
    CHECK_NEAR((1.0 + 2.0 / 4.0) / 2.0, per_class[0].average_precision);
    CHECK_NEAR(1.0, per_class[1].average_precision);
    CHECK_NEAR((0.75 + 1.0) / 2.0, summary.mean_average_precision);
    CHECK_EQ(2, summary.classes_with_positives);
    CHECK_NEAR(0.75, summary.class_precision);
    CHECK_EQ(1, per_class[0].true_positives);
}

static void empty_table_is_an_error(void) {
    const eval_table table = make_table(NULL, NULL, 0, 3);
    eval_class_metrics per_class[3];
    eval_summary summary;
    const int32_t thresholds[] = {0, 0, 0};
    picotag_error error = {{0}};
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT,
                 eval_compute_metrics(&table, thresholds, per_class, &summary, &error), error.message);
}

int main(void) {
    RUN_TEST(average_precision_perfect_ranking_is_one);
    RUN_TEST(average_precision_worst_ranking);
    RUN_TEST(average_precision_hand_computed);
    RUN_TEST(average_precision_tie_counts_whole_group);
    RUN_TEST(average_precision_all_tied);
    RUN_TEST(average_precision_extreme_scores);
    RUN_TEST(average_precision_without_positives_is_nan);
    RUN_TEST(average_precision_matches_definition_with_ties);
    RUN_TEST(average_precision_independent_of_photo_order);
    RUN_TEST(mean_skips_classes_without_positives);
    RUN_TEST(mean_matches_definition_on_random_table);
    RUN_TEST(mean_without_any_positive_is_an_error);
    RUN_TEST(threshold_is_inclusive);
    RUN_TEST(threshold_metrics_hand_computed);
    RUN_TEST(class_f1_is_harmonic_mean_of_means);
    RUN_TEST(class_without_tags_has_zero_precision);
    RUN_TEST(class_without_positives_counts_only_in_overall);
    RUN_TEST(unlabelled_class_is_left_out);
    RUN_TEST(compute_metrics_fills_everything);
    RUN_TEST(empty_table_is_an_error);
    return test_summary();
}
