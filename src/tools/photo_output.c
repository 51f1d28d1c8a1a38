/* Printing photos with their tags as a table, JSON Lines or CSV. */
#include "tools/photo_output.h"

#include <stdlib.h>
#include <string.h>

#include "tools/text_format.h"

/* Scores print with this many decimals in the table. */
#define TABLE_SCORE_DECIMALS 2

/* The status word of an outcome in JSON and CSV. */
static const char *status_name(photo_outcome outcome) {
    switch (outcome) {
    case PHOTO_TAGGED:
        return "tagged";
    case PHOTO_UNCHANGED:
        return "unchanged";
    case PHOTO_MOVED:
        return "moved";
    case PHOTO_FAILED:
        return "failed";
    case PHOTO_PENDING:
        break;
    }
    return "pending";
}

void photo_output_begin(const photo_output *output) {
    if (output->format == OUTPUT_TABLE) {
        text_write_padded(output->stream, message_text(output->language, MESSAGE_TABLE_PHOTO),
                          output->path_width);
        fprintf(output->stream, "  %s\n", message_text(output->language, MESSAGE_TABLE_TAGS));
    } else if (output->format == OUTPUT_CSV) {
        fputs("path,status,width,height,tags,scores,model\n", output->stream);
    }
}

static void write_table_row(const photo_output *output, const photo_job *job) {
    FILE *stream = output->stream;
    text_write_padded(stream, job->file->path, output->path_width);
    fputs("  ", stream);
    if (job->outcome == PHOTO_MOVED && output->mark_moved) {
        fprintf(stream, "[%s] ", message_text(output->language, MESSAGE_WATCH_MOVED));
    }
    if (job->tag_count == 0) {
        fputs(message_text(output->language, MESSAGE_NO_TAGS), stream);
    }
    for (size_t i = 0; i < job->tag_count; i++) {
        fprintf(stream, "%s%s %.*f", i > 0 ? ", " : "",
                picotag_tagger_name(job->tags[i].label, output->language), TABLE_SCORE_DECIMALS,
                job->tags[i].probability);
    }
    fputc('\n', stream);
}

static void write_json_dimension(FILE *stream, const char *key, int32_t pixels) {
    if (pixels > 0) {
        fprintf(stream, ", \"%s\": %d", key, (int)pixels);
    } else {
        fprintf(stream, ", \"%s\": null", key);
    }
}

static void write_json_model(const photo_output *output) {
    FILE *stream = output->stream;
    fputs(", \"model\": {\"name\": ", stream);
    json_write_string(stream, output->model->name);
    fputs(", \"sha256\": ", stream);
    json_write_string(stream, output->model->sha256);
    fputc('}', stream);
}

static void write_json_row(const photo_output *output, const photo_job *job) {
    FILE *stream = output->stream;
    fputs("{\"path\": ", stream);
    json_write_string(stream, job->file->path);
    fprintf(stream, ", \"status\": \"%s\"", status_name(job->outcome));
    write_json_dimension(stream, "width", job->width);
    write_json_dimension(stream, "height", job->height);
    fputs(", \"captured\": ", stream);
    if (job->captured_at[0] != '\0') {
        json_write_string(stream, job->captured_at);
    } else {
        fputs("null", stream);
    }

    fputs(", \"tags\": [", stream);
    for (size_t i = 0; i < job->tag_count; i++) {
        const picotag_tagger_tag *tag = &job->tags[i];
        fputs(i > 0 ? ", {\"name\": " : "{\"name\": ", stream);
        json_write_string(stream, picotag_tagger_name(tag->label, output->language));
        fputs(", \"name_en\": ", stream);
        json_write_string(stream, tag->label->name_en);
        fputs(", \"name_ko\": ", stream);
        json_write_string(stream, tag->label->name_ko);
        fputs(", \"group\": ", stream);
        json_write_string(stream, picotag_tagger_group(tag->label, output->language));
        fprintf(stream, ", \"score\": %.6f, \"logit\": %d}", tag->probability, (int)tag->logit);
    }
    fputc(']', stream);
    write_json_model(output);
    fputs("}\n", stream);
}

static void write_csv_dimension(FILE *stream, int32_t pixels) {
    if (pixels > 0) {
        fprintf(stream, "%d", (int)pixels);
    }
}

static void write_csv_row(const photo_output *output, const photo_job *job) {
    FILE *stream = output->stream;
    csv_write_field(stream, job->file->path);
    fprintf(stream, ",%s,", status_name(job->outcome));
    write_csv_dimension(stream, job->width);
    fputc(',', stream);
    write_csv_dimension(stream, job->height);
    fputc(',', stream);

    size_t length = 1;
    for (size_t i = 0; i < job->tag_count; i++) {
        length += strlen(picotag_tagger_name(job->tags[i].label, output->language)) + 1;
    }
    /* Limitation: when memory for the joined names runs out, the field
     * stays empty; the scores column still lists every tag. */
    char *names = malloc(length);
    if (names != NULL) {
        names[0] = '\0';
        for (size_t i = 0; i < job->tag_count; i++) {
            if (i > 0) {
                strcat(names, ";");
            }
            strcat(names, picotag_tagger_name(job->tags[i].label, output->language));
        }
    }
    csv_write_field(stream, names != NULL ? names : "");
    free(names);
    fputc(',', stream);
    for (size_t i = 0; i < job->tag_count; i++) {
        fprintf(stream, "%s%.4f", i > 0 ? ";" : "", job->tags[i].probability);
    }
    fputc(',', stream);
    csv_write_field(stream, output->model->name);
    fputc('\n', stream);
}

void photo_output_write(const photo_output *output, const photo_job *job) {
    switch (output->format) {
    case OUTPUT_TABLE:
        write_table_row(output, job);
        break;
    case OUTPUT_JSON:
        write_json_row(output, job);
        break;
    case OUTPUT_CSV:
        write_csv_row(output, job);
        break;
    }
}

void photo_output_write_removed(const photo_output *output, const char *path) {
    FILE *stream = output->stream;
    switch (output->format) {
    case OUTPUT_TABLE:
        fprintf(stream, "%s  [%s]\n", path, message_text(output->language, MESSAGE_WATCH_REMOVED));
        break;
    case OUTPUT_JSON:
        fputs("{\"path\": ", stream);
        json_write_string(stream, path);
        fputs(", \"status\": \"removed\"", stream);
        write_json_model(output);
        fputs("}\n", stream);
        break;
    case OUTPUT_CSV:
        csv_write_field(stream, path);
        fputs(",removed,,,,,", stream);
        csv_write_field(stream, output->model->name);
        fputc('\n', stream);
        break;
    }
}
