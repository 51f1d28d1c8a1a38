/* The --scores-out CSV: one row of int32 logits per evaluated photo. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/error.h"
#include "eval/report.h"

/* Writes a field, quoted when it contains a comma, a quote, a line break
 * or leading or trailing space, with quotes doubled (RFC 4180). */
static void write_csv_field(FILE *stream, const char *text) {
    const size_t length = strlen(text);
    const int needs_quotes = strpbrk(text, ",\"\r\n") != NULL ||
                             (length > 0 && (text[0] == ' ' || text[length - 1] == ' '));
    if (!needs_quotes) {
        fputs(text, stream);
        return;
    }
    fputc('"', stream);
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '"') {
            fputc('"', stream);
        }
        fputc(*p, stream);
    }
    fputc('"', stream);
}

picotag_status eval_write_logits_csv(const char *path, const char *const *class_names,
                                     size_t class_count, const char *const *files,
                                     const int32_t *logits, const uint8_t *succeeded,
                                     size_t photo_count, picotag_error *error) {
    FILE *stream = fopen(path, "wb");
    if (stream == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_IO, "%s: cannot create: %s", path,
                                 strerror(errno));
    }

    fputs("file", stream);
    for (size_t k = 0; k < class_count; k++) {
        fputc(',', stream);
        write_csv_field(stream, class_names[k]);
    }
    fputs("\n", stream);

    for (size_t i = 0; i < photo_count; i++) {
        if (!succeeded[i]) {
            continue;
        }
        write_csv_field(stream, files[i]);
        const int32_t *row = logits + i * class_count;
        for (size_t k = 0; k < class_count; k++) {
            fprintf(stream, ",%" PRId32, row[k]);
        }
        fputs("\n", stream);
    }

    const int write_failed = ferror(stream);
    if (fclose(stream) != 0 || write_failed) {
        return picotag_error_set(error, PICOTAG_ERROR_IO, "%s: write error", path);
    }
    return PICOTAG_OK;
}
