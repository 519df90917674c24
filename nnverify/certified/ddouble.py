"""Double-double balls on float64 arrays: error-free transformations and rigorous running error bounds.

A :class:`DD` holds, elementwise, an exact value enclosed as ``hi + lo ± rad``: ``hi + lo`` is an
unevaluated sum of two float64 (about 106 bits), ``rad`` a float64 radius rounded upward. Every
operation below returns a new ball that contains every exact result of the operation on every
pair of exact values in its arguments' balls.

Assumptions (checked at start-up by :func:`nnverify.certified.elementary.check_float_environment`):
IEEE binary64, round to nearest even, no flush-to-zero (subnormals kept), no fused contraction of
NumPy's elementwise operations (NumPy never contracts). Under them:

- :func:`two_sum` (Knuth): ``s + e == a + b`` exactly, for every finite ``a, b`` without overflow;
- :func:`two_prod` (Dekker with Veltkamp's split): ``p + e == a * b`` exactly when
  ``|a|, |b| < 2**995`` and ``|p| >= 2**-969``; otherwise the error is bounded and added to the
  radius (:func:`_prod_slack`);
- one rounded operation with a finite result is off by at most ``u |result|`` (``u = 2**-53``) plus,
  for a product or quotient, ``2**-1075`` when it underflows (sums and differences that underflow
  are exact). :func:`up` of a rounded nonnegative result is therefore an upper bound of its exact
  value, so every radius is rounded up step by step.

Overflow and NaN are not bounded: they are *detected* — :func:`DD.sanitized` turns any non-finite
part into an infinite radius, which every verdict reads as "not decided" (the caller escalates).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = [
    "U",
    "ETA",
    "DD",
    "up",
    "two_sum",
    "fast_two_sum",
    "split",
    "two_prod",
    "dd_add",
    "dd_sub",
    "dd_mul",
    "dd_mul_float",
    "dd_div",
    "dd_from_fraction",
    "upper_sum",
]

#: Unit roundoff of binary64 and the smallest positive subnormal.
U = 2.0**-53
ETA = 2.0**-1074
#: ``u (1 + 2u)``: bounds ``u x`` from the float ``x`` computed with one rounding (see ``_err``).
_U1 = U * (1 + 4 * U)
#: ``9 u^2`` rounded up with room for its own rounding (see :func:`dd_mul`).
_MUL_ERR = 9 * U * U * (1 + 8 * U)
#: Veltkamp's splitting constant ``2**27 + 1``.
_SPLITTER = 134217729.0
#: Below this magnitude a Dekker product may lose its exactness to underflow.
_PROD_EXACT_MIN = 2.0**-969


#: ``1 + 2**-52``: multiplying a nonnegative normal float by it moves it up by at least one ulp.
_ONE_UP = 1.0 + 2.0**-52


def up(x: np.ndarray) -> np.ndarray:
    """For ``x >= 0``: a float ``>= nextafter(x, inf)``, so an upper bound of the exact result of the
    one rounded operation that gave ``x``.

    ``fl(fl(x (1 + 2**-52)) + 2**-1074)``: for normal ``x``, ``x 2**-52 >= ulp(x)`` so the product
    rounds to at least ``x + ulp(x)``; for subnormal ``x`` (and 0) the addition is exact and adds
    one ulp. Five times cheaper than ``np.nextafter``. Not for negative ``x``.
    """
    return x * _ONE_UP + ETA


def two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(s, e)`` with ``s = fl(a + b)`` and ``s + e == a + b`` exactly (Knuth; no branch, any order)."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


def fast_two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(s, e)`` with ``s + e == a + b`` exactly, provided ``|a| >= |b|`` or ``a == 0`` (Dekker)."""
    s = a + b
    e = b - (s - a)
    return s, e


