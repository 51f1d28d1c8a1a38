/*
 * A reader of comma-separated values as RFC 4180 defines them: fields
 * separated by commas, records by CRLF, LF or CR, and a field in double
 * quotes may contain commas, line breaks and doubled quotes ("").
 * A UTF-8 byte order mark at the start is skipped, and so are empty lines.
 * A quote inside an unquoted field, text after a closing quote, an
 * unterminated quoted field and a NUL byte are errors.
 */
#ifndef PICOTAG_EVAL_CSV_READER_H
#define PICOTAG_EVAL_CSV_READER_H

#include <stddef.h>

#include "picotag.h"

typedef struct csv_reader {
    const char *text;
    size_t size;              /* bytes */
    size_t position;          /* byte offset of the next unread byte */
    size_t line;              /* 1-based line number at `position` */
    const char *name;         /* the file name, for messages */

    char *buffer;             /* the current record's fields, each NUL-terminated */
    size_t buffer_size;
    size_t buffer_capacity;
    size_t *field_starts;     /* offset of each field in `buffer` */
    char **fields;
    size_t field_count;
    size_t field_capacity;
} csv_reader;

/* Starts reading `text` (size bytes, not NUL-terminated; it must outlive the
 * reader). `name` prefixes error messages. */
void csv_reader_init(csv_reader *reader, const char *text, size_t size, const char *name);

void csv_reader_free(csv_reader *reader);

/* Reads the next record. On success *fields points to *field_count
 * NUL-terminated fields, valid until the next call, and *line is the line
 * the record starts on. At the end of the text *field_count is 0. Errors
 * are PICOTAG_ERROR_FORMAT with "name:line: reason", or
 * PICOTAG_ERROR_OUT_OF_MEMORY. */
picotag_status csv_read_record(csv_reader *reader, char ***fields, size_t *field_count, size_t *line,
                               picotag_error *error);

#endif
