/*
 * The model checksum's CRC-32: the standard check value, continuation over
 * split ranges, and the portable version against zlib where the build has
 * zlib (the builds without zlib use the portable version for every model).
 */
#include <stdlib.h>

#include "engine/crc32.h"
#include "test_check.h"

static void crc32_of_check_string_is_cbf43926(void) {
    const uint8_t text[] = "123456789";
    CHECK_EQ(0xCBF43926u, picotag_crc32_update(0, text, 9));
    CHECK_EQ(0xCBF43926u, picotag_crc32_update_portable(0, text, 9));
    CHECK_EQ(0u, picotag_crc32_update_portable(0, text, 0));
}

static void crc32_continues_over_split_ranges(void) {
    uint8_t bytes[1000];
    uint32_t state = 12345;
    for (size_t i = 0; i < sizeof(bytes); i++) {
        state = state * 1664525u + 1013904223u;
        bytes[i] = (uint8_t)(state >> 24);
    }
    const uint32_t whole = picotag_crc32_update_portable(0, bytes, sizeof(bytes));
    for (size_t split = 0; split <= sizeof(bytes); split += 37) {
        const uint32_t first = picotag_crc32_update_portable(0, bytes, split);
        CHECK_EQ(whole, picotag_crc32_update_portable(first, bytes + split, sizeof(bytes) - split));
    }
    /* With zlib this compares the two implementations. */
    CHECK_EQ(whole, picotag_crc32_update(0, bytes, sizeof(bytes)));
}

int main(void) {
    RUN_TEST(crc32_of_check_string_is_cbf43926);
    RUN_TEST(crc32_continues_over_split_ranges);
    return test_summary();
}
