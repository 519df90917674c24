"""Balls and enclosures: exact rationals in and out of python-flint ``arb`` balls.

A binary float (or any dyadic rational that fits a float64) becomes an *exact* ball of radius
0; a non-dyadic rational (the decimal ``1/10``) becomes a tiny ball around it. An
:class:`Enclosure` is the exact interval ``[lower, upper]`` a finite ball stands for.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

import numpy as np
from flint import arb, fmpq

from nnverify.errors import UsageError

__all__ = ["ball", "arf_to_fraction", "Enclosure", "TINY_EXPONENT"]

#: Magnitudes below ``2**TINY_EXPONENT`` are enclosed as ``[0, 2**TINY_EXPONENT]`` (see
#: :meth:`Enclosure.from_ball`): 2**-1074 is the smallest float64, so nothing is lost.
TINY_EXPONENT = -4096


def ball(q: Fraction | int | float) -> arb:
    """A ball containing the rational ``q``: exact (radius 0) when ``q`` is a float64 value.

    Uses the current ``flint.ctx.prec`` for a non-dyadic ``q`` (e.g. 1/10), which then gets a
    radius of about ``2**-prec`` relative; ``arb(p) / arb(q)`` would do the same, never better.
    """
    if isinstance(q, float):
        return arb(q)  # arb(float) is exact
    q = Fraction(q)
    try:
        f = float(q)
    except OverflowError:
        f = float("nan")
    if f == f and Fraction(f) == q:
        return arb(f)
    return arb(fmpq(q.numerator, q.denominator))


def arf_to_fraction(x: arb) -> Fraction:
    """The exact value of an exact ``arb`` (a midpoint or a radius): man * 2**exp."""
    m, e = x.man_exp()
    man, exp = int(m), int(e)
    return Fraction(man << exp) if exp >= 0 else Fraction(man, 1 << -exp)


@dataclass(frozen=True)
class Enclosure:
    """A closed interval ``[lower, upper]`` guaranteed to contain the exact value.

    Args:
        lower: exact rational lower end.
        upper: exact rational upper end (``>= lower``).

    Example:
        >>> e = Enclosure(Fraction(1, 3), Fraction(1, 2))
        >>> e.contains(0.4), e.mid
        (True, Fraction(5, 12))
    """

    lower: Fraction
    upper: Fraction

    def __post_init__(self) -> None:
        if not self.lower <= self.upper:
            raise UsageError(f"enclosure [{self.lower}, {self.upper}] is empty; need lower <= upper")

    @classmethod
    def from_ball(cls, x: arb) -> Enclosure:
        """The exact interval ``[mid - rad, mid + rad]`` of a finite ``arb``.

        A ball entirely below ``2**TINY_EXPONENT`` in magnitude (e.g. ``sigmoid(-1e6)``, about
        ``10**-434294``) becomes the wider enclosure ``[0, 2**TINY_EXPONENT]`` (or its mirror):
        still guaranteed, far below any float's resolution, and spares rationals with millions
        of digits.
        """
        if not x.is_finite():
            raise ArithmeticError(f"ball {x} is not finite; it encloses nothing useful")
        man, exp = x.abs_upper().man_exp()
        if int(man) != 0 and int(man).bit_length() + int(exp) < TINY_EXPONENT:
            tiny = Fraction(1, 1 << -TINY_EXPONENT)
            if x >= 0:
                return cls(Fraction(0), tiny)
            if x <= 0:
                return cls(-tiny, Fraction(0))
            return cls(-tiny, tiny)
        mid, rad = arf_to_fraction(x.mid()), arf_to_fraction(x.rad())
        return cls(mid - rad, mid + rad)

    @property
    def mid(self) -> Fraction:
        return (self.lower + self.upper) / 2

    @property
    def rad(self) -> Fraction:
        return (self.upper - self.lower) / 2

    def contains(self, q: Fraction | float | int) -> bool:
        """True when ``q`` (a rational, or a float taken as its exact value) lies in the interval."""
        if isinstance(q, (float, np.floating)):
            if not np.isfinite(q):
                return False
            q = Fraction(float(q))
        return self.lower <= Fraction(q) <= self.upper

    def digits(self, d: int = 20) -> str:
        """The midpoint to ``d`` significant decimal digits (round half even), e.g. ``"0.31682707641102976546"``.

        Exact values with fewer digits print shorter (``"0.5"``). Small or large magnitudes print
        in scientific notation (``"1.2345e-10"``). These are the midpoint's digits: every one is
        the exact value's too when ``rad`` is well below half a unit in the last place (128-bit
        balls carry about 35 correct digits; :func:`certify` takes ``prec`` for more).
        """
        if not isinstance(d, int) or d < 1:
            raise UsageError(f"digits {d!r}: must be a positive whole number")
        m = self.mid
        if m == 0:
            return "0"
        with localcontext() as c:
            c.prec, c.rounding = d, ROUND_HALF_EVEN
            c.Emax, c.Emin = 10**9, -(10**9)
            value = Decimal(m.numerator) / Decimal(m.denominator)
        e = value.adjusted()
        if -5 <= e < d:
            text = format(value, "f")
        else:
            text = format(value, "e")
        return text

    def __float__(self) -> float:
        """The float64 nearest the midpoint."""
        return float(self.mid)

