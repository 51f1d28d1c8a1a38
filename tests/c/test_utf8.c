/* UTF-8 validation of model strings (RFC 3629). */
#include <string.h>

#include "engine/utf8.h"
#include "test_check.h"

/* Returns 1 if `text` (a byte string of `length` bytes) is valid, and
 * stores the offset of the first invalid byte otherwise. */
static int is_valid(const char *text, size_t length, size_t *error_offset) {
    *error_offset = (size_t)-1;
    return picotag_utf8_validate((const uint8_t *)text, length, error_offset);
}

static void utf8_accepts_well_formed_text(void) {
    static const char *const valid[] = {
        "",
        "person",
        "자전거",                       /* 3-byte sequences */
        "caf\xC3\xA9",                  /* U+00E9 */
        "\xC2\x80",                     /* U+0080, smallest 2-byte */
        "\xDF\xBF",                     /* U+07FF */
        "\xE0\xA0\x80",                 /* U+0800, smallest 3-byte */
        "\xED\x9F\xBF",                 /* U+D7FF, just below the surrogates */
        "\xEE\x80\x80",                 /* U+E000, just above them */
        "\xEF\xBF\xBF",                 /* U+FFFF */
        "\xF0\x90\x80\x80",             /* U+10000, smallest 4-byte */
        "\xF4\x8F\xBF\xBF",             /* U+10FFFF, the largest code point */
    };
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        size_t offset;
        CHECK(is_valid(valid[i], strlen(valid[i]), &offset));
    }
}

static void utf8_rejects_malformed_sequences(void) {
    typedef struct invalid_case {
        const char *text;
        size_t error_offset;
    } invalid_case;
    static const invalid_case invalid[] = {
        {"\x80", 0},                    /* continuation byte without a lead */
        {"ab\xBF", 2},
        {"\xC0\x80", 0},                /* overlong U+0000 */
        {"\xC1\xBF", 0},                /* overlong U+007F */
        {"\xE0\x80\x80", 0},            /* overlong 3-byte */
        {"\xE0\x9F\xBF", 0},            /* overlong U+07FF */
        {"\xF0\x8F\xBF\xBF", 0},        /* overlong U+FFFF */
        {"\xED\xA0\x80", 0},            /* U+D800, a surrogate */
        {"\xED\xBF\xBF", 0},            /* U+DFFF */
        {"\xF4\x90\x80\x80", 0},        /* U+110000, above the range */
        {"\xF5\x80\x80\x80", 0},
        {"\xFF", 0},
        {"x\xC3", 1},                   /* truncated at the end */
        {"x\xE2\x82", 1},
        {"\xE2\x28\xA1", 0},            /* second byte not a continuation */
        {"\xF0\x90\x28\x80", 0},        /* third byte not a continuation */
        {"\xF0\x90\x80\x28", 0},        /* fourth byte not a continuation */
        {"ok \xEC\x9E", 3},
    };
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        size_t offset;
        CHECK(!is_valid(invalid[i].text, strlen(invalid[i].text), &offset));
        CHECK_EQ(invalid[i].error_offset, offset);
    }
}

int main(void) {
    RUN_TEST(utf8_accepts_well_formed_text);
    RUN_TEST(utf8_rejects_malformed_sequences);
    return test_summary();
}
