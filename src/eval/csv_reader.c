#include "eval/csv_reader.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

void csv_reader_init(csv_reader *reader, const char *text, size_t size, const char *name) {
    memset(reader, 0, sizeof(*reader));
    reader->text = text;
    reader->size = size;
    reader->line = 1;
    reader->name = name;
    if (size >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        reader->position = 3;
    }
}

void csv_reader_free(csv_reader *reader) {
    free(reader->buffer);
    free(reader->field_starts);
    free(reader->fields);
    memset(reader, 0, sizeof(*reader));
}

static picotag_status out_of_memory(const csv_reader *reader, picotag_error *error) {
    return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY, "%s:%zu: out of memory", reader->name,
                             reader->line);
}

static picotag_status append_byte(csv_reader *reader, char byte, picotag_error *error) {
    if (reader->buffer_size == reader->buffer_capacity) {
        const size_t capacity = reader->buffer_capacity > 0 ? 2 * reader->buffer_capacity : 256;
        char *grown = realloc(reader->buffer, capacity);
        if (grown == NULL) {
            return out_of_memory(reader, error);
        }
        reader->buffer = grown;
        reader->buffer_capacity = capacity;
    }
    reader->buffer[reader->buffer_size++] = byte;
    return PICOTAG_OK;
}

static picotag_status start_field(csv_reader *reader, picotag_error *error) {
    if (reader->field_count == reader->field_capacity) {
        const size_t capacity = reader->field_capacity > 0 ? 2 * reader->field_capacity : 16;
        size_t *starts = realloc(reader->field_starts, capacity * sizeof(*starts));
        if (starts == NULL) {
            return out_of_memory(reader, error);
        }
        reader->field_starts = starts;
        reader->field_capacity = capacity;
    }
    reader->field_starts[reader->field_count++] = reader->buffer_size;
    return PICOTAG_OK;
}

static int is_line_break(char byte) {
    return byte == '\n' || byte == '\r';
}

/* Consumes one line break (CRLF, LF or CR) at the current position. */
static void skip_line_break(csv_reader *reader) {
    if (reader->text[reader->position] == '\r' && reader->position + 1 < reader->size &&
        reader->text[reader->position + 1] == '\n') {
        reader->position++;
    }
    reader->position++;
    reader->line++;
}

/* Reads a quoted field; the position is at the opening quote. Ends after
 * the closing quote. */
static picotag_status read_quoted_field(csv_reader *reader, picotag_error *error) {
    const size_t opening_line = reader->line;
    reader->position++;
    for (;;) {
        if (reader->position >= reader->size) {
            return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                     "%s:%zu: a quoted field is not closed before the end of the file",
                                     reader->name, opening_line);
        }
        const char byte = reader->text[reader->position];
        if (byte == '"') {
            if (reader->position + 1 < reader->size && reader->text[reader->position + 1] == '"') {
                reader->position += 2;
                picotag_status status = append_byte(reader, '"', error);
                if (status != PICOTAG_OK) {
                    return status;
                }
                continue;
            }
            reader->position++;
            break;
        }
        if (byte == '\0') {
            return picotag_error_set(error, PICOTAG_ERROR_FORMAT, "%s:%zu: NUL byte in a field",
                                     reader->name, reader->line);
        }
        if (byte == '\n' || (byte == '\r' && !(reader->position + 1 < reader->size &&
                                                reader->text[reader->position + 1] == '\n'))) {
            reader->line++;
        }
        picotag_status status = append_byte(reader, byte, error);
        if (status != PICOTAG_OK) {
            return status;
        }
        reader->position++;
    }

    if (reader->position < reader->size && reader->text[reader->position] != ',' &&
        !is_line_break(reader->text[reader->position])) {
        return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                 "%s:%zu: unexpected text after the closing quote of field %zu; "
                                 "a quote inside a quoted field must be doubled (\"\")",
                                 reader->name, reader->line, reader->field_count);
    }
    return PICOTAG_OK;
}

/* Reads an unquoted field up to the next comma, line break or the end. */
static picotag_status read_plain_field(csv_reader *reader, picotag_error *error) {
    while (reader->position < reader->size) {
        const char byte = reader->text[reader->position];
        if (byte == ',' || is_line_break(byte)) {
            break;
        }
        if (byte == '"') {
            return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                     "%s:%zu: a double quote inside unquoted field %zu; "
                                     "quote the whole field and double the quote (\"\")",
                                     reader->name, reader->line, reader->field_count);
        }
        if (byte == '\0') {
            return picotag_error_set(error, PICOTAG_ERROR_FORMAT, "%s:%zu: NUL byte in a field",
                                     reader->name, reader->line);
        }
        picotag_status status = append_byte(reader, byte, error);
        if (status != PICOTAG_OK) {
            return status;
        }
        reader->position++;
    }
    return PICOTAG_OK;
}

picotag_status csv_read_record(csv_reader *reader, char ***fields, size_t *field_count, size_t *line,
                               picotag_error *error) {
    reader->buffer_size = 0;
    reader->field_count = 0;
    *field_count = 0;
    *fields = NULL;

    while (reader->position < reader->size && is_line_break(reader->text[reader->position])) {
        skip_line_break(reader);
    }
    *line = reader->line;
    if (reader->position >= reader->size) {
        return PICOTAG_OK;
    }

    for (;;) {
        picotag_status status = start_field(reader, error);
        if (status == PICOTAG_OK) {
            if (reader->text[reader->position] == '"') {
                status = read_quoted_field(reader, error);
            } else {
                status = read_plain_field(reader, error);
            }
        }
        if (status == PICOTAG_OK) {
            status = append_byte(reader, '\0', error);
        }
        if (status != PICOTAG_OK) {
            return status;
        }

        if (reader->position < reader->size && reader->text[reader->position] == ',') {
            reader->position++;
            /* A comma at the very end still opens one more, empty field. */
            if (reader->position >= reader->size) {
                status = start_field(reader, error);
                if (status == PICOTAG_OK) {
                    status = append_byte(reader, '\0', error);
                }
                if (status != PICOTAG_OK) {
                    return status;
                }
                break;
            }
            continue;
        }
        if (reader->position < reader->size) {
            skip_line_break(reader);
        }
        break;
    }

    char **pointers = realloc(reader->fields, reader->field_count * sizeof(*pointers));
    if (pointers == NULL) {
        return out_of_memory(reader, error);
    }
    reader->fields = pointers;
    for (size_t f = 0; f < reader->field_count; f++) {
        pointers[f] = reader->buffer + reader->field_starts[f];
    }
    *fields = pointers;
    *field_count = reader->field_count;
    return PICOTAG_OK;
}
