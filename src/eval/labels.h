/*
 * Ground-truth label files for evaluation, reduced to one 0/1 flag per
 * photo and class of the model.
 *
 * Two formats are read:
 *  - CSV: a header row, a `file` column and one column per class named by
 *    the class's English name, with values 0 or 1. Columns that name no
 *    class of the model (such as `width` or `height`) are ignored.
 *  - COCO instances JSON: images[].id and file_name, categories[].id and
 *    name, annotations[].image_id and category_id. A photo shows a
 *    category when any of its annotations, crowd ones included, has that
 *    category. Categories are matched to the model's classes by name;
 *    photos without annotations are kept as negatives for every class.
 *
 * A class of the model that the file does not name is an error, unless
 * allow_missing_classes is set. The class is then marked not labelled and
 * left out of the metrics.
 */
#ifndef PICOTAG_EVAL_LABELS_H
#define PICOTAG_EVAL_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "picotag.h"

typedef struct eval_label_options {
    const char *const *class_names;   /* the model's English class names, in class order */
    size_t class_count;
    int allow_missing_classes;
} eval_label_options;

typedef enum eval_label_format {
    EVAL_LABELS_CSV = 1,
    EVAL_LABELS_COCO = 2
} eval_label_format;

typedef struct eval_labels {
    eval_label_format format;
    size_t photo_count;
    size_t class_count;               /* the model's class count */
    char **files;                     /* photo_count paths, as the label file writes them */
    uint8_t *truth;                   /* photo_count x class_count, row-major, 0 or 1 */
    uint8_t *class_labelled;          /* class_count flags: 1 when the file names the class */
    size_t labelled_class_count;
    char **ignored_names;             /* CSV columns or COCO category names that match no class */
    size_t ignored_name_count;
    size_t photo_capacity;            /* rows allocated in files and truth */
} eval_labels;

/* Parses a label CSV held in memory; `name` is used in error messages,
 * which give the line number. On failure `labels` is left empty. */
picotag_status eval_labels_parse_csv(const char *text, size_t size, const char *name,
                                     const eval_label_options *options, eval_labels *labels,
                                     picotag_error *error);

/* Parses a COCO instances JSON document held in memory. */
picotag_status eval_labels_parse_coco(const char *text, size_t size, const char *name,
                                      const eval_label_options *options, eval_labels *labels,
                                      picotag_error *error);

/* Reads a label file: COCO JSON when the name ends in ".json" (any case),
 * CSV otherwise. */
picotag_status eval_labels_read(const char *path, const eval_label_options *options,
                                eval_labels *labels, picotag_error *error);

/* Releases everything and zeroes the struct; a zeroed struct is a no-op. */
void eval_labels_free(eval_labels *labels);

#endif
