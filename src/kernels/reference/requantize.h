/*
 * Fixed-point requantization shared by the reference kernels.
 *
 * An int32 accumulator with real value acc * M, where M ~ m * 2^-shift
 * (0 <= m < 2^31, 1 <= shift <= 62), becomes the integer
 *
 *     q = (acc * m + 2^(shift - 1)) >> shift
 *
 * in 64-bit signed arithmetic with an arithmetic (flooring) right shift.
 * That is rhu(acc * m / 2^shift): one rounding, ties toward +infinity, the
 * rule of docs/QUANTIZATION.md that the Python integer reference follows.
 */
#ifndef PICOTAG_KERNELS_REFERENCE_REQUANTIZE_H
#define PICOTAG_KERNELS_REFERENCE_REQUANTIZE_H

#include <stdint.h>

/* C11 leaves >> on a negative value implementation-defined. Every compiler
 * picotag supports shifts arithmetically; this stops a build on one that
 * does not, instead of silently rounding negative values the wrong way. */
_Static_assert((-5LL >> 1) == -3LL && (INT64_MIN >> 62) == -2LL,
               "requantization needs >> on negative int64 to be an arithmetic shift");

/*
 * Returns (scaled + 2^(shift - 1)) >> shift, that is floor(scaled / 2^shift
 * + 1/2). `scaled` is acc * m, or acc * m + r * m_r for a fused residual
 * add, and `shift` is 1 to 62. The caller keeps |scaled| + 2^61 below 2^63,
 * which holds for int32 accumulators times multipliers below 2^31 plus a
 * residual term below 2^40.
 */
static inline int64_t requantize_rounding_half_up(int64_t scaled, uint32_t shift) {
    return (scaled + ((int64_t)1 << (shift - 1))) >> shift;
}

static inline int32_t clamp_to_range(int64_t value, int32_t lo, int32_t hi) {
    if (value < lo) {
        return lo;
    }
    if (value > hi) {
        return hi;
    }
    return (int32_t)value;
}

/* Requantizes to uint8 [0, 255]; the lower clamp is the ReLU. */
static inline uint8_t requantize_to_u8(int64_t scaled, uint32_t shift) {
    return (uint8_t)clamp_to_range(requantize_rounding_half_up(scaled, shift), 0, 255);
}

/* Requantizes to int8 [-128, 127], for outputs without a ReLU. */
static inline int8_t requantize_to_i8(int64_t scaled, uint32_t shift) {
    return (int8_t)clamp_to_range(requantize_rounding_half_up(scaled, shift), -128, 127);
}

#endif
