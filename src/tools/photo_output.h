/*
 * The output formats of `picotag tag` and `picotag watch` on stdout: a
 * table for people, JSON Lines or CSV for programs.
 *
 * JSON Lines: one object per photo,
 *   {"path": "...", "status": "tagged", "width": 640, "height": 480,
 *    "captured": "2021-07-04T15:30:12+09:00",
 *    "tags": [{"name": "개", "name_en": "dog", "name_ko": "개", "group": "동물",
 *              "score": 0.973412, "logit": 1834}],
 *    "model": {"name": "resnet18-coco", "sha256": "..."}}
 * where name and group are in the chosen language, status is tagged,
 * unchanged, moved or removed, width and height are null when unknown, and
 * captured (the EXIF capture time) is null when the photo records none.
 *
 * CSV: a header row, then path,status,width,height,tags,scores,model with
 * the tags and their scores separated by ';' in the same order.
 */
#ifndef PICOTAG_TOOLS_PHOTO_OUTPUT_H
#define PICOTAG_TOOLS_PHOTO_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "tools/photo_tagging.h"

typedef enum output_format {
    OUTPUT_TABLE,
    OUTPUT_JSON,
    OUTPUT_CSV
} output_format;

typedef struct photo_output {
    FILE *stream;
    output_format format;
    picotag_language language;
    const tool_model *model;
    size_t path_width;   /* table: columns of the path column; 0 for no padding */
    int mark_moved;      /* table: put "[moved]" before the tags of a moved photo */
} photo_output;

/* Prints the table's header or the CSV header row; nothing for JSON. */
void photo_output_begin(const photo_output *output);

/* Prints a photo that was tagged, unchanged or moved. */
void photo_output_write(const photo_output *output, const photo_job *job);

/* Prints a photo whose record was removed (watch only). */
void photo_output_write_removed(const photo_output *output, const char *path);

#endif
