"""Certified digits: a printed digit is a digit of every point of the ball, or it is not printed.

The checker :func:`certified_by` is independent of the printer: it parses the printed LaTeX
back to a rational and asks whether every point of the ball lies within half a unit of the
last printed place (or, for an interval, inside it). It is shown to reject wrong digits, so
the tests over the extreme networks can fail.
"""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from flint import arb, ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from nnverify.report.certdigits import ball_fixed, ball_significant, exact_fraction
from nnverify.report.numbers import Number

_NUM = re.compile(r"^(-?)(\d+)(?:\.(\d+))?(?: \\times 10\^\{(-?\d+)\})?$")


def parse_printed(latex: str) -> tuple[Fraction, Fraction]:
    """The value of a printed number and half a unit of its last printed place."""
    m = _NUM.match(latex)
    assert m, f"not a number: {latex!r}"
    sign, whole, frac, exp = m.groups()
    frac = frac or ""
    e = int(exp or 0) - len(frac)
    value = Fraction(int(whole + frac)) * Fraction(10) ** e
    return (-value if sign else value), Fraction(10) ** e / 2


def certified_by(num: Number, x: arb) -> bool:
    """True when ``num`` is certified by the ball ``x`` (see the module text)."""
    mid, rad = exact_fraction(x.mid()), exact_fraction(x.rad())
    lo, hi = mid - rad, mid + rad
    if num.interval:
        a, b = num.latex.strip("[]").split(", ")
        return parse_printed(a)[0] <= lo and hi <= parse_printed(b)[0]
    value, half = parse_printed(num.latex)
    if num.exact and not (lo == hi == value):
        return False
    return value - half <= lo and hi <= value + half


def test_the_checker_rejects_a_digit_outside_the_ball():
    x = arb("0.5744425168116590") + arb(0, 1e-12)
    assert certified_by(Number("0.57444252", False, False), x)
    assert not certified_by(Number("0.57444253", False, False), x)  # one digit off
    tiny = arb(2) ** -9085  # 2.1e-2735, below the Enclosure clamp of 2^-4096
    assert not certified_by(Number(r"5 \times 10^{-1234}", False, False), tiny)  # the old fallback
    assert certified_by(ball_significant(tiny, 20), tiny)


@pytest.mark.parametrize(
    ("ball", "digits", "latex"),
    [
        (arb(0), 8, "0"),
        (arb(0.5), 8, "0.5"),
        # mpmath: exp(10**6) = 3.0332153968...e434294, exp(-10**6) = 3.2968314780...e-434295,
        # 1/(1 + exp(3000)) = 1.3078390189...e-1303
        (-(arb(10) ** 6).exp(), 3, r"-3.03 \times 10^{434294}"),
        ((-arb(10**6)).exp(), 5, r"3.2968 \times 10^{-434295}"),
        (1 / (1 + arb(3000).exp()), 6, r"1.30784 \times 10^{-1303}"),
        (arb(0, 1) * arb(2) ** -4096, 8, r"[-9.6 \times 10^{-1234}, 9.6 \times 10^{-1234}]"),
        (arb(1) + arb(0, 0.01), 8, "1"),  # [0.99, 1.01]: only "1" is certified
        (arb(100) + arb(0, 40), 8, r"1 \times 10^{2}"),  # not "100": the units are not certified
        (arb(5) + arb(0, 3), 8, "[1.9, 8.1]"),  # no digit certified: an interval that holds it
    ],
)
def test_ball_significant_prints_only_certified_digits(ball, digits, latex):
    num = ball_significant(ball, digits)
    assert num.latex == latex
    assert certified_by(num, ball)


def test_ball_fixed_prints_as_numpy_prints_with_certified_digits():
    with ctx.workprec(128):
        x = arb("1.2140269561658172")
    assert ball_fixed(x, 8).latex == "1.21402696"
    assert ball_fixed(arb("0.77101069685561"), 8).latex == "0.7710107"
    assert ball_fixed((-arb(3000)).exp() / (1 + (-arb(3000)).exp()), 8).latex.endswith(r"\times 10^{-1303}")
    assert ball_fixed(arb(0.5) + arb(0, 1e-3), 8).latex == "0.5"  # [0.499, 0.501] rounds to 0.5 at 1 place
    assert ball_fixed(arb(0.3), 8).exact is False  # the float 0.3 is not 3/10


@settings(max_examples=300, deadline=None)
@given(
    mid=st.fractions(min_value=-10**9, max_value=10**9, max_denominator=10**12),
    scale=st.integers(min_value=-5000, max_value=5000),
    rad_bits=st.integers(min_value=2, max_value=200),
    digits=st.integers(min_value=1, max_value=25),
)
def test_every_printed_digit_is_certified(mid, scale, rad_bits, digits):
    with ctx.workprec(300):
        x = arb(mid.numerator) / mid.denominator * arb(2) ** scale
        x = x + arb(0, 1) * abs(x) * arb(2) ** -rad_bits
    assert certified_by(ball_significant(x, digits), x)
    assert certified_by(ball_fixed(x, min(digits, 17)), x)
