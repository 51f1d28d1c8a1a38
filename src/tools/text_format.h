/* Writing text for people and machines: JSON strings, CSV fields and the
 * width of text on a terminal. */
#ifndef PICOTAG_TOOLS_TEXT_FORMAT_H
#define PICOTAG_TOOLS_TEXT_FORMAT_H

#include <stddef.h>
#include <stdio.h>

/* Writes `text` as a JSON string with its quotes. Bytes that are not valid
 * UTF-8 (a file name in another encoding) become U+FFFD, because JSON text
 * must be Unicode. */
void json_write_string(FILE *stream, const char *text);

/* Writes `text` as one CSV field (RFC 4180). A field that contains a comma,
 * a quote, a carriage return or a line feed, or starts or ends with a
 * space, is put in double quotes with its quotes doubled. */
void csv_write_field(FILE *stream, const char *text);

/* Returns the columns a terminal uses to show UTF-8 `text`: 2 for East
 * Asian wide characters (Hangul, CJK), 0 for combining marks, 1 otherwise,
 * and 1 per byte that is not valid UTF-8. */
size_t text_display_width(const char *text);

/* Writes `text` and then spaces up to `width` columns. */
void text_write_padded(FILE *stream, const char *text, size_t width);

#endif
