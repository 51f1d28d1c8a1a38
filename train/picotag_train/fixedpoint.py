"""Fixed-point multipliers and requantization, as in docs/QUANTIZATION.md.

A real multiplier M > 0 is stored as an integer m and a right shift sh with
M ~ m * 2^-sh, 0 <= m < 2^31 and 1 <= sh <= 62. Requantizing an int32
accumulator is rhu(acc * m / 2^sh) = (acc * m + 2^(sh - 1)) >> sh in 64-bit
signed arithmetic, with an arithmetic (flooring) shift.
"""

import math

import numpy as np

MAX_SHIFT = 62
MAX_AVGPOOL_SHIFT = 40
INT31 = 1 << 31


class MultiplierError(ValueError):
    """A real multiplier cannot be represented as (m, sh)."""


def _round_half_up(x):
    return int(math.floor(x + 0.5))


def quantize_multiplier(real, max_shift=MAX_SHIFT):
    """Return (m, sh) for a real multiplier `real` >= 0.

    M = f * 2^e with f in [0.5, 1); m = rhu(f * 2^31), sh = 31 - e; if m
    rounds up to 2^31 it is halved and sh decreased; if sh > max_shift,
    sh = max_shift and m = rhu(M * 2^max_shift). Raises MultiplierError for
    M >= 2^30 (sh would be below 1), a negative M or a non-finite one.
    """
    real = float(real)
    if not math.isfinite(real) or real < 0:
        raise MultiplierError(f"multiplier {real!r} is not a finite non-negative number")
    if real == 0.0:
        return 0, 1

    fraction, exponent = math.frexp(real)
    m = _round_half_up(fraction * INT31)
    sh = 31 - exponent
    if m == INT31:
        m //= 2
        sh -= 1
    if sh > max_shift:
        sh = max_shift
        m = _round_half_up(math.ldexp(real, max_shift))
    if sh < 1:
        raise MultiplierError(f"multiplier {real!r} is too large: it must be below 2^30")
    return m, sh


def quantize_multiplier_pair(real, real_residual):
    """Return (m, m_r, sh): two multipliers that share one shift.

    The shift is chosen for the larger multiplier; the smaller one is
    rhu(M_x * 2^sh).
    """
    if real >= real_residual:
        m, sh = quantize_multiplier(real)
        m_r = _round_half_up(math.ldexp(float(real_residual), sh))
    else:
        m_r, sh = quantize_multiplier(real_residual)
        m = _round_half_up(math.ldexp(float(real), sh))
    return m, m_r, sh


def avgpool_multiplier(m0, s0, count):
    """Return (m, sh) for a global average pool over `count` positions.

    Integers only, identical in the engine:
        k = ceil(log2(count)) (0 for count = 1), m = floor((m0 2^k + floor(count / 2)) / count),
        sh = s0 + k, and if m >= 2^31: m = (m + 1) >> 1, sh = sh - 1.
    Raises MultiplierError when sh > 62 or count is out of range.
    """
    if count < 1 or 255 * count >= INT31:
        raise MultiplierError(f"average pool over {count} positions: 255 * n must be below 2^31")
    k = (count - 1).bit_length()
    m = (m0 * (1 << k) + count // 2) // count
    sh = s0 + k
    if m >= INT31:
        m = (m + 1) >> 1
        sh -= 1
    if sh > MAX_SHIFT:
        raise MultiplierError(f"average pool over {count} positions needs shift {sh} > {MAX_SHIFT}")
    return m, sh


def requantize(acc, multiplier, shift, lo, hi, residual=None, residual_multiplier=None):
    """Return clamp((acc m + r m_r + 2^(sh - 1)) >> sh, lo, hi) in int64.

    acc and residual are int64 arrays whose last axis is the channel;
    multiplier, shift and residual_multiplier are per channel.
    """
    acc = np.asarray(acc, dtype=np.int64)
    multiplier = np.asarray(multiplier, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    total = acc * multiplier
    if residual is not None:
        total = total + np.asarray(residual, dtype=np.int64) * np.asarray(residual_multiplier, dtype=np.int64)
    rounding = np.left_shift(np.int64(1), shift - 1)
    return np.clip(np.right_shift(total + rounding, shift), lo, hi)
