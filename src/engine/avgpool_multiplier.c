#include "engine/avgpool_multiplier.h"

int picotag_derive_avgpool_multiplier(uint32_t m0, uint32_t s0, uint64_t positions,
                                      uint32_t *multiplier, uint32_t *shift) {
    const uint64_t n = positions;
    if (n == 0 || n >= (UINT64_C(1) << 31) || m0 >= (UINT32_C(1) << 31)) {
        return 0;
    }

    uint32_t k = 0;
    while ((UINT64_C(1) << k) < n) {
        k++;
    }

    /* m0 < 2^31 and 2^k < 2n <= 2^32, so m0 * 2^k < 2^63 fits. Because
     * 2^k < 2n, m < 2 * m0 + 1, and the halving below brings it under
     * 2^31 again. */
    uint64_t m = ((uint64_t)m0 * (UINT64_C(1) << k) + n / 2) / n;
    uint64_t sh = (uint64_t)s0 + k;
    if (m >= (UINT64_C(1) << 31)) {
        m = (m + 1) >> 1;
        sh -= 1;
    }
    if (sh > 62) {
        return 0;
    }

    *multiplier = (uint32_t)m;
    *shift = (uint32_t)sh;
    return 1;
}
