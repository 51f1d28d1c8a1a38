#ifndef PICOTAG_ENGINE_UTF8_H
#define PICOTAG_ENGINE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Checks that `bytes[0, length)` is well-formed UTF-8 (RFC 3629): no
 * overlong encodings, no surrogates (U+D800 to U+DFFF), nothing above
 * U+10FFFF, no truncated sequences. Returns 1 if it is; otherwise returns 0
 * and stores the offset of the first invalid byte in *error_offset.
 */
int picotag_utf8_validate(const uint8_t *bytes, size_t length, size_t *error_offset);

#endif
