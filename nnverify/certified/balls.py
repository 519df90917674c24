"""Balls and enclosures: exact rationals in and out of python-flint ``arb`` balls.

A binary float (or any dyadic rational that fits a float64) becomes an *exact* ball of radius
0; a non-dyadic rational (the decimal ``1/10``) becomes a tiny ball around it. An
:class:`Enclosure` is the exact interval ``[lower, upper]`` a finite ball stands for, printed
truthfully: only certified digits, at any magnitude.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
from flint import arb, ctx, fmpq

from nnverify.certified.digits import certified_digits_count, decimal_text, exact_decimal, round_significant_ball
from nnverify.errors import UsageError

__all__ = ["ball", "arf_to_fraction", "Enclosure", "MAX_RATIONAL_BITS"]

#: Ends of an enclosure further than this many bits below 1 are not written as rationals: the
#: rational view (:attr:`Enclosure.lower`, ``upper``) widens them to ``[0, 2**-MAX_RATIONAL_BITS]``
#: (a million-digit ``Fraction`` helps no one); digits, floats and containment use the ball itself.
MAX_RATIONAL_BITS = 1 << 22


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


class Enclosure:
    """A closed interval ``[lower, upper]`` guaranteed to contain the exact value.

    Made from exact rationals (``Enclosure(Fraction(1, 3), Fraction(1, 2))``) or from an ``arb``
    ball (:meth:`from_ball`), which is then kept: its ends are exact dyadic numbers with unbounded
    exponents, so ``sigmoid(-1e6)`` (about ``3.3e-434295``) stays itself — :meth:`digits` prints
    only certified digits, never a clamped stand-in.

    Args:
        lower: exact rational lower end.
        upper: exact rational upper end (``>= lower``).

    Example:
        >>> e = Enclosure(Fraction(1, 3), Fraction(1, 2))
        >>> e.contains(0.4), e.mid
        (True, Fraction(5, 12))
    """

    __slots__ = ("_lower", "_upper", "_ball", "_finer", "_refined")

    def __init__(self, lower: Fraction | int | float, upper: Fraction | int | float) -> None:
        lo, hi = Fraction(lower), Fraction(upper)
        if not lo <= hi:
            raise UsageError(f"enclosure [{lo}, {hi}] is empty; need lower <= upper")
        self._lower: Fraction | None = lo
        self._upper: Fraction | None = hi
        self._ball: arb | None = None
        self._finer: Callable[[], Enclosure] | None = None
        self._refined: Enclosure | None = None

    @classmethod
    def from_ball(cls, x: arb, finer: Callable[[], Enclosure] | None = None) -> Enclosure:
        """The exact interval ``[mid - rad, mid + rad]`` of a finite ``arb`` (nothing clamped).

        Args:
            x: the ball.
            finer: optionally, how to get a tighter enclosure of the same value (the fast
                path's balls refined with arb): :meth:`digits` asks it, once, when ``x`` alone
                cannot certify the digits asked for.
        """
        if not x.is_finite():
            raise ArithmeticError(f"ball {x} is not finite; it encloses nothing useful")
        enc = cls.__new__(cls)
        enc._lower = enc._upper = None
        enc._ball = x
        enc._finer, enc._refined = finer, None
        return enc

    def refined(self) -> Enclosure:
        """The tighter enclosure :meth:`digits` used (computed on first call), or this one."""
        if self._refined is None and self._finer is not None:
            self._refined = self._finer()
        return self._refined if self._refined is not None else self

    # -- the exact ends as rationals (computed on first use) ---------------------------------
    def _ends(self) -> tuple[Fraction, Fraction]:
        if self._lower is None or self._upper is None:
            assert self._ball is not None
            self._lower, self._upper = _rational_ends(self._ball)
        return self._lower, self._upper

    @property
    def lower(self) -> Fraction:
        return self._ends()[0]

    @property
    def upper(self) -> Fraction:
        return self._ends()[1]

    @property
    def mid(self) -> Fraction:
        lo, hi = self._ends()
        return (lo + hi) / 2

    @property
    def rad(self) -> Fraction:
        lo, hi = self._ends()
        return (hi - lo) / 2

    def as_ball(self) -> arb:
        """An ``arb`` ball containing the whole interval (the original ball when there is one)."""
        if self._ball is not None:
            return self._ball
        lo, hi = self._ends()
        bits = max(64, lo.numerator.bit_length(), lo.denominator.bit_length(),
                   hi.numerator.bit_length(), hi.denominator.bit_length()) + 64
        with ctx.workprec(bits):
            return _fraction_ball(lo).union(_fraction_ball(hi))

    def _end_balls(self) -> tuple[arb, arb]:
        """Balls around the lower and the upper end."""
        if self._ball is not None:
            x = self._ball
            with ctx.workprec(max(ctx.prec, x.mid().bits() + 64, 128)):
                return x.lower(), x.upper()
        lo, hi = self._ends()
        bits = max(lo.numerator.bit_length(), lo.denominator.bit_length(),
                   hi.numerator.bit_length(), hi.denominator.bit_length()) + 128
        with ctx.workprec(bits):
            return _fraction_ball(lo), _fraction_ball(hi)

    def is_point(self) -> bool:
        """True when the interval is one exactly known number."""
        if self._ball is not None:
            return bool(self._ball.rad() == 0)
        return self._lower == self._upper

    def contains(self, q: Fraction | float | int) -> bool:
        """True when ``q`` (a rational, or a float taken as its exact value) lies in the interval."""
        if isinstance(q, (float, np.floating)):
            if not np.isfinite(q):
                return False
            if self._ball is not None:
                return bool(self._ball.contains(arb(float(q))))  # exact: both are dyadic
            q = Fraction(float(q))
        return self.lower <= Fraction(q) <= self.upper

    def digits(self, d: int = 20) -> str:
        """The value to at most ``d`` significant digits, every one of them certified.

        Prints the digits every point of the interval rounds to (round half even), so fewer than
        ``d`` when the enclosure is not tight enough (``"0.3168"``); an exactly known value with
        a short expansion prints in full (``"0.5"``); an interval around 0, or one not even its
        first digit is certain of, prints as itself with its ends rounded outward
        (``"[0, 2.1e-1233]"``). Small or large magnitudes print in scientific notation
        (``"1.2345e-10"``). Magnitudes are unbounded: ``"3.2968314780885585790e-434295"``.
        """
        if not isinstance(d, int) or d < 1:
            raise UsageError(f"digits {d!r}: must be a positive whole number")
        if self._refined is not None:
            return self._refined.digits(d)
        if self.is_point() and (self._ball is None or _moderate(self._ball)):
            text = exact_decimal(self.lower, d)
            if text is not None:
                return text
        lo, hi = self._end_balls()
        ends = self._ends() if self._ball is None or _moderate(self._ball) else None
        text, k = certified_digits_count(lo, hi, d, ends)
        if k < d and self._finer is not None:
            return self.refined().digits(d)
        return text

    def rad_upper(self) -> float:
        """The radius rounded up to a float64 (``5e-324`` for a positive radius below every float);
        of the tighter enclosure when :meth:`digits` needed one (so it goes with the digits shown)."""
        if self._refined is not None:
            return self._refined.rad_upper()
        lo, hi = self._end_balls()
        with ctx.workprec(64):
            r = ((hi - lo) / 2).upper()
        return _arb_float_up(r)

    def rad_text(self, d: int = 2) -> str:
        """The radius to ``d`` digits, rounded up (``"4.8e-434333"``; ``"0"`` for an exact value);
        of the tighter enclosure when :meth:`digits` needed one."""
        if self._refined is not None:
            return self._refined.rad_text(d)
        lo, hi = self._end_balls()
        with ctx.workprec(64):
            r = ((hi - lo) / 2).upper()
        if r == 0:
            return "0"
        result = round_significant_ball(r, d, "up")
        if result is None:
            return "?"
        q, e = result
        while q % 10 == 0:
            q, e = q // 10, e + 1
        return decimal_text(q, e, d)

    def __float__(self) -> float:
        """The float64 nearest the midpoint."""
        if self._ball is not None:
            return float(self._ball.mid())
        return float(self.mid)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Enclosure):
            return NotImplemented
        return self._ends() == other._ends()

    def __hash__(self) -> int:
        return hash(self._ends())

    def __repr__(self) -> str:
        return f"Enclosure({self.digits(20)}, rad {self.rad_text()})"


def _moderate(x: arb) -> bool:
    """Are the ball's exponents small enough for its rationals to be worth computing?"""
    return bool(x.is_zero() or abs(int(x.mid().man_exp()[1])) < MAX_RATIONAL_BITS)


def _rational_ends(x: arb) -> tuple[Fraction, Fraction]:
    """The exact ends of the ball as rationals; beyond :data:`MAX_RATIONAL_BITS`, the sound widening."""
    if _moderate(x) and (x.rad() == 0 or abs(int(x.rad().man_exp()[1])) < MAX_RATIONAL_BITS):
        mid, rad = arf_to_fraction(x.mid()), arf_to_fraction(x.rad())
        return mid - rad, mid + rad
    tiny = Fraction(1, 1 << MAX_RATIONAL_BITS)
    with ctx.workprec(64):
        small = x.abs_upper() < arb(2) ** (-MAX_RATIONAL_BITS)
    if small:
        if x >= 0:
            return Fraction(0), tiny
        if x <= 0:
            return -tiny, Fraction(0)
        return -tiny, tiny
    raise ArithmeticError(f"ball {x.str(5)} has exponents beyond {MAX_RATIONAL_BITS} bits; no rational view")


def _fraction_ball(q: Fraction) -> arb:
    return arb(fmpq(q.numerator, q.denominator))


def _arb_float_up(r: arb) -> float:
    """The smallest float64 ``>=`` the exact (radius-free) value ``r >= 0``."""
    if r == 0:
        return 0.0
    with ctx.workprec(64):
        if r > arb(float(np.finfo(np.float64).max)):
            return math.inf
        if r < arb(5e-324):
            return 5e-324
    f = float(r)
    return f if arb(f) >= r else math.nextafter(f, math.inf)
