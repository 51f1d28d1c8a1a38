#include "engine/utf8.h"

/* Returns the sequence length that `lead` announces, or 0 for a byte that
 * cannot start a sequence (a continuation byte, 0xC0, 0xC1, 0xF5 to 0xFF). */
static size_t sequence_length(uint8_t lead) {
    if (lead < 0x80) {
        return 1;
    }
    if (lead >= 0xC2 && lead <= 0xDF) {
        return 2;
    }
    if (lead >= 0xE0 && lead <= 0xEF) {
        return 3;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        return 4;
    }
    return 0;
}

/* The second byte's range depends on the lead byte: this excludes the
 * overlong 3- and 4-byte forms, the surrogates and code points above
 * U+10FFFF (RFC 3629, section 4). */
static int second_byte_is_valid(uint8_t lead, uint8_t second) {
    switch (lead) {
    case 0xE0:
        return second >= 0xA0 && second <= 0xBF;
    case 0xED:
        return second >= 0x80 && second <= 0x9F;
    case 0xF0:
        return second >= 0x90 && second <= 0xBF;
    case 0xF4:
        return second >= 0x80 && second <= 0x8F;
    default:
        return second >= 0x80 && second <= 0xBF;
    }
}

int picotag_utf8_validate(const uint8_t *bytes, size_t length, size_t *error_offset) {
    size_t i = 0;
    while (i < length) {
        const size_t n = sequence_length(bytes[i]);
        if (n == 0 || n > length - i) {
            *error_offset = i;
            return 0;
        }
        if (n >= 2 && !second_byte_is_valid(bytes[i], bytes[i + 1])) {
            *error_offset = i;
            return 0;
        }
        for (size_t k = 2; k < n; k++) {
            if ((bytes[i + k] & 0xC0) != 0x80) {
                *error_offset = i;
                return 0;
            }
        }
        i += n;
    }
    return 1;
}
