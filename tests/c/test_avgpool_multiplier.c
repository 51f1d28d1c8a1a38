/* Derivation of the global average pool multiplier for n = H * W positions. */
#include <math.h>
#include <stdint.h>

#include "engine/avgpool_multiplier.h"
#include "test_check.h"

static void avgpool_multiplier_for_one_position_is_m0(void) {
    uint32_t m = 0, sh = 0;
    CHECK(picotag_derive_avgpool_multiplier(1717986918u, 31, 1, &m, &sh));
    CHECK_EQ(1717986918u, m);
    CHECK_EQ(31, sh);
}

static void avgpool_multiplier_for_two_positions_adds_one_to_shift(void) {
    /* k = 1, m = floor((2 m0 + 1) / 2) = m0. */
    uint32_t m = 0, sh = 0;
    CHECK(picotag_derive_avgpool_multiplier(1717986918u, 31, 2, &m, &sh));
    CHECK_EQ(1717986918u, m);
    CHECK_EQ(32, sh);
}

static void avgpool_multiplier_for_three_positions(void) {
    /* k = 2: m = floor((4 * 2^30 + 1) / 3) = floor(4294967297 / 3) = 1431655765. */
    uint32_t m = 0, sh = 0;
    CHECK(picotag_derive_avgpool_multiplier(UINT32_C(1) << 30, 10, 3, &m, &sh));
    CHECK_EQ(1431655765u, m);
    CHECK_EQ(12, sh);
}

static void avgpool_multiplier_for_49_positions(void) {
    /* 7x7, the ResNet head at 224x224. k = 6:
     * m = floor((1717986918 * 64 + 24) / 49) = floor(109951162776 / 49) = 2243901281,
     * which is >= 2^31, so m = (2243901281 + 1) >> 1 = 1121950641 and sh = 31 + 6 - 1. */
    uint32_t m = 0, sh = 0;
    CHECK(picotag_derive_avgpool_multiplier(1717986918u, 31, 49, &m, &sh));
    CHECK_EQ(1121950641u, m);
    CHECK_EQ(36, sh);
}

static void avgpool_multiplier_for_1000_positions(void) {
    /* k = 10: m = floor((2^30 * 1024 + 500) / 1000) = 1099511628, below
     * 2^31, so no halving; sh = 20 + 10. */
    uint32_t m = 0, sh = 0;
    CHECK(picotag_derive_avgpool_multiplier(UINT32_C(1) << 30, 20, 1000, &m, &sh));
    CHECK_EQ(1099511628u, m);
    CHECK_EQ(30, sh);
}

static void avgpool_multiplier_rounds_half_up_in_the_division(void) {
    /* m0 = 1, n = 3, k = 2: floor((4 + 1) / 3) = 1 (4/3 = 1.33 rounds to 1);
     * m0 = 5, n = 3: floor((20 + 1) / 3) = 7 (20/3 = 6.67 rounds to 7). */
    uint32_t m = 0, sh = 0;
    CHECK(picotag_derive_avgpool_multiplier(1, 1, 3, &m, &sh));
    CHECK_EQ(1, m);
    CHECK(picotag_derive_avgpool_multiplier(5, 1, 3, &m, &sh));
    CHECK_EQ(7, m);
    /* m0 = 3, n = 6, k = 3: 24 / 6 = 4 exactly; floor((24 + 3) / 6) = 4. */
    CHECK(picotag_derive_avgpool_multiplier(3, 1, 6, &m, &sh));
    CHECK_EQ(4, m);
}

static void avgpool_multiplier_for_large_n(void) {
    /* 2896 x 2896 = 8386816 positions, just under the 255 * n < 2^31
     * limit; k = 23: m = floor((1717986918 * 2^23 + 4193408) / 8386816)
     * = 1718353998, no halving. */
    uint32_t m = 0, sh = 0;
    CHECK(picotag_derive_avgpool_multiplier(1717986918u, 31, 2896u * 2896u, &m, &sh));
    CHECK_EQ(1718353998u, m);
    CHECK_EQ(54, sh);

    /* n = 2^23 - 1 with the largest m0: m = 2147483903 >= 2^31, so it is
     * halved to 1073741952 and sh = 40 + 23 - 1 = 62. */
    CHECK(picotag_derive_avgpool_multiplier(2147483647u, 40, (UINT64_C(1) << 23) - 1, &m, &sh));
    CHECK_EQ(1073741952u, m);
    CHECK_EQ(62, sh);
}

static void avgpool_multiplier_rejects_shift_above_62(void) {
    uint32_t m = 0, sh = 0;
    /* s0 = 40, n = 2^23: k = 23, m = m0 exactly, sh = 63. */
    CHECK(!picotag_derive_avgpool_multiplier(1717986918u, 40, UINT64_C(1) << 23, &m, &sh));
    /* The same n with s0 = 39 gives sh = 62, the largest allowed. */
    CHECK(picotag_derive_avgpool_multiplier(1717986918u, 39, UINT64_C(1) << 23, &m, &sh));
    CHECK_EQ(62, sh);
    CHECK(!picotag_derive_avgpool_multiplier(1, 1, 0, &m, &sh));
    CHECK(!picotag_derive_avgpool_multiplier(1, 1, UINT64_C(1) << 31, &m, &sh));
}

/* For every n up to 5000 and several m0: the result is a valid multiplier
 * and m * 2^-sh approximates M0 / n to within one unit of m. */
static void avgpool_multiplier_approximates_m0_over_n(void) {
    const uint32_t m0_values[] = {1u, 1000u, 1u << 30, 1717986918u, 2147483647u};
    int failures = 0;
    for (size_t i = 0; i < sizeof(m0_values) / sizeof(m0_values[0]); i++) {
        for (uint64_t n = 1; n <= 5000; n++) {
            uint32_t m = 0, sh = 0;
            if (!picotag_derive_avgpool_multiplier(m0_values[i], 20, n, &m, &sh)) {
                failures++;
                continue;
            }
            /* Exact target in units of 2^-sh: m0 * 2^(sh - 20) / n. */
            const long double target = ldexpl((long double)m0_values[i], (int)sh - 20) / (long double)n;
            const long double error = fabsl((long double)m - target);
            if (m >= (UINT32_C(1) << 31) || error > 1.0L) {
                if (failures++ < 5) {
                    printf("  m0 %u n %llu: m %u sh %u target %.3Lf\n", m0_values[i],
                           (unsigned long long)n, m, sh, target);
                }
            }
        }
    }
    CHECK_EQ(0, failures);
}

int main(void) {
    RUN_TEST(avgpool_multiplier_for_one_position_is_m0);
    RUN_TEST(avgpool_multiplier_for_two_positions_adds_one_to_shift);
    RUN_TEST(avgpool_multiplier_for_three_positions);
    RUN_TEST(avgpool_multiplier_for_49_positions);
    RUN_TEST(avgpool_multiplier_for_1000_positions);
    RUN_TEST(avgpool_multiplier_rounds_half_up_in_the_division);
    RUN_TEST(avgpool_multiplier_for_large_n);
    RUN_TEST(avgpool_multiplier_rejects_shift_above_62);
    RUN_TEST(avgpool_multiplier_approximates_m0_over_n);
    return test_summary();
}
