"""The one within-bound check every law uses, and the per-output bounds it compares against.

When two float results approximate the *same* exact value, they may differ by at most the sum of
their two bounds (triangle inequality); that is how batch consistency, hidden-unit permutation,
sigmoid symmetry and the softmax shift law get their tolerances. Differences of floats are
compared as exact rationals, so no extra rounding enters the comparison.

A bound that is not finite (a row whose exact values may overflow the float range, which the
rounding model leaves out) allows anything: :func:`allowance` returns None and the law is not
checked there. A non-finite result is infinitely far from any other value but the same infinity.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np

from nnverify.bounds.tiers import error_bounds
from nnverify.model import Network
from nnverify.suite.laws.base import LawBroken, Recorder, as_rows

__all__ = ["output_bounds", "check_within", "ratio", "allowance", "difference", "shown"]


def shown(v: Fraction | float | None) -> str:
    """``|v|`` to 3 digits for a message (``inf`` for None: a bound that is not finite)."""
    return "inf" if v is None else f"{abs(float(v)):.3g}"


def allowance(*bounds: float | np.floating) -> Fraction | None:
    """The exact sum of float bounds, or None when one is not finite (nothing can be checked)."""
    if not all(math.isfinite(float(b)) for b in bounds):
        return None
    return sum((Fraction(float(b)) for b in bounds), Fraction(0))


def difference(u: float | np.floating, v: float | np.floating) -> Fraction | float:
    """``u - v`` exactly; ``inf`` when either is NaN or infinite, unless both are the same infinity (0)."""
    fu, fv = float(u), float(v)
    if math.isfinite(fu) and math.isfinite(fv):
        return Fraction(fu) - Fraction(fv)
    return Fraction(0) if fu == fv else math.inf


def ratio(diff: Fraction | float, allowed: Fraction) -> float:
    """``|diff|`` as a fraction of ``allowed`` (0 for 0 of 0, inf beyond a zero allowance)."""
    if allowed == 0:
        return 0.0 if diff == 0 else float("inf")
    try:
        return abs(float(diff / allowed))
    except OverflowError:  # a ratio beyond the float range (1e300 over a subnormal bound)
        return math.inf


def check_within(
    rec: Recorder, diff: Fraction | float, allowed: Fraction | None, broken: Callable[[], LawBroken],
    **where: Any,
) -> None:
    """Record ``|diff| / allowed`` (the worst is reported) and raise ``broken()`` when ``|diff| > allowed``.

    Args:
        rec: the property's tally.
        diff: an exact difference of two floats (or of a float and an exact value).
        allowed: what the derived bounds allow for it (None: a bound is not finite, nothing to check).
        broken: builds the failure (only called when the law is broken).
        where: what to report with the worst case (``input=...``, ``law=...``).
    """
    if allowed is None:
        return
    r = ratio(diff, allowed)
    rec.observe(r, of_bound=r, **where)
    if (diff if diff >= 0 else -diff) > allowed:
        exc = broken()
        cex = exc.counterexample
        exc.counterexample = replace(cex, details={**cex.details, "of_bound": r})  # the table's "worst error"
        raise exc


def output_bounds(network: Network, x: np.ndarray) -> np.ndarray:
    """Rigorous per-output float error bounds ``(N, k)`` at inputs ``x``: the sound tier of
    :func:`nnverify.bounds.tiers.error_bounds` (these laws' tolerances must hold for every
    correct computation, so the probabilistic tier has no place here)."""
    from nnverify.compare import reference_balls  # the fast route where it pays, else arb's matrix route

    rows = as_rows(x)
    return np.asarray(error_bounds(network, reference_balls(network, rows)).sound, dtype=np.float64)

