"""Multiplier selection, shared shifts, the average-pool multiplier and requantization."""

import math
import random
from fractions import Fraction

import numpy as np
import pytest

from picotag_train.fixedpoint import (
    MultiplierError,
    avgpool_multiplier,
    quantize_multiplier,
    quantize_multiplier_pair,
    requantize,
)


def test_multiplier_relative_error_within_2_pow_minus_31():
    rng = random.Random(1)
    for _ in range(2000):
        real = 2.0 ** rng.uniform(-30, 29.9)
        m, sh = quantize_multiplier(real)
        assert 2**30 <= m < 2**31, (real, m)
        assert 1 <= sh <= 62
        error = abs(Fraction(m, 2**sh) - Fraction(real)) / Fraction(real)
        assert error <= Fraction(1, 2**31), (real, m, sh)


def test_multiplier_of_power_of_two():
    assert quantize_multiplier(0.5) == (2**30, 31)
    assert quantize_multiplier(1.0) == (2**30, 30)


def test_multiplier_overflowing_rounding_halved():
    real = 1.0 - 2.0**-40
    m, sh = quantize_multiplier(real)
    assert (m, sh) == (2**30, 30)


def test_multiplier_below_2_pow_30_shift_1():
    m, sh = quantize_multiplier(2.0**30 * 0.75)
    assert sh == 1
    assert m == 3 * 2**29


def test_multiplier_at_or_above_2_pow_30_rejected():
    with pytest.raises(MultiplierError, match="below 2\\^30"):
        quantize_multiplier(2.0**30)
    with pytest.raises(MultiplierError):
        quantize_multiplier(2.0**30 * (1 - 2.0**-40))


def test_tiny_multiplier_caps_shift_at_62():
    real = 3.0 * 2.0**-45
    m, sh = quantize_multiplier(real)
    assert sh == 62
    assert m == round(real * 2**62)


def test_invalid_multipliers_rejected():
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(MultiplierError):
            quantize_multiplier(bad)


def test_pair_shares_the_larger_multipliers_shift():
    m, m_r, sh = quantize_multiplier_pair(0.01, 0.3)
    assert (m_r, sh) == quantize_multiplier(0.3)
    assert m == math.floor(0.01 * 2**sh + 0.5)

    m, m_r, sh = quantize_multiplier_pair(0.3, 0.01)
    assert (m, sh) == quantize_multiplier(0.3)
    assert m_r == math.floor(0.01 * 2**sh + 0.5)


def test_avgpool_multiplier_for_one_position_is_m0():
    assert avgpool_multiplier(1_500_000_000, 33, 1) == (1_500_000_000, 33)


def test_avgpool_multiplier_matches_integer_formula():
    rng = random.Random(2)
    for _ in range(500):
        m0 = rng.randrange(2**30, 2**31)
        s0 = rng.randrange(1, 41)
        n = rng.randrange(1, 5000)
        k = math.ceil(math.log2(n)) if n > 1 else 0
        m = (m0 * 2**k + n // 2) // n
        sh = s0 + k
        if m >= 2**31:
            m, sh = (m + 1) // 2, sh - 1
        if sh > 62:
            with pytest.raises(MultiplierError):
                avgpool_multiplier(m0, s0, n)
            continue
        assert avgpool_multiplier(m0, s0, n) == (m, sh)
        assert m < 2**31
        relative = abs(Fraction(m, 2**sh) - Fraction(m0, n * 2**s0)) / Fraction(m0, n * 2**s0)
        assert relative <= Fraction(1, 2**29)


def test_avgpool_multiplier_overflow_halved():
    m, sh = avgpool_multiplier(2**31 - 1, 10, 3)
    assert m < 2**31
    assert sh == 10 + 2 - 1


def test_avgpool_rejects_too_many_positions():
    with pytest.raises(MultiplierError):
        avgpool_multiplier(2**30, 10, 2**31 // 255 + 1)


def test_requantize_rounds_half_up():
    # m / 2^sh = 1/2: acc * 1/2 for acc = -5, -3, -1, 1, 3, 5
    acc = np.array([-5, -3, -1, 1, 3, 5])
    result = requantize(acc, 1 << 30, 31, -128, 127)
    assert result.tolist() == [-2, -1, 0, 1, 2, 3]


def test_requantize_clamps_to_output_range():
    acc = np.array([-1000, 1000])
    assert requantize(acc, 1 << 30, 30, 0, 255).tolist() == [0, 255]
    assert requantize(acc, 1 << 30, 30, -128, 127).tolist() == [-128, 127]


def test_requantize_adds_residual_before_rounding():
    # (acc * 3 + r * 5 + 4) >> 3 in exact integers
    acc = np.array([10, -7, 2**31 - 1])
    residual = np.array([-3, 100, 127])
    result = requantize(acc, 3, 3, -(2**62), 2**62, residual, 5)
    expected = [(a * 3 + r * 5 + 4) // 8 for a, r in zip(acc.tolist(), residual.tolist())]
    assert result.tolist() == expected


def test_requantize_large_products_do_not_overflow():
    acc = np.array([2**31 - 1, -(2**31) + 1], dtype=np.int64)
    m = 2**31 - 1
    result = requantize(acc, m, 62, -(2**40), 2**40)
    expected = [math.floor(Fraction(a * m, 2**62) + Fraction(1, 2)) for a in acc.tolist()]
    assert result.tolist() == expected
