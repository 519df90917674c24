"""Certified decimal digits of an enclosure: print only what every point of the interval agrees on.

Given balls around the two ends of an interval ``[L, H]``, :func:`certified_digits` returns the
value rounded to the most significant digits (at most ``d``) on which every point of the
interval rounds alike (round half even) — so each printed digit is the exact value's. When not
even one digit is shared (a wide interval, or one around 0), it returns the interval itself with
its ends rounded outward to two digits, ``"[0, 2.1e-1233]"``. Everything runs in ``arb``, whose
exponents are unbounded: ``sigmoid(-1e6) = 3.2968e-434295`` prints as such, no rational with a
million digits is built. :func:`exact_decimal` prints an exactly known rational in full when its
decimal expansion is short.
"""

from __future__ import annotations

from fractions import Fraction

from flint import arb, ctx, fmpz

__all__ = ["certified_digits", "certified_digits_count", "round_significant_ball", "outward_text",
           "outward_fraction_text", "exact_decimal", "decimal_text"]


def _integer(x: arb) -> int:
    """The integer an exact integer ball holds."""
    n = x.unique_fmpz()
    if n is None:
        raise ArithmeticError(f"{x} is not one integer")
    return int(n)


def _work_prec(x: arb, d: int) -> int:
    """Bits enough to scale ``x`` by a power of ten and still resolve ``d`` digits."""
    mid = x.mid()
    e = 0 if mid == 0 else int(mid.man_exp()[1])
    return int(3.33 * d) + 64 + 2 * fmpz(abs(e) + 1).bit_length()


def _decimal_exponents(x: arb, prec: int) -> list[int]:
    """Candidates for ``floor(log10 |x|)`` over the ball ``x`` (which excludes 0)."""
    with ctx.workprec(prec):
        lg = abs(x).log() / arb(10).log()
        lo, hi = _integer(lg.lower().floor()), _integer(lg.upper().floor())
    return list(range(lo, hi + 1)) if hi - lo < 3 else []


def round_significant_ball(x: arb, d: int, mode: str = "nearest") -> tuple[int, int] | None:
    """``(q, e)`` with ``10**(d-1) <= |q| < 10**d`` such that every point of the ball ``x`` rounds
    to ``q 10**e`` at ``d`` significant digits; None when that is not one value.

    Args:
        x: a finite ball that excludes 0.
        d: significant digits (>= 1).
        mode: "nearest" (half even), "down" or "up" (directed, for interval ends).
    """
    prec = _work_prec(x, d)
    for e10 in _decimal_exponents(x, prec):
        with ctx.workprec(prec):
            e = e10 - d + 1
            # |x| / 10**e, in [10**(d-1), 10**d) for the right e10 (exact whenever it can be)
            y = abs(x) / arb(10) ** e if e >= 0 else abs(x) * arb(10) ** (-e)
            if mode == "nearest":
                q = _integer((y.mid() + arb(0.5)).floor())
                if not (y > arb(q) - arb(0.5) and y < arb(q) + arb(0.5)):
                    tie = y - arb(0.5)
                    if not (tie.is_exact() and tie.is_integer()):
                        continue
                    k = _integer(tie)
                    q = k if k % 2 == 0 else k + 1
            else:
                towards_up = (mode == "up") != bool(x < 0)
                end = y.upper().ceil() if towards_up else y.lower().floor()
                if not end.is_exact():
                    continue
                q = _integer(end)
        if q == 10**d:  # 9.99... rounded up to 10.0...
            q, e = q // 10, e + 1
        if 10 ** (d - 1) <= q < 10**d:
            return (-q if x < 0 else q), e
    return None


