/* The tagger: integer threshold decisions, display probabilities, order of
 * tags, names and groups by language. */
#include <math.h>
#include <stdlib.h>

#include "picotag_tagger.h"
#include "test_check.h"
#include "test_model_writer.h"

static picotag_model *load_tiny_model(void) {
    /* tm_tiny_model's labels: person (threshold 1000, scale 0.01),
     * dog (-500, 0.02), car (0, 0.015). */
    test_model *description = tm_tiny_model(3);
    test_model_file file;
    picotag_model *model = NULL;
    picotag_error error;
    if (tm_serialize(description, &file) == 0) {
        CHECK_STATUS(PICOTAG_OK,
                     picotag_model_load_memory(file.bytes, file.size, "tiny.ptm", &model, &error),
                     error.message);
        tm_file_free(&file);
    }
    tm_destroy(description);
    return model;
}

static void threshold_is_inclusive(void) {
    picotag_model *model = load_tiny_model();
    CHECK(model != NULL);
    if (model == NULL) {
        return;
    }
    picotag_tagger_tag tags[3];

    const int32_t at_thresholds[3] = {1000, -500, 0};
    CHECK_EQ(3, picotag_tagger_select(model, at_thresholds, tags));

    const int32_t below_thresholds[3] = {999, -501, -1};
    CHECK_EQ(0, picotag_tagger_select(model, below_thresholds, tags));
    picotag_model_free(model);
}

static void tags_sorted_by_probability(void) {
    picotag_model *model = load_tiny_model();
    if (model == NULL) {
        return;
    }
    /* person: 2000 * 0.01 = 20; dog: 100 * 0.02 = 2; car: 10 * 0.015 = 0.15. */
    const int32_t logits[3] = {2000, 100, 10};
    picotag_tagger_tag tags[3];
    CHECK_EQ(3, picotag_tagger_select(model, logits, tags));
    CHECK_EQ(0, tags[0].class_index);
    CHECK_EQ(1, tags[1].class_index);
    CHECK_EQ(2, tags[2].class_index);
    CHECK_EQ(100, tags[1].logit);
    CHECK(tags[1].label == picotag_model_label(model, 1));
    CHECK(fabs(tags[1].probability - 1.0 / (1.0 + exp(-2.0))) < 1e-6);

    /* Equal probabilities keep class order: dog 0 and car 0 are both 0.5. */
    const int32_t ties[3] = {0, 0, 0};
    CHECK_EQ(2, picotag_tagger_select(model, ties, tags));
    CHECK_EQ(1, tags[0].class_index);
    CHECK_EQ(2, tags[1].class_index);
    picotag_model_free(model);
}

static void probability_saturates_without_nan(void) {
    CHECK(picotag_tagger_probability(0, 0.5f) == 0.5);
    CHECK(picotag_tagger_probability(INT32_MAX, 1.0f) == 1.0);
    CHECK(picotag_tagger_probability(INT32_MIN, 1.0f) == 0.0);
    const double p = picotag_tagger_probability(-200, 0.01f);
    CHECK(fabs(p - 1.0 / (1.0 + exp(2.0))) < 1e-6);
}

static void names_follow_language(void) {
    const picotag_label dog = {"dog", "개", "animal", "동물", 0, 0.01f};
    CHECK_CONTAINS(picotag_tagger_name(&dog, PICOTAG_LANGUAGE_ENGLISH), "dog");
    CHECK_CONTAINS(picotag_tagger_name(&dog, PICOTAG_LANGUAGE_KOREAN), "개");
    CHECK_CONTAINS(picotag_tagger_group(&dog, PICOTAG_LANGUAGE_KOREAN), "동물");

    /* A missing Korean name or group falls back to English. */
    const picotag_label partial = {"kite", "", "sports", "", 0, 0.01f};
    CHECK_CONTAINS(picotag_tagger_name(&partial, PICOTAG_LANGUAGE_KOREAN), "kite");
    CHECK_CONTAINS(picotag_tagger_group(&partial, PICOTAG_LANGUAGE_KOREAN), "sports");

    const picotag_label ungrouped = {"thing", "물건", "", "", 0, 0.01f};
    CHECK_EQ(0, strlen(picotag_tagger_group(&ungrouped, PICOTAG_LANGUAGE_ENGLISH)));
}

static void hierarchy_joins_group_and_name(void) {
    const picotag_label dog = {"dog", "개", "animal", "동물", 0, 0.01f};
    const picotag_label person = {"person", "사람", "person", "사람", 0, 0.01f};
    char keyword[64];

    CHECK_EQ(10, picotag_tagger_hierarchy(&dog, PICOTAG_LANGUAGE_ENGLISH, keyword, sizeof(keyword)));
    CHECK(strcmp(keyword, "animal|dog") == 0);
    picotag_tagger_hierarchy(&dog, PICOTAG_LANGUAGE_KOREAN, keyword, sizeof(keyword));
    CHECK(strcmp(keyword, "동물|개") == 0);
    picotag_tagger_hierarchy(&person, PICOTAG_LANGUAGE_ENGLISH, keyword, sizeof(keyword));
    CHECK(strcmp(keyword, "person") == 0);

    /* Cut to the capacity, the return value is still the full length. */
    char small[4];
    CHECK_EQ(10, picotag_tagger_hierarchy(&dog, PICOTAG_LANGUAGE_ENGLISH, small, sizeof(small)));
    CHECK(strcmp(small, "ani") == 0);
}

int main(void) {
    RUN_TEST(threshold_is_inclusive);
    RUN_TEST(tags_sorted_by_probability);
    RUN_TEST(probability_saturates_without_nan);
    RUN_TEST(names_follow_language);
    RUN_TEST(hierarchy_joins_group_and_name);
    return test_summary();
}
