/* JSON strings, CSV fields and terminal column widths. */
#include "tools/text_format.h"

#include <stdint.h>
#include <string.h>

/* Decodes one UTF-8 character at `text`. Returns its byte length and stores
 * the code point, or returns 0 for an invalid, overlong or truncated
 * sequence, a surrogate or a value above U+10FFFF. */
static size_t decode_utf8(const unsigned char *text, uint32_t *code_point) {
    const unsigned char lead = text[0];
    size_t length;
    uint32_t value;
    uint32_t minimum;
    if (lead < 0x80) {
        *code_point = lead;
        return 1;
    } else if ((lead & 0xE0) == 0xC0) {
        length = 2;
        value = lead & 0x1F;
        minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3;
        value = lead & 0x0F;
        minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4;
        value = lead & 0x07;
        minimum = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < length; i++) {
        if ((text[i] & 0xC0) != 0x80) {
            return 0;
        }
        value = (value << 6) | (text[i] & 0x3F);
    }
    if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
        return 0;
    }
    *code_point = value;
    return length;
}

void json_write_string(FILE *stream, const char *text) {
    const unsigned char *at = (const unsigned char *)text;
    fputc('"', stream);
    while (*at != '\0') {
        uint32_t code_point = 0;
        const size_t length = decode_utf8(at, &code_point);
        if (length == 0) {
            fputs("\\ufffd", stream);
            at++;
            continue;
        }
        if (code_point == '"' || code_point == '\\') {
            fputc('\\', stream);
            fputc((int)code_point, stream);
        } else if (code_point == '\n') {
            fputs("\\n", stream);
        } else if (code_point == '\r') {
            fputs("\\r", stream);
        } else if (code_point == '\t') {
            fputs("\\t", stream);
        } else if (code_point < 0x20 || code_point == 0x7F) {
            fprintf(stream, "\\u%04x", (unsigned)code_point);
        } else {
            fwrite(at, 1, length, stream);
        }
        at += length;
    }
    fputc('"', stream);
}

void csv_write_field(FILE *stream, const char *text) {
    const size_t length = strlen(text);
    const int needs_quotes = strpbrk(text, ",\"\r\n") != NULL ||
                             (length > 0 && (text[0] == ' ' || text[length - 1] == ' '));
    if (!needs_quotes) {
        fputs(text, stream);
        return;
    }
    fputc('"', stream);
    for (const char *at = text; *at != '\0'; at++) {
        if (*at == '"') {
            fputc('"', stream);
        }
        fputc(*at, stream);
    }
    fputc('"', stream);
}

/* East Asian Wide and Fullwidth ranges (Unicode Standard Annex #11) that
 * photo and tag names use: Hangul, CJK, kana, fullwidth forms, emoji. */
static int is_wide(uint32_t c) {
    return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
           (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA960 && c <= 0xA97F) ||
           (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
           (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
           (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
}

static int is_combining(uint32_t c) {
    return (c >= 0x0300 && c <= 0x036F) || (c >= 0x1160 && c <= 0x11FF) ||
           (c >= 0x200B && c <= 0x200F) || (c >= 0xFE00 && c <= 0xFE0F);
}

size_t text_display_width(const char *text) {
    const unsigned char *at = (const unsigned char *)text;
    size_t width = 0;
    while (*at != '\0') {
        uint32_t code_point = 0;
        const size_t length = decode_utf8(at, &code_point);
        if (length == 0) {
            width++;
            at++;
            continue;
        }
        width += is_wide(code_point) ? 2 : is_combining(code_point) ? 0 : 1;
        at += length;
    }
    return width;
}

void text_write_padded(FILE *stream, const char *text, size_t width) {
    fputs(text, stream);
    for (size_t used = text_display_width(text); used < width; used++) {
        fputc(' ', stream);
    }
}
