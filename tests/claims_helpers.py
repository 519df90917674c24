"""Shared pieces of the claims tests (``test_claims_*.py``): exact values and adversarial floats.

The containment tests compare final enclosures against arb; a loose worst-case term can hide a
wrong intermediate bound there (``split_rows``' ``rest_max`` was off by a factor of two and no
containment test noticed). Here each claim a docstring or comment makes is tested on its own,
with rationals (``Fraction``) or arb at high precision, on adversarial inputs: binade edges,
ties, subnormals, cancellation, wide dynamic ranges, sizes at the limits of the formulas.

Each test notes a perturbation of the code that makes it fail (its teeth); several were tried
in a scratch copy of the package. The four claims found false
(``dd_exp`` of a wide ball below -1000, ``FactoredRadius`` with a large absolute term, ``upper_dot``'s
text, the ``W_rest`` term of ``dd_affine``) are fixed; their tests check the corrected bounds.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from flint import arb

from nnverify.certified.ddouble import DD, two_sum

F = Fraction
U = F(1, 2**53)
ETA = F(1, 2**1074)
TINY = 2.0**-1074
PREC = 1024  # bits for arb: every float enters exactly, transcendental values to ~300 digits


def rat(x: float) -> Fraction:
    """A float (or NumPy scalar) as the rational it is exactly."""
    return F(float(x))


def arb_q(v: Fraction) -> arb:
    return arb(v.numerator) / v.denominator


def signs(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(np.array([-1.0, 1.0]), n)


def edge_mantissas(rng: np.random.Generator, n: int) -> np.ndarray:
    """Significands in [1, 2) biased to the binade edges and to patterns that make ties."""
    kind = rng.integers(0, 6, n)
    low = 2.0**-52 * rng.integers(1, 16, n)  # a few low bits set
    return np.select([kind == 0, kind == 1, kind == 2, kind == 3, kind == 4],
                     [np.ones(n), np.full(n, 2 - 2.0**-52), 1 + low, 2 - low, np.full(n, 1.5)],
                     rng.uniform(1, 2, n))


def dd_adversarial(rng: np.random.Generator, n: int, emin: int = -60, emax: int = 60) -> DD:
    """Exact (radius 0) double-doubles with ``|lo|`` at or near its limit ``u |hi|``, edge significands."""
    hi = np.ldexp(edge_mantissas(rng, n), rng.integers(emin, emax, n)) * signs(rng, n)
    frac = np.where(rng.random(n) < 0.5, 1.0, rng.uniform(0.5, 1.0, n))
    lo = hi * 2.0**-53 * frac * signs(rng, n)
    hi, lo = two_sum(hi, lo)
    assert np.all(np.abs(lo) <= np.abs(hi) * 2.0**-53)
    return DD(hi, lo, np.zeros(n))


def dd_value(x: DD, i: int) -> Fraction:
    return rat(x.hi.flat[i]) + rat(x.lo.flat[i])


def dd_error_ratio(z: DD, exact: list[Fraction]) -> float:
    """max over entries of ``|exact - (hi + lo)| / rad`` (must be <= 1); infinite radii skipped."""
    worst = 0.0
    for i, v in enumerate(exact):
        if not np.isfinite(z.rad.flat[i]):
            continue
        err = abs(v - dd_value(z, i))
        if err:
            assert z.rad.flat[i] > 0, (i, v)
            worst = max(worst, float(err / rat(z.rad.flat[i])))
    return worst


def exact_nonneg_product(A: np.ndarray, B: np.ndarray) -> list[list[Fraction]]:
    """The exact product of float matrices, entry by entry, as rationals."""
    return [[sum((F(a) * F(b) for a, b in zip(A[i].tolist(), B[:, j].tolist())), F(0)) for j in range(B.shape[1])]
            for i in range(A.shape[0])]
