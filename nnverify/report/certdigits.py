"""Certified digits: print a ball's value with only the digits every point of the ball has.

A digit string is printed for a ball ``[lo, hi]`` only when *both* ends round to it (rounding
is monotone, so then every point of the ball does). When no digit is certified — the ball
straddles zero, or is wider than its first digit — the value is printed as an interval
``[a, b]`` rounded outward, which still contains it: never a midpoint at one digit.

Everything is read from the raw ``arb`` ball, never from a clamped
:class:`~nnverify.certified.Enclosure`: arb exponents are unbounded, so ``sigmoid(-10^6)``
(about 3.3e-434295) prints its true digits. The decimal exponent and the scaled endpoints
are computed in ball arithmetic too, so the decision itself is rigorous.
"""

from __future__ import annotations

from fractions import Fraction

from flint import arb, ctx

from nnverify.report.numbers import (
    FIXED_HIGH,
    FIXED_LOW,
    SCI_HIGH,
    SCI_LOW,
    Number,
    format_fixed,
    format_number,
    mantissa_latex,
    round_significant,
)

__all__ = ["ball_significant", "ball_fixed", "ball_interval", "exact_fraction", "outward", "enclosure_significant"]

#: Extra bits beyond the digits asked for when scaling a ball by a power of ten.
_GUARD_BITS = 64


def exact_fraction(x: arb) -> Fraction:
    """The exact value of the midpoint of ``x`` (an exact dyadic ``man * 2**exp``)."""
    man_z, exp_z = x.man_exp() if x.is_exact() else x.mid().man_exp()
    man, exp = int(man_z), int(exp_z)
    return Fraction(man << exp) if exp >= 0 else Fraction(man, 1 << -exp)


def _prec(digits: int) -> int:
    return int(digits * 3.33) + _GUARD_BITS


def _ends(x: arb) -> tuple[Fraction, Fraction]:
    """Exact ends of the ball: ``mid - rad`` and ``mid + rad`` (no rounding at all)."""
    mid, rad = exact_fraction(x.mid()), exact_fraction(x.rad())
    return mid - rad, mid + rad


def _round_ball(b: arb) -> int | None:
    """The integer every point of ``b`` rounds to (half to even), or None when they differ."""
    lo, hi = _ends(b)
    n_lo, n_hi = round(lo), round(hi)
    return int(n_lo) if n_lo == n_hi else None


def _scaled_round(x: arb, shift: int, digits: int) -> int | None:
    """round(|x| * 10**shift) when every point of the ball ``x`` (not containing 0) agrees."""
    with ctx.workprec(_prec(digits)):
        scale = arb(10) ** shift if shift >= 0 else 1 / arb(10) ** (-shift)
        # A ball around each exact end, scaled in ball arithmetic: still contains the exact end.
        lo, hi = (abs(x.mid()) - x.rad()) * scale, (abs(x.mid()) + x.rad()) * scale
    n_lo, n_hi = _round_ball(lo), _round_ball(hi)
    return n_lo if n_lo is not None and n_lo == n_hi else None


def _decimal_exponent(x: arb, digits: int) -> int | None:
    """floor(log10 |x|) when the ball decides it, else the larger candidate (None if undecided badly)."""
    with ctx.workprec(_prec(digits)):
        lg = abs(x).log() / arb(10).log()
    lo, hi = _ends(lg)
    e_lo, e_hi = lo.__floor__(), hi.__floor__()
    if e_hi - e_lo > 1:
        return None
    return int(e_hi)


def _is_exact(x: arb, mantissa: int, exponent: int) -> bool:
    if not x.is_exact():
        return False
    return abs(exact_fraction(x)) == Fraction(mantissa) * Fraction(10) ** exponent


def _sign(x: arb) -> str:
    return "-" if x < 0 else ""


def ball_interval(x: arb, digits: int = 2) -> Number:
    """``[a, b]`` containing the ball ``x``: each end rounded outward to ``digits`` figures."""
    lo, hi = _ends(x)
    return Number(f"[{_outward(lo, digits, down=True)}, {_outward(hi, digits, down=False)}]",
                  False, False, interval=True)


