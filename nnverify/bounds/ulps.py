"""Units of the float formats: unit roundoff, ulps, distances in ulps, ``gamma_m``, rounding up.

All exact: spacings are powers of two returned as rationals; :func:`float_up` rounds a rational
up to the next float64, so a bound converted to a float is never below the bound.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from nnverify.certified import Enclosure
from nnverify.validate import check_dtype

__all__ = ["unit_roundoff", "ulp", "ulp_of", "ulp_distance", "gamma", "float_up", "float_format", "tiny"]


def float_format(dtype: Any) -> tuple[int, int]:
    """(precision p in bits incl. the hidden one, minimum normal exponent emin) of float32/float64."""
    import numpy as np

    fi = np.finfo(check_dtype(dtype))
    return int(fi.nmant) + 1, int(fi.minexp)


def unit_roundoff(dtype: Any) -> Fraction:
    """``u = 2**-p``: 2**-53 for float64, 2**-24 for float32 (round to nearest)."""
    p, _ = float_format(dtype)
    return Fraction(1, 1 << p)


def tiny(dtype: Any) -> Fraction:
    """The smallest subnormal: the absolute error any underflow may add per operation."""
    p, emin = float_format(dtype)
    return Fraction(2) ** (emin - p + 1)


def _floor_log2(q: Fraction) -> int:
    n, d = abs(q.numerator), q.denominator
    e = n.bit_length() - d.bit_length()
    # Now 2**(e-1) < n/d < 2**(e+1); settle which side of 2**e.
    if (n << -e if e < 0 else n) < (d << e if e > 0 else d):
        e -= 1
    return e


def ulp_of(q: Fraction, dtype: Any) -> Fraction:
    """The spacing of ``dtype`` floats at the exact value ``q`` (subnormal spacing near 0)."""
    p, emin = float_format(dtype)
    e = emin if q == 0 else max(_floor_log2(Fraction(q)), emin)
    return Fraction(2) ** (e - p + 1)


def ulp(value: float, dtype: Any) -> float:
    """The spacing of ``dtype`` floats at ``value``: ``ulp(1.0, float64) == 2**-52``."""
    if not math.isfinite(float(value)):
        return math.nan
    return float(ulp_of(Fraction(float(value)), dtype))


def ulp_distance(value: float, exact: Enclosure, dtype: Any) -> float:
    """``|value - exact|`` in ulps of ``dtype`` at the exact value; 0 when ``value`` is in the ball.

    The distance is to the nearest point of the enclosure (a lower bound on the true error,
    equal to it to the ball's width); NaN or infinite ``value`` gives ``inf``.
    """
    v = float(value)
    if not math.isfinite(v):
        return math.inf
    q = Fraction(v)
    dist = max(exact.lower - q, q - exact.upper, Fraction(0))
    return float(dist / ulp_of(exact.mid, dtype))


def gamma(m: int, u: Fraction) -> Fraction:
    """``gamma_m = m u / (1 - m u)``, the bound on m successive roundings; infinite if m u >= 1."""
    if m * u >= 1:
        return Fraction(10**300)
    return m * u / (1 - m * u)


def float_up(q: Fraction) -> float:
    """The smallest float64 ``>= q``."""
    try:
        f = float(q)
    except OverflowError:
        return math.inf
    if Fraction(f) < q:
        f = math.nextafter(f, math.inf)
    return f
