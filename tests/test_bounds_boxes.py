"""The pieces of the signed bound that issue 14 made cheaper, each against exact arithmetic.

- the sigmoid over a box from one exp (:func:`nnverify.bounds.boxes.unit_box`): every slope and
  value inside the box is enclosed (arb at 160 bits), and the hull stays tight;
- the backward step's factored radius (:func:`nnverify.bounds.vector.scaled_product`): every
  exact product ``G diag(d) W^T`` with ``G`` anywhere in its ball is within the radius (rationals);
- the binade staircase of a sum's additions (``sums._node_bounds``), skipping the binades that
  hold no rank: at least the exact sum over ranks, at most ``n`` times the top step.

Each check is shown able to fail on a deliberately wrong variant.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from flint import arb, ctx

from nnverify.bounds.boxes import VecConstants, unit_box
from nnverify.bounds.rounding import DEFAULT_ROUNDING
from nnverify.bounds.sums import _node_bounds
from nnverify.bounds.vector import FactoredRadius, column_sums_up, scaled_product
from nnverify.model import Activation

_C = VecConstants.of(DEFAULT_ROUNDING.constants(np.dtype(np.float64)), 1)


def _boxes() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(14)
    centre = np.concatenate([rng.uniform(-8, 8, 300), rng.uniform(-60, 60, 100), [0.0, 1e-300, -40.0, 40.0, 700.0]])
    width = np.concatenate([10.0 ** rng.uniform(-12, 0.5, 400), [1e-3, 1e-5, 0.5, 2.0, 1e-9]])
    return centre - width, centre + width


def _sigma(t: arb) -> arb:
    return 1 / (1 + (-t).exp())


def _rational(q: Fraction | float) -> arb:
    q = Fraction(q)
    return arb(q.numerator) / q.denominator


def _violations(lo: np.ndarray, hi: np.ndarray, d_lo: list[Fraction] | np.ndarray, d_hi: np.ndarray,
                s_lo: np.ndarray, s_hi: np.ndarray) -> int:
    """How many sample points of the boxes have a slope or a value outside the enclosure."""
    bad = 0
    with ctx.workprec(160):
        for i in range(lo.size):
            for f in (0.0, 0.25, 0.5, 0.75, 1.0):
                t = arb(float(lo[i])) * (1 - f) + arb(float(hi[i])) * f
                s = _sigma(t)
                E = (-abs(t)).exp()
                slope = E / (1 + E) ** 2  # relatively accurate in both tails (s (1 - s) is not)
                if not (_rational(d_lo[i]) <= slope and slope <= arb(float(d_hi[i]))):
                    bad += 1
                if not ((s_lo[i] <= 0 or arb(float(s_lo[i])) <= s) and (s_hi[i] >= 1 or s <= arb(float(s_hi[i])))):
                    bad += 1
    return bad


def test_the_sigmoid_box_from_one_exp_encloses_every_slope_and_value_in_the_box() -> None:
    lo, hi = _boxes()
    box = unit_box(Activation.SIGMOID, lo[None, :], hi[None, :], _C)
    d_lo = [Fraction(float(m)) - Fraction(float(r)) for m, r in zip(box.d_mid[0], box.d_rad[0])]  # exactly
    assert _violations(lo, hi, d_lo, box.lipschitz[0], box.lo[0], box.hi[0]) == 0
    # tight: for a box 1e-6 wide the hull of the slope is about 1e-6 of it wide (the exact one is
    # |1 - 2 sigma| sigma' w), not the whole [0, 1/4]
    narrow = unit_box(Activation.SIGMOID, np.array([[1.0]]), np.array([[1.0 + 2e-6]]), _C)
    assert 0 < 2 * narrow.d_rad[0, 0] < 1e-6 * narrow.lipschitz[0, 0]


def test_the_sigmoid_box_check_catches_a_slope_taken_at_the_near_end_only() -> None:
    lo, hi = _boxes()
    box = unit_box(Activation.SIGMOID, lo[None, :], hi[None, :], _C)
    # a box whose smallest slope is said to be its largest: wrong wherever the box is not a point
    assert _violations(lo, hi, box.lipschitz[0], box.lipschitz[0], box.lo[0], box.hi[0]) > 0


def test_the_sigmoid_box_of_nan_or_infinite_ends_is_the_whole_range() -> None:
    lo = np.array([[np.nan, -np.inf, 3.0, -np.inf]])
    hi = np.array([[1.0, 2.0, np.inf, np.inf]])
    box = unit_box(Activation.SIGMOID, lo, hi, _C)
    assert np.all(box.d_mid - box.d_rad <= 0) and np.all(box.lipschitz <= 0.25)
    assert box.lipschitz[0, 0] == 0.25 and box.hi[0, 0] == 1.0 and box.lo[0, 0] == 0.0
    assert np.all(np.isfinite(box.eta))


def _exact_product(G: np.ndarray, d: np.ndarray, WT: np.ndarray) -> list[list[list[Fraction]]]:
    N, K, n = G.shape
    m = WT.shape[1]
    return [[[sum((Fraction(G[r, k, i]) * Fraction(d[r, i]) * Fraction(WT[i, j]) for i in range(n)), Fraction(0))
              for j in range(m)] for k in range(K)] for r in range(N)]


def _outside(mid: np.ndarray, rad: np.ndarray, exact: list[list[list[Fraction]]]) -> int:
    return sum(abs(Fraction(mid[r, k, j]) - exact[r][k][j]) > Fraction(rad[r, k, j])
               for r in range(mid.shape[0]) for k in range(mid.shape[1]) for j in range(mid.shape[2]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_factored_radius_encloses_every_product_of_a_matrix_in_its_ball(seed: int) -> None:
    rng = np.random.default_rng(seed)
    N, K, n, m, p = 2, 3, 6, 4, 5
    scale = 10.0 ** rng.uniform(-30, 30)
    mid0 = rng.standard_normal((N, K, p)) * scale
    d0 = rng.standard_normal((N, p))
    WT0 = rng.standard_normal((p, n))
    mid1, rad1 = scaled_product(mid0, None, d0, WT0, column_sums_up(np.abs(WT0)))
    d1 = rng.standard_normal((N, n)) * 10.0 ** rng.uniform(-3, 3)
    WT1 = rng.standard_normal((n, m))
    mid2, rad2 = scaled_product(mid1, rad1, d1, WT1, column_sums_up(np.abs(WT1)))
    full1, full2 = rad1.full(), rad2.full()
    exact1 = _exact_product(mid0, d0, WT0)
    assert _outside(mid1, full1, exact1) == 0
    # G_true anywhere in mid1's ball: its exact value, and the corners of the ball
    for corner in (0, 1, -1):
        G: list[list[list[Fraction]]] = exact1 if corner == 0 else [
            [[Fraction(mid1[r, k, i]) + corner * Fraction(full1[r, k, i]) for i in range(n)] for k in range(K)]
            for r in range(N)]
        for r in range(N):
            for k in range(K):
                for j in range(m):
                    true = sum((G[r][k][i] * Fraction(d1[r, i]) * Fraction(WT1[i, j]) for i in range(n)), Fraction(0))
                    assert abs(Fraction(mid2[r, k, j]) - true) <= Fraction(full2[r, k, j])


def test_the_factored_radius_check_catches_a_dropped_radius() -> None:
    rng = np.random.default_rng(3)
    mid0 = rng.standard_normal((2, 3, 5))
    d0, WT0 = rng.standard_normal((2, 5)), rng.standard_normal((5, 4))
    mid1, rad1 = scaled_product(mid0, None, d0, WT0, column_sums_up(np.abs(WT0)))
    d1, WT1 = rng.standard_normal((2, 4)), rng.standard_normal((4, 3))
    wrong = FactoredRadius(np.zeros_like(rad1.r), rad1.c, 0.0)  # mid1 taken as exact
    mid2, rad2 = scaled_product(mid1, wrong, d1, WT1, column_sums_up(np.abs(WT1)))
    G = [[[Fraction(mid1[r, k, i]) + Fraction(rad1.full()[r, k, i]) for i in range(4)] for k in range(3)]
         for r in range(2)]
    exact = [[[sum((G[r][k][i] * Fraction(d1[r, i]) * Fraction(WT1[i, j]) for i in range(4)), Fraction(0))
               for j in range(3)] for k in range(3)] for r in range(2)]
    assert _outside(mid2, rad2.full(), exact) > 0


def _pow2_floor(v: Fraction) -> Fraction:
    if v <= 0:
        return Fraction(0)
    e = math.floor(math.log2(v))
    while Fraction(2) ** e > v:
        e -= 1
    while Fraction(2) ** (e + 1) <= v:
        e += 1
    return Fraction(2) ** e


def _staircase(M: float, S: float, E0: float, n: int) -> tuple[Fraction, Fraction]:
    """The exact sum over ranks 2..n+1 of ``b_k`` and ``b_k^2``, ``b_k = 2^floor(log2(min(M, sqrt(kS)) + E0))``
    (``sqrt`` bounded from above by a rational a hair above it: the sum can only grow)."""
    total, total_sq = Fraction(0), Fraction(0)
    for k in range(2, n + 2):
        root = Fraction(math.sqrt(k * S)) * (1 + Fraction(1, 2**50))
        b = _pow2_floor(min(Fraction(M), root) + Fraction(E0))
        total, total_sq = total + b, total_sq + b * b
    return total, total_sq


def test_the_staircase_is_at_least_the_exact_sum_over_ranks_and_never_above_n_top_steps() -> None:
    rng = np.random.default_rng(5)
    for n in (1, 7, 50, 784):
        t = np.abs(rng.standard_normal(n)) * 10.0 ** rng.uniform(-5, 5)
        M, S = float(t.sum()), float((t * t).sum())
        for E0 in (0.0, M * 1e-7, M * 0.3):
            nodes, nodes_sq = _node_bounds(np.array([[M]]), np.array([[S]]), np.array([[E0]]), n)
            exact, exact_sq = _staircase(M, S, E0, n)
            assert Fraction(float(nodes[0, 0])) >= exact and Fraction(float(nodes_sq[0, 0])) >= exact_sq, (n, E0)
            top = _pow2_floor(Fraction(M) + Fraction(E0)) * 2
            assert Fraction(float(nodes[0, 0])) <= n * top
            if n >= 50 and E0 < M * 1e-3:
                assert Fraction(float(nodes[0, 0])) < Fraction(n) * top / 2  # the staircase gains


def test_the_staircase_check_catches_a_step_below_the_truth() -> None:
    t = np.abs(np.random.default_rng(6).standard_normal(200))
    M, S = float(t.sum()), float((t * t).sum())
    nodes, _ = _node_bounds(np.array([[M]]), np.array([[S]]), np.array([[0.0]]), 200)
    exact, _ = _staircase(M, S, 0.0, 200)
    assert Fraction(float(nodes[0, 0])) / 2 < exact  # half of it would be below the exact sum
