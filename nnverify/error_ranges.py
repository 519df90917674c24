"""What one result's error is known to be: the interval its enclosure allows, and the text printed.

A result (:class:`~nnverify.verdicts.OutputResult`) keeps its error as the distance from the float
to the nearest point of the exact value's enclosure, a lower bound. The true error lies between
that and the distance to the farthest point; in ulps, the ulp itself may differ across the
enclosure where it holds a power of two (:func:`spans_binades`). What nnverify prints is
:func:`error_ulp_text`: three figures where every error the enclosure allows rounds to them, else an
interval holding them all.
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import Any, Protocol

from nnverify.bounds import ulp_of
from nnverify.certified import Enclosure

__all__ = ["spans_binades", "error_ulp_range", "error_abs_range", "error_ulp_text", "float_or_inf"]


class Result(Protocol):
    """What these functions read of a result: the float and the exact value's enclosure."""

    @property
    def value(self) -> float: ...

    @property
    def exact(self) -> Enclosure: ...


def _units(exact: Enclosure, dtype: Any) -> tuple[Fraction, Fraction]:
    """The smallest and the largest ulp of ``dtype`` over the enclosure."""
    lo, hi = exact.lower, exact.upper
    small = Fraction(0) if lo <= 0 <= hi else min(abs(lo), abs(hi))
    return ulp_of(small, dtype), ulp_of(max(abs(lo), abs(hi)), dtype)


def spans_binades(exact: Enclosure, dtype: Any) -> bool:
    """Whether the ulp of ``dtype`` differs across the enclosure (it contains a power of two): a
    tolerance in ulps of the exact value is then known only to a factor of 2, and no verdict that
    uses one is certain until the ball is narrower."""
    if exact.lower == exact.upper:
        return False
    unit_min, unit_max = _units(exact, dtype)
    return unit_min != unit_max


def _distances(r: Result) -> tuple[Fraction, Fraction]:
    """The distances from the (finite) float to the nearest and the farthest point of the enclosure."""
    lo, hi, v = r.exact.lower, r.exact.upper, Fraction(r.value)
    return max(lo - v, v - hi, Fraction(0)), max(abs(v - lo), abs(v - hi))


def error_ulp_range(r: Result, dtype: Any) -> tuple[float, float]:
    """Floats ``(lo, hi)`` with the true error of ``r`` in ulps of its exact value in ``[lo, hi]``:
    the nearest and the farthest point of its enclosure, in the largest and the smallest ulp over
    it, rounded outward (``(inf, inf)`` for a NaN or infinite value)."""
    if not math.isfinite(r.value):
        return math.inf, math.inf
    near, far = _distances(r)
    unit_min, unit_max = _units(r.exact, dtype)
    return _outward(near / unit_max, far / unit_min)


def error_abs_range(r: Result) -> tuple[float, float]:
    """Floats ``(lo, hi)`` with the true absolute error of ``r`` in ``[lo, hi]`` (see :func:`error_ulp_range`)."""
    if not math.isfinite(r.value):
        return math.inf, math.inf
    return _outward(*_distances(r))


def error_ulp_text(r: Result, dtype: Any) -> str:
    """The error in ulps as nnverify prints it: 3 figures where every error the enclosure allows
    rounds to them, else an interval holding them all (``[0, 4.56e+05]`` for an undecided output)."""
    lo, hi = error_ulp_range(r, dtype)
    if _g3(lo) == _g3(hi):
        return _g3(lo)
    return f"[{_g3_outward(lo, up=False)}, {_g3_outward(hi, up=True)}]"


def _g3(v: float) -> str:
    return "inf" if math.isinf(v) else ("nan" if math.isnan(v) else f"{v:.3g}")


def _g3_outward(v: float, *, up: bool) -> str:
    """``v`` to 3 significant figures rounded down or up (an end of an interval that must hold it)."""
    if not math.isfinite(v) or v == 0:
        return _g3(v)
    e = math.floor(math.log10(abs(v))) - 2
    d = Decimal(v).scaleb(-e).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return _g3(float(d.scaleb(e)))


def float_or_inf(q: Fraction) -> float:
    """``q`` as a float, ``inf`` beyond the float range (a relative error near a value of 1e-400)."""
    try:
        return float(q)
    except OverflowError:
        return math.inf if q > 0 else -math.inf


def _outward(low: Fraction, high: Fraction) -> tuple[float, float]:
    """``low`` rounded down and ``high`` rounded up to floats (``inf`` beyond the range)."""
    f = float_or_inf(low)
    if math.isfinite(f) and Fraction(f) > low:
        f = math.nextafter(f, -math.inf)
    g = float_or_inf(high)
    if math.isfinite(g) and Fraction(g) < high:
        g = math.nextafter(g, math.inf)
    return f, g
