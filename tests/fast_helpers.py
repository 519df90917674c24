"""Helpers for the fast-path tests: exact containment checks against ``arb`` at high precision."""

from __future__ import annotations

import numpy as np
from flint import arb, ctx

#: Working precision of the containment checks (every float and radius enters exactly).
CHECK_PREC = 4096


def dd_ball(hi: float, lo: float, rad: float) -> arb:
    """The real interval ``hi + lo ± rad`` as an arb ball (exact at :data:`CHECK_PREC`)."""
    with ctx.workprec(CHECK_PREC):
        return arb(float(hi)) + arb(float(lo)) + arb(0, float(rad))


def f64_ball(mid: float, rad: float) -> arb:
    """The real interval ``mid ± rad``."""
    with ctx.workprec(CHECK_PREC):
        return arb(float(mid)) + arb(0, float(rad))


def not_contained(ours: arb, reference: arb) -> bool:
    """True when the reference ball is not inside ours (an infinite ``ours`` contains everything)."""
    if not ours.is_finite():
        return False
    return not ours.contains(reference)


def uncontained_entries(mid: np.ndarray, rad: np.ndarray, reference: list[list[arb]],
                        lo: np.ndarray | None = None) -> list[tuple[int, int]]:
    """The ``(row, col)`` entries whose ball ``mid (+ lo) ± rad`` does not contain the reference ball."""
    bad = []
    for i, row in enumerate(reference):
        for j, ref in enumerate(row):
            low = 0.0 if lo is None else float(lo[i, j])
            if not_contained(dd_ball(mid[i, j], low, rad[i, j]), ref):
                bad.append((i, j))
    return bad