def decimal_text(q: int, e: int, limit: int) -> str:
    """``q 10**e`` as ``Decimal`` formats it: positional for decimal exponents -5 .. limit-1 (so no
    zero that is not a digit of the value shows before the point), else ``1.5e-10`` — with an
    exponent of any size (``Decimal`` stops near 10**18)."""
    sign = "-" if q < 0 else ""
    digits = str(abs(q))
    adjusted = e + len(digits) - 1
    if -5 <= adjusted < limit:
        if e >= 0:
            return sign + digits + "0" * e
        point = len(digits) + e
        if point > 0:
            return sign + digits[:point] + "." + digits[point:]
        return sign + "0." + "0" * (-point) + digits
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mantissa}e{'+' if adjusted >= 0 else '-'}{abs(adjusted)}"


def outward_text(x: arb, mode: str) -> str:
    """The exact point ``x`` rounded outward ("down" or "up") to two significant digits."""
    if x == 0:
        return "0"
    r = round_significant_ball(x, 2, mode)
    if r is None:  # cannot happen for an exact point; never print a digit we are not sure of
        return "?"
    q, e = r
    while q % 10 == 0 and q != 0:
        q, e = q // 10, e + 1
    return decimal_text(q, e, 2)


def outward_fraction_text(q: Fraction, mode: str) -> str:
    """The rational ``q`` rounded outward ("down" or "up") to two significant digits, exactly."""
    if q == 0:
        return "0"
    a = abs(q)
    e10 = len(str(a.numerator // a.denominator)) - 1 if a >= 1 else -len(str(a.denominator // a.numerator))
    while Fraction(10) ** e10 > a:
        e10 -= 1
    while Fraction(10) ** (e10 + 1) <= a:
        e10 += 1
    e = e10 - 1
    y = a / Fraction(10) ** e
    towards_up = (mode == "up") != (q < 0)
    k = -((-y.numerator) // y.denominator) if towards_up else y.numerator // y.denominator
    if k == 100:
        k, e = 10, e + 1
    while k % 10 == 0:
        k, e = k // 10, e + 1
    return decimal_text(-k if q < 0 else k, e, 2)


def certified_digits(lower: arb, upper: arb, d: int,
                     ends: tuple[Fraction, Fraction] | None = None) -> str:
    """The interval ``[L, H]`` as certified text (see :func:`certified_digits_count`)."""
    return certified_digits_count(lower, upper, d, ends)[0]


def certified_digits_count(lower: arb, upper: arb, d: int,
                           ends: tuple[Fraction, Fraction] | None = None) -> tuple[str, int]:
    """The interval ``[L, H]`` as certified text, given balls ``lower`` ∋ L and ``upper`` ∋ H.

    Args:
        lower: a ball around the lower end.
        upper: a ball around the upper end.
        d: at most this many significant digits.
        ends: the exact ends as rationals when known (the outward rounding is then exact).

    Returns the text and how many digits it certifies (0 for an interval).
    """
    if lower.is_zero() and upper.is_zero():
        return "0", d
    if lower > 0 or upper < 0:
        for k in range(d, 0, -1):
            lo_r = round_significant_ball(lower, k)
            if lo_r is not None and lo_r == round_significant_ball(upper, k):
                return decimal_text(lo_r[0], lo_r[1], k), k
    # no digit shared (or 0 inside): the interval itself, its ends rounded outward
    if ends is not None:
        return f"[{outward_fraction_text(ends[0], 'down')}, {outward_fraction_text(ends[1], 'up')}]", 0
    return f"[{outward_text(lower.lower(), 'down')}, {outward_text(upper.upper(), 'up')}]", 0


def exact_decimal(q: Fraction, d: int) -> str | None:
    """The rational ``q`` in full when its decimal expansion ends within ``d`` significant digits."""
    den = q.denominator
    twos = (den & -den).bit_length() - 1
    rest = den >> twos
    fives = 0
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1 or max(twos, fives) > 4 * d + 400:
        return None
    n = max(twos, fives)
    M = q.numerator * (10**n) // den  # exact: den divides 10**n
    e = -n
    while M % 10 == 0 and M != 0:
        M, e = M // 10, e + 1
    if len(str(abs(M))) > d:
        return None
    return decimal_text(M, e, d)