def _outward(q: Fraction, digits: int, *, down: bool) -> str:
    if q == 0:
        return "0"
    n = format_number(q, digits)
    if n.exact:
        return n.latex
    # Round outward: toward -inf for a lower end, toward +inf for an upper end.
    mantissa, exponent, _ = round_significant(q, digits)
    value = Fraction(mantissa) * Fraction(10) ** exponent * (1 if q > 0 else -1)
    if (down and value > q) or (not down and value < q):
        mantissa += -1 if (q > 0) == down else 1
        if mantissa == 0:
            return "0"
        if mantissa == 10**digits:
            mantissa, exponent = mantissa // 10, exponent + 1
    rounded = Fraction(mantissa) * Fraction(10) ** exponent
    body = mantissa_latex(mantissa, exponent, scientific=not SCI_LOW <= rounded < SCI_HIGH)
    return ("-" if q < 0 else "") + body


def ball_significant(x: arb, digits: int) -> Number:
    """The ball's value to ``digits`` significant figures, fewer when the ball certifies fewer.

    Args:
        x: a finite ball.
        digits: the most significant figures wanted (>= 1).

    Positional in [10^-3, 10^6), scientific outside (as :func:`format_number`). A ball that
    certifies no digit prints as an interval.
    """
    if x.is_exact() and x.is_zero():
        return Number("0", False, True)
    if x.contains(0) or not x.is_finite():
        return ball_interval(x)
    for d in range(digits, 0, -1):
        e = _decimal_exponent(x, d)
        if e is None:
            break
        for exp10 in (e, e - 1):  # a ball across a power of ten: try the lower decade too
            n = _scaled_round(x, d - 1 - exp10, d)
            if n is None or not 10 ** (d - 1) <= n <= 10**d:
                continue
            exponent = exp10 - d + 1
            if n == 10**d:
                n, exponent = n // 10, exponent + 1
            rounded = Fraction(n) * Fraction(10) ** exponent
            # "100" would claim the units digit: a rounding above the units is scientific.
            sci = not SCI_LOW <= rounded < SCI_HIGH or exponent > 0
            body = mantissa_latex(n, exponent, scientific=sci)
            sign = _sign(x)
            return Number(sign + body, bool(sign), _is_exact(x, n, exponent))
    return ball_interval(x)


def ball_fixed(x: arb, places: int) -> Number:
    """The ball's value as NumPy prints at ``precision=places`` (see :func:`format_fixed`).

    Args:
        x: a finite ball.
        places: decimals after the point in [10^-4, 10^8); scientific outside that range with
            ``places`` decimals in the mantissa. Fewer when the ball certifies fewer.
    """
    if x.is_exact():
        return format_fixed(exact_fraction(x), places)
    if x.contains(0) or not x.is_finite():
        return ball_interval(x)
    lo, hi = _ends(x)
    if FIXED_LOW <= min(abs(lo), abs(hi)) and max(abs(lo), abs(hi)) < FIXED_HIGH:
        for p in range(places, -1, -1):
            n = _scaled_round(x, p, p + 8)
            if n is not None and n > 0 and Fraction(n, 10**p) >= FIXED_LOW:
                sign = _sign(x)
                return Number(sign + mantissa_latex(n, -p, scientific=False), bool(sign),
                              _is_exact(x, n, -p))
        return ball_interval(x)
    return ball_significant(x, places + 1)


def outward(q: Fraction, digits: int, *, down: bool) -> str:
    """``q`` to ``digits`` figures rounded away from the inside: down for a lower end, up for an
    upper end (LaTeX math), so a range ``[outward(lo), outward(hi)]`` still holds ``[lo, hi]``.

    Args:
        q: the exact value.
        digits: significant figures.
        down: round toward minus infinity (a lower end); else toward plus infinity.
    """
    return _outward(q, digits, down=down)


def enclosure_significant(lower: Fraction, upper: Fraction, digits: int) -> Number:
    """The value in ``[lower, upper]`` to ``digits`` significant figures, fewer when the two ends
    share fewer (each printed figure is a figure of every point); an interval when none.

    Args:
        lower: the exact lower end.
        upper: the exact upper end (``>= lower``).
        digits: the most significant figures wanted (>= 1).
    """
    if lower == upper:
        return format_number(lower, digits)
    if lower <= 0 <= upper:
        return Number(f"[{_outward(lower, 2, down=True)}, {_outward(upper, 2, down=False)}]",
                      False, False, interval=True)
    for d in range(digits, 0, -1):
        lo, hi = format_number(lower, d), format_number(upper, d)
        if lo.latex == hi.latex:
            return Number(lo.latex, lo.negative, False)
    return Number(f"[{_outward(lower, 2, down=True)}, {_outward(upper, 2, down=False)}]",
                  False, False, interval=True)