def split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp's split ``a = hi + lo`` exactly, each half of at most 26 significant bits (``|a| < 2**995``)."""
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def two_prod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(p, e)`` with ``p = fl(a b)`` and ``p + e == a b`` exactly when no underflow or overflow
    threatens (``|a|, |b| < 2**995``, ``|p| >= 2**-969``); :func:`_prod_slack` bounds the rest."""
    p = a * b
    ah, al = split(a)
    bh, bl = split(b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def _prod_slack(p: np.ndarray, e: np.ndarray) -> np.ndarray:
    """An upper bound of ``|a b - (p + e)|`` from :func:`two_prod`: 0 where it is exact, else
    ``|a b - p| + |e| <= 2u|p| + 2**-1075 + |e|`` (the standard model with underflow)."""
    risky = np.abs(p) < _PROD_EXACT_MIN
    if not risky.any():
        return np.zeros(())
    slack = up(up(np.abs(p) * (2 * _U1)) + np.abs(e)) + ETA
    return np.where(risky, slack, 0.0)


def _err(x: np.ndarray) -> np.ndarray:
    """An upper bound of ``u |x|`` (the error of the rounding that produced ``x``) plus one underflow."""
    return up(np.abs(x) * _U1) + ETA


def upper_sum(*terms: np.ndarray | float) -> np.ndarray:
    """The sum of nonnegative floats rounded upward after every addition: never below the exact sum."""
    total = np.asarray(terms[0])
    for t in terms[1:]:
        total = up(total + t)
    return total


@dataclass(frozen=True, eq=False)
class DD:
    """Exact values enclosed as ``hi + lo ± rad`` elementwise (float64 arrays of one shape).

    Args:
        hi: leading parts.
        lo: trailing parts (``|lo| <= u |hi|`` after every operation here).
        rad: radii, ``>= 0``, ``inf`` where nothing is known.
    """

    hi: np.ndarray
    lo: np.ndarray
    rad: np.ndarray

    @classmethod
    def exact(cls, x: np.ndarray) -> DD:
        """The float64 values ``x`` themselves (radius 0)."""
        x = np.asarray(x, dtype=np.float64)
        return cls(x, np.zeros_like(x), np.zeros_like(x))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.hi.shape)

    def abs_upper(self) -> np.ndarray:
        """An upper bound of every enclosed value's magnitude."""
        return upper_sum(np.abs(self.hi), np.abs(self.lo), self.rad)

    def mid_rad64(self) -> tuple[np.ndarray, np.ndarray]:
        """The enclosure as a float64 ball ``(hi, rad')`` with ``rad' >= |lo| + rad`` (for vectorized bounds)."""
        return self.hi, upper_sum(np.abs(self.lo), self.rad)

    def sanitized(self) -> DD:
        """The same ball with an infinite radius (and midpoint 0) wherever any part is not finite."""
        bad = ~(np.isfinite(self.hi) & np.isfinite(self.lo) & np.isfinite(self.rad))
        if not bad.any():
            return self
        return DD(np.where(bad, 0.0, self.hi), np.where(bad, 0.0, self.lo), np.where(bad, np.inf, self.rad))

    def distance_bounds(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(near, far)``: ``near`` a lower bound of the distance from each float ``values`` to the
        nearest point of its ball, ``far`` an upper bound of the distance to the farthest point;
        both ``inf`` for NaN or infinite values; ``(0, inf)`` where the ball is infinite (it tells
        nothing: never "far", never "near").

        ``d = v - hi - lo`` is ``s + e - lo`` exactly with ``(s, e) = TwoSum(v, -hi)``; the two
        remaining roundings are bounded by ``u (|t| + |w|)``.
        """
        v = np.asarray(values, dtype=np.float64)
        with np.errstate(all="ignore"):
            s, e = two_sum(v, -self.hi)
            t = e - self.lo
            w = s + t
            # sums of nonnegative floats round to 0 only when exactly 0: an exact 0 stays 0
            parts = np.abs(t) + np.abs(w)
            eps = np.where(parts == 0, 0.0, up(up(parts) * _U1))
            aw = np.abs(w)
            far = aw + eps
            far = np.where(far == 0, 0.0, up(far))
            far = np.where(far + self.rad == 0, 0.0, up(far + self.rad))
            near = np.maximum(np.nextafter(np.nextafter(aw - eps, -np.inf) - self.rad, -np.inf), 0.0)
            wrong = ~np.isfinite(v)  # NaN or infinite: infinitely far from any real number
            unknown = ~np.isfinite(far) & ~wrong  # a ball that encloses nothing useful: it could be anywhere
        near = np.where(wrong, np.inf, np.where(unknown, 0.0, near))
        return np.asarray(near), np.where(wrong | unknown, np.inf, far)

    def neg(self) -> DD:
        return DD(-self.hi, -self.lo, self.rad)

    def take(self, index: Any) -> DD:
        return DD(self.hi[index], self.lo[index], self.rad[index])


def dd_add(x: DD, y: DD) -> DD:
    """``x + y``: two exact TwoSums around the one rounded sum of the trailing parts."""
    s, e = two_sum(x.hi, y.hi)
    w = x.lo + y.lo  # rounded: |err| <= u|w|
    t = e + w  # rounded: |err| <= u|t|
    hi, lo = two_sum(s, t)
    rounding = up(up(np.abs(w) + np.abs(t)) * _U1)
    return DD(hi, lo, up(up(x.rad + y.rad) + rounding))


def dd_sub(x: DD, y: DD) -> DD:
    """``x - y``."""
    return dd_add(x, y.neg())


def dd_mul(x: DD, y: DD) -> DD:
    """``x y``: TwoProduct of the leading parts, the cross terms in float64, the tiny ``lo lo`` dropped.

    With ``P = |x.hi y.hi|`` and ``|lo| <= u |hi|``: the cross terms are at most ``u P`` each, their
    roundings and the rounding of ``e + c`` add at most ``(1 + 1 + 2 + 3) u^2 P``, the dropped
    ``x.lo y.lo`` at most ``u^2 P``: in all ``8 u^2 (1 + u)^4 |p| <= 9 u^2 |p|``, plus one
    underflow per rounded cross product and the TwoProduct slack where it may underflow.
    """
    p, e = two_prod(x.hi, y.hi)
    c = x.hi * y.lo + x.lo * y.hi
    hi, lo = two_sum(p, e + c)
    err = np.abs(p) * _MUL_ERR + 4 * ETA  # see the docstring; the product's rounding is in _MUL_ERR
    slack = _prod_slack(p, e)
    # radius: |x||dy| + |y||dx| + |dx||dy| with |x| <= |x.hi| (1 + u), likewise y
    spread = up(up(up(np.abs(x.hi) * y.rad) + up(np.abs(y.hi) * x.rad)) * (1 + 2 * U))
    spread = up(spread + up(x.rad * y.rad))
    return DD(hi, lo, up(up(spread + err) + slack))


def dd_mul_float(x: DD, f: np.ndarray | float) -> DD:
    """``x f`` for exact float64 ``f`` (broadcast)."""
    f_arr = np.broadcast_to(np.asarray(f, dtype=np.float64), x.hi.shape)
    return dd_mul(x, DD(f_arr, np.zeros_like(x.hi), np.zeros_like(x.hi)))


def dd_div(x: DD, y: DD) -> DD:
    """``x / y`` for balls ``y`` that exclude 0.

    With ``N``, ``D`` the exact midpoints and ``q1 = fl(N.hi / D.hi)``: ``N/D = q1 + R/D`` with
    ``R = N - D q1``, enclosed as the ball ``r`` (two exact transformations and the bounded
    roundings of :func:`dd_sub`, :func:`dd_mul`). Then ``q2 = fl(r.hi / D.hi)`` and
    ``|R/D - q2| <= (r.rad + 2u |r.hi|) / |D| + u |q2| + 2**-1075`` — the ball's radius, the
    dropped trailing parts (``|lo| <= u |hi|`` for both), the division's rounding; ``q1 + q2``
    is a TwoSum. The balls' own radii add ``(|dx| + |N/D| |dy|) / |y|`` with ``|y|`` at its
    lower end. Where the ball ``y`` touches 0 the radius is infinite.
    """
    q1 = x.hi / y.hi
    mids = DD(x.hi, x.lo, np.zeros_like(x.hi))
    r = dd_sub(mids, dd_mul_float(DD(y.hi, y.lo, np.zeros_like(y.hi)), q1))
    q2 = r.hi / y.hi
    q_hi, q_lo = two_sum(q1, q2)
    with np.errstate(divide="ignore", invalid="ignore"):
        y_low = np.nextafter(np.nextafter(np.abs(y.hi) - np.abs(y.lo), -np.inf) - y.rad, -np.inf)
        mid_err = upper_sum(up(upper_sum(r.rad, up(np.abs(r.hi) * (2 * _U1))) / y_low), up(np.abs(q2) * _U1), ETA)
        aq = upper_sum(np.abs(q_hi), np.abs(q_lo), mid_err)
        if np.any(x.rad) or np.any(y.rad):
            mid_err = upper_sum(mid_err, up(upper_sum(x.rad, up(aq * y.rad)) / y_low))
        rad = np.where(y_low > 0, mid_err, np.inf)
    return DD(q_hi, q_lo, rad).sanitized()


def dd_from_fraction(q: Fraction, shape: tuple[int, ...] = ()) -> DD:
    """The rational ``q`` as a double-double ball (``hi`` nearest, ``lo`` nearest the rest, exact radius)."""
    hi = float(q)
    rest = q - Fraction(hi)
    lo = float(rest)
    left = abs(rest - Fraction(lo))
    rad = 0.0 if left == 0 else _float_up(left)
    return DD(np.full(shape, hi), np.full(shape, lo), np.full(shape, rad))


def _float_up(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) >= q else float(np.nextafter(f, np.inf))
