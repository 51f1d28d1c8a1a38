#ifndef PICOTAG_ENGINE_AVGPOOL_MULTIPLIER_H
#define PICOTAG_ENGINE_AVGPOOL_MULTIPLIER_H

#include <stdint.h>

/*
 * Derives the requantization multiplier and shift of a global average pool
 * over `positions` = height * width positions, from the file's (m0, s0)
 * for M0 = s_x / s_p, in integers only (docs/QUANTIZATION.md, "Global
 * average pooling"):
 *
 *     k  = ceil(log2(n))                  (0 for n = 1)
 *     m  = floor((m0 * 2^k + floor(n / 2)) / n)
 *     sh = s0 + k
 *     if m >= 2^31:  m = (m + 1) >> 1,  sh = sh - 1
 *
 * Requires m0 < 2^31 and 1 <= s0. Returns 1 and fills *multiplier and
 * *shift on success; returns 0 if n is 0 or at least 2^31, or if the
 * shift would exceed 62.
 */
int picotag_derive_avgpool_multiplier(uint32_t m0, uint32_t s0, uint64_t positions,
                                      uint32_t *multiplier, uint32_t *shift);

#endif
