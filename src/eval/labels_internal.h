/* Building an eval_labels table, shared by the CSV and COCO readers. */
#ifndef PICOTAG_EVAL_LABELS_INTERNAL_H
#define PICOTAG_EVAL_LABELS_INTERNAL_H

#include "eval/labels.h"

/* Sets up an empty table for the model's classes, with no class labelled
 * yet. Also rejects a model whose English class names repeat, because
 * matching by name would then be ambiguous. */
picotag_status labels_begin(eval_labels *labels, const eval_label_options *options, const char *name,
                            picotag_error *error);

/* Returns the class whose English name is `class_name`, or -1. */
int labels_find_class(const eval_label_options *options, const char *class_name);

/* Appends a photo with every flag 0; *row receives its class_count flags. */
picotag_status labels_add_photo(eval_labels *labels, const char *file, uint8_t **row,
                                picotag_error *error);

/* Records a CSV column or COCO category that names no class of the model. */
picotag_status labels_add_ignored(eval_labels *labels, const char *ignored_name, picotag_error *error);

/* Counts the labelled classes, and fails when a class of the model is not
 * labelled (unless the options allow it) or when none is. `source` names
 * what is matched to a class, in the singular: "column" or "category". */
picotag_status labels_check_classes(eval_labels *labels, const eval_label_options *options,
                                    const char *name, const char *source, picotag_error *error);

#endif
