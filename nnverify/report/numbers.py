"""Numbers as LaTeX: significant figures, scientific notation for tiny and huge values.

Rounding is done on the exact rational (round half to even), so a printed digit string is
the correctly rounded value of the number it stands for, and ``exact`` says whether
rounding changed anything (the report then writes ``=`` instead of ``\\approx``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "Number",
    "format_number",
    "format_fixed",
    "format_bound",
    "round_significant",
    "mantissa_latex",
    "SCI_LOW",
    "SCI_HIGH",
    "FIXED_LOW",
    "FIXED_HIGH",
]

#: Magnitudes below this are written in scientific notation (1e-4 must not print as 0.000).
SCI_LOW = Fraction(1, 1000)
#: Magnitudes at or above this are written in scientific notation.
SCI_HIGH = Fraction(10**6)
#: NumPy's print thresholds: positional with a fixed number of decimals in [1e-4, 1e8).
FIXED_LOW = Fraction(1, 10**4)
FIXED_HIGH = Fraction(10**8)


@dataclass(frozen=True)
class Number:
    """A formatted number: LaTeX math source and what a printer needs to know about it.

    Args:
        latex: math-mode source, e.g. ``0.57444252`` or ``-1.5 \\times 10^{-4}``; for an
            interval ``[a, b]`` (a value whose certified ball gives no digit).
        negative: True when the printed value has a leading minus (printers parenthesise it).
        exact: True when ``latex`` is exactly the value (no rounding happened).
        interval: True when ``latex`` is an interval that contains the value.
    """

    latex: str
    negative: bool
    exact: bool
    interval: bool = False

    @property
    def relation(self) -> str:
        """How the value relates to ``latex``: ``=``, ``\\approx`` or ``\\in``."""
        if self.interval:
            return r"\in"
        return "=" if self.exact else r"\approx"

    def negated(self) -> Number:
        """The same number with its sign flipped (``-0.2`` -> ``0.2``); intervals are kept."""
        if self.interval or self.latex == "0":
            return self
        if self.negative:
            return Number(self.latex[1:], False, self.exact)
        return Number("-" + self.latex, True, self.exact)


def _floor_log10(q: Fraction) -> int:
    """floor(log10(q)) for q > 0, exactly (no float logarithms)."""
    e = len(str(q.numerator)) - len(str(q.denominator))
    # 10**e <= q < 10**(e+1) after at most one step either way.
    while Fraction(10) ** e > q:
        e -= 1
    while Fraction(10) ** (e + 1) <= q:
        e += 1
    return e


def round_significant(q: Fraction, digits: int) -> tuple[int, int, bool]:
    """Round ``|q| > 0`` to ``digits`` significant figures: ``(mantissa, exponent, exact)``.

    ``|q| ~ mantissa * 10**exponent`` with ``10**(digits-1) <= mantissa < 10**digits``,
    rounded half to even; ``exact`` is True when no rounding happened.
    """
    q = abs(q)
    e = _floor_log10(q) - digits + 1
    scaled = q / Fraction(10) ** e
    n = round(scaled)  # Fraction.__round__ rounds half to even
    exact = scaled == n
    if n == 10**digits:
        n //= 10
        e += 1
    return int(n), e, exact


def plain_digits(mantissa: int, exponent: int) -> str:
    """``mantissa * 10**exponent`` as a positional decimal with trailing zeros trimmed."""
    s = str(mantissa)
    if exponent >= 0:
        return s + "0" * exponent
    point = len(s) + exponent
    if point > 0:
        whole, frac = s[:point], s[point:]
    else:
        whole, frac = "0", "0" * (-point) + s
    frac = frac.rstrip("0")
    return whole + ("." + frac if frac else "")


def mantissa_latex(mantissa: int, exponent: int, *, scientific: bool) -> str:
    """``mantissa * 10**exponent`` (``mantissa > 0``) positional or as ``m \\times 10^{e}``."""
    if not scientific:
        return plain_digits(mantissa, exponent)
    s = str(mantissa).rstrip("0") or "0"
    e10 = exponent + len(str(mantissa)) - 1
    lead = s[0] + ("." + s[1:] if len(s) > 1 else "")
    return f"{lead} \\times 10^{{{e10}}}"


def format_fixed(value: Fraction | int, places: int = 8) -> Number:
    """``value`` as NumPy prints it at ``precision=places``: ``1.21402696``, ``0.7710107``.

    Args:
        value: an exact rational (or int).
        places: digits after the decimal point (trailing zeros trimmed) for magnitudes in
            [10^-4, 10^8); outside that range, scientific with ``places`` digits after the
            mantissa's point, as NumPy switches (``1.23456789 \\times 10^{-5}``).

    Example:
        >>> format_fixed(Fraction(12140269561658172, 10**16)).latex
        '1.21402696'
    """
    if places < 0:
        raise ValueError(f"places={places}: need 0 or more decimals")
    q = Fraction(value)
    if q == 0:
        return Number("0", False, True)
    sign = "-" if q < 0 else ""
    scaled = abs(q) * Fraction(10) ** places
    n = round(scaled)
    if n > 0 and FIXED_LOW <= Fraction(n, 10**places) < FIXED_HIGH:
        return Number(sign + plain_digits(int(n), -places), bool(sign), scaled == n)
    return format_number(q, places + 1)


def format_bound(value: float, digits: int = 3) -> Number:
    """An upper bound to ``digits`` figures, rounded *up* (still a bound), never with trailing
    zeros that claim digits: ``224000.3`` prints ``2.25 \\times 10^{5}``."""
    if not math.isfinite(value):
        return format_number(value, digits)
    q = Fraction(value)
    if q <= 0:
        return format_number(q, digits)
    mantissa, exponent, exact = round_significant(q, digits)
    if Fraction(mantissa) * Fraction(10) ** exponent < q:
        mantissa += 1
        if mantissa == 10**digits:
            mantissa, exponent = mantissa // 10, exponent + 1
    rounded = Fraction(mantissa) * Fraction(10) ** exponent
    sci = not SCI_LOW <= rounded < SCI_HIGH or exponent > 0
    return Number(mantissa_latex(mantissa, exponent, scientific=sci), False, exact)


def format_number(value: Fraction | float | int, digits: int = 8) -> Number:
    """``value`` with ``digits`` significant figures as LaTeX math.

    Args:
        value: an exact rational, a float (taken at its exact value) or an int.
        digits: significant figures kept (>= 1); trailing zeros are trimmed.

    Magnitudes in [10^-3, 10^6) are positional (``0.57444252``, ``1.1``, an exact ``1100``); others,
    and rounded values that would need zeros they do not have (``18014.7`` at 2 figures), use
    ``m \\times 10^{e}`` (``1 \\times 10^{-4}``). Zero prints as ``0``; a non-finite float as
    ``\\infty``, ``-\\infty`` or ``\\mathrm{NaN}``.

    Example:
        >>> format_number(Fraction(1, 10**4)).latex
        '1 \\\\times 10^{-4}'
    """
    if digits < 1:
        raise ValueError(f"digits={digits}: need at least 1 significant figure")
    if isinstance(value, float) and not math.isfinite(value):
        # An overflowed float result (or its infinite error) is data in a report, not a crash.
        if math.isnan(value):
            return Number(r"\mathrm{NaN}", False, True)
        return Number(r"\infty" if value > 0 else r"-\infty", value < 0, True)
    q = value if isinstance(value, Fraction) else Fraction(value)
    if q == 0:
        return Number("0", False, True)
    mantissa, exponent, exact = round_significant(q, digits)
    sign = "-" if q < 0 else ""
    rounded = Fraction(mantissa) * Fraction(10) ** exponent
    # a rounded value never shows zeros it does not have (18014.7 at 2 figures: 1.8 x 10^4, not 18000)
    scientific = not SCI_LOW <= rounded < SCI_HIGH or (exponent > 0 and not exact)
    body = mantissa_latex(mantissa, exponent, scientific=scientific)
    return Number(sign + body, bool(sign), exact)
