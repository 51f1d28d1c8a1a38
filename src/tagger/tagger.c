/* Logits to tags: the integer threshold decides, the probability is shown. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "picotag_tagger.h"

double picotag_tagger_probability(int32_t logit, float logit_scale) {
    /* exp() of a large argument is +inf, which gives exactly 0, and of a
     * very negative one is 0, which gives exactly 1: no NaN for any input. */
    const double real_logit = (double)logit * (double)logit_scale;
    return 1.0 / (1.0 + exp(-real_logit));
}

static int compare_tags(const void *left, const void *right) {
    const picotag_tagger_tag *a = left;
    const picotag_tagger_tag *b = right;
    if (a->probability != b->probability) {
        return a->probability > b->probability ? -1 : 1;
    }
    return a->class_index < b->class_index ? -1 : a->class_index > b->class_index;
}

size_t picotag_tagger_select(const picotag_model *model, const int32_t *logits,
                             picotag_tagger_tag *tags) {
    const int classes = picotag_model_class_count(model);
    size_t count = 0;
    for (int k = 0; k < classes; k++) {
        const picotag_label *label = picotag_model_label(model, k);
        if (logits[k] < label->threshold) {
            continue;
        }
        tags[count].class_index = k;
        tags[count].logit = logits[k];
        tags[count].probability = picotag_tagger_probability(logits[k], label->logit_scale);
        tags[count].label = label;
        count++;
    }
    qsort(tags, count, sizeof(*tags), compare_tags);
    return count;
}

static int is_empty(const char *text) {
    return text == NULL || text[0] == '\0';
}

const char *picotag_tagger_name(const picotag_label *label, picotag_language language) {
    if (language == PICOTAG_LANGUAGE_KOREAN && !is_empty(label->name_ko)) {
        return label->name_ko;
    }
    return label->name_en;
}

const char *picotag_tagger_group(const picotag_label *label, picotag_language language) {
    const char *preferred = language == PICOTAG_LANGUAGE_KOREAN ? label->group_ko : label->group_en;
    const char *other = language == PICOTAG_LANGUAGE_KOREAN ? label->group_en : label->group_ko;
    if (!is_empty(preferred)) {
        return preferred;
    }
    return is_empty(other) ? "" : other;
}

size_t picotag_tagger_hierarchy(const picotag_label *label, picotag_language language, char *out,
                                size_t capacity) {
    const char *name = picotag_tagger_name(label, language);
    const char *group = picotag_tagger_group(label, language);
    char empty[1];
    if (out == NULL || capacity == 0) {
        out = empty;
        capacity = 1;
    }

    int length;
    if (group[0] == '\0' || strcmp(group, name) == 0) {
        length = snprintf(out, capacity, "%s", name);
    } else {
        length = snprintf(out, capacity, "%s|%s", group, name);
    }
    return length < 0 ? 0 : (size_t)length;
}
