"""The one within-bound check every law uses, and the per-output bounds it compares against.

When two float results approximate the *same* exact value, they may differ by at most the sum of
their two bounds (triangle inequality); that is how batch consistency, hidden-unit permutation,
sigmoid symmetry and the softmax shift law get their tolerances. Differences of floats are
compared as exact rationals, so no extra rounding enters the comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np

from nnverify.bounds.tiers import error_bounds
from nnverify.model import Network
from nnverify.suite.laws.base import LawBroken, Recorder, as_rows

__all__ = ["output_bounds", "check_within", "ratio"]


def ratio(diff: Fraction, allowed: Fraction) -> float:
    """``|diff|`` as a fraction of ``allowed`` (0 for 0 of 0, inf beyond a zero allowance)."""
    if allowed == 0:
        return 0.0 if diff == 0 else float("inf")
    return float(abs(diff) / allowed)


def check_within(
    rec: Recorder, diff: Fraction, allowed: Fraction, broken: Callable[[], LawBroken], **where: Any
) -> None:
    """Record ``|diff| / allowed`` (the worst is reported) and raise ``broken()`` when ``|diff| > allowed``.

    Args:
        rec: the property's tally.
        diff: an exact difference of two floats (or of a float and an exact value).
        allowed: what the derived bounds allow for it.
        broken: builds the failure (only called when the law is broken).
        where: what to report with the worst case (``input=...``, ``law=...``).
    """
    r = ratio(diff, allowed)
    rec.observe(r, of_bound=r, **where)
    if abs(diff) > allowed:
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

