/*
 * picotag tagger: from a model's int32 logits to the tags shown to people.
 *
 * A class is tagged when its logit >= the label's integer threshold. That
 * comparison is the whole decision, in integers. The probability
 * 1 / (1 + exp(-logit * logit_scale)) is computed only to show it and to
 * record it as the catalogue's score.
 *
 *     picotag_tagger_tag tags[PICOTAG_MAX_CLASSES];
 *     size_t count = picotag_tagger_select(model, logits, tags);
 *     for (size_t i = 0; i < count; i++)
 *         printf("%s %.2f\n", picotag_tagger_name(tags[i].label, PICOTAG_LANGUAGE_KOREAN),
 *                tags[i].probability);
 */
#ifndef PICOTAG_TAGGER_H
#define PICOTAG_TAGGER_H

#include <stddef.h>
#include <stdint.h>

#include "picotag.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The languages a model's label table carries names in. */
typedef enum picotag_language {
    PICOTAG_LANGUAGE_ENGLISH = 0,
    PICOTAG_LANGUAGE_KOREAN = 1
} picotag_language;

/* One tagged class of one image. */
typedef struct picotag_tagger_tag {
    int32_t class_index;
    int32_t logit;               /* the integer compared with the threshold */
    double probability;          /* 0..1, for display and the catalogue's score */
    const picotag_label *label;  /* the model's label: names, group, threshold */
} picotag_tagger_tag;

/* Returns 1 / (1 + exp(-logit * logit_scale)), computed in double. */
PICOTAG_API double picotag_tagger_probability(int32_t logit, float logit_scale);

/* Writes the tagged classes of one image into `tags`, highest probability
 * first and equal probabilities by class index. `tags` must have room for
 * picotag_model_class_count(model) entries. `logits` contains one int32 per
 * class, as picotag_runner_run writes them. Returns the number of tags. */
PICOTAG_API size_t picotag_tagger_select(const picotag_model *model, const int32_t *logits,
                                         picotag_tagger_tag *tags);

/* Returns the label's name in `language`, or the English name when the
 * label has none in that language. */
PICOTAG_API const char *picotag_tagger_name(const picotag_label *label,
                                            picotag_language language);

/* Returns the label's supercategory in `language`, falling back to the other
 * language when that one is empty; "" when the label has no supercategory. */
PICOTAG_API const char *picotag_tagger_group(const picotag_label *label,
                                             picotag_language language);

/* Writes the hierarchical keyword "group|name" in `language` into `out`,
 * or "name" alone when the label has no supercategory or it equals the
 * name, truncated to fit `capacity` bytes with a NUL. Returns the length of
 * the whole keyword, as snprintf does, so a result >= capacity means it
 * was cut. */
PICOTAG_API size_t picotag_tagger_hierarchy(const picotag_label *label,
                                            picotag_language language, char *out,
                                            size_t capacity);

#ifdef __cplusplus
}
#endif

#endif
