"""Double-double balls, Ozaki products and the dd exp: every enclosure checked exactly (arb at 4096 bits)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from fast_helpers import dd_ball, not_contained
from flint import arb, ctx
from hypothesis import given
from hypothesis import strategies as st

from nnverify.certified.ddexp import dd_exp
from nnverify.certified.ddouble import DD, dd_add, dd_div, dd_mul, split, two_prod, two_sum, up
from nnverify.certified.ozaki import WeightSlices, dd_affine, slice_bits, split_cols, split_rows

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)
moderate = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e150, max_value=1e150)


def _exact(x: DD, i: int) -> arb:
    return dd_ball(x.hi.flat[i], x.lo.flat[i], x.rad.flat[i])


def _dd(values: list[float], rng: np.random.Generator) -> DD:
    hi = np.array(values, dtype=np.float64)
    lo = hi * 2.0**-54 * rng.uniform(-1, 1, hi.shape)
    hi, lo = two_sum(hi, lo)
    rad = np.abs(hi) * 2.0**-90 * rng.uniform(0, 1, hi.shape)
    return DD(hi, lo, rad)


@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=20))
def test_two_sum_is_exact(pairs: list[tuple[float, float]]) -> None:
    a, b = (np.array(v) for v in zip(*pairs))
    with np.errstate(over="ignore", invalid="ignore"):
        s, e = two_sum(a, b)
    for ai, bi, si, ei in zip(a, b, s, e):
        if np.isfinite(si):
            assert Fraction(si) + Fraction(ei) == Fraction(ai) + Fraction(bi)


@given(st.lists(st.tuples(moderate, moderate), min_size=1, max_size=20))
def test_two_prod_is_exact_away_from_underflow(pairs: list[tuple[float, float]]) -> None:
    a, b = (np.array(v) for v in zip(*pairs))
    p, e = two_prod(a, b)
    for ai, bi, pi, ei in zip(a, b, p, e):
        if abs(pi) >= 2.0**-969:
            assert Fraction(pi) + Fraction(ei) == Fraction(ai) * Fraction(bi)
    hi, lo = split(a)
    assert all(Fraction(h) + Fraction(q) == Fraction(x) for h, q, x in zip(hi, lo, a))


def test_up_is_above_nextafter() -> None:
    x = np.array([0.0, 5e-324, 2.0**-1022, 1.0, 1.5, 2.0**1023, np.finfo(float).max, np.inf])
    with np.errstate(over="ignore"):
        assert np.all(up(x) >= np.nextafter(x, np.inf))


@pytest.mark.parametrize("op", ["add", "mul", "div"])
def test_dd_ops_enclose_every_exact_result(op: str) -> None:
    rng = np.random.default_rng(7)
    scales = np.exp(rng.uniform(-600, 600, 300))
    x = _dd(list(rng.standard_normal(300) * scales), rng)
    y = _dd(list(rng.standard_normal(300) * scales[::-1]), rng)
    with np.errstate(all="ignore"):
        z = {"add": dd_add, "mul": dd_mul, "div": dd_div}[op](x, y)
    for i in range(300):
        with ctx.workprec(8192):
            X, Y = _exact(x, i), _exact(y, i)
            ref = X + Y if op == "add" else X * Y if op == "mul" else X / Y
        assert not not_contained(_exact(z, i), ref), (op, i)


def test_a_narrowed_ball_is_caught() -> None:
    """The containment check itself can fail: the same product with its radius cut is refused."""
    rng = np.random.default_rng(3)
    x, y = _dd([1 / 3, 2 / 7], rng), _dd([3.1, -1e-5], rng)
    z = dd_mul(x, y)
    with ctx.workprec(8192):
        ref = _exact(x, 0) * _exact(y, 0)
    assert not not_contained(_exact(z, 0), ref)
    assert not_contained(dd_ball(z.hi[0], z.lo[0], 0.0), ref)


def test_slices_are_exact_and_their_products_too() -> None:
    rng = np.random.default_rng(11)
    n = 300
    X = rng.standard_normal((5, n)) * np.exp(rng.uniform(-40, 40, (5, n)))
    W = rng.standard_normal((n, 4)) * np.exp(rng.uniform(-40, 40, (n, 4)))
    X[3, :] = 0.0
    X[4, 7] = -2.0**600  # too large to slice: the row stays whole in rest
    bits = slice_bits(n)
    before = X.copy()
    xs, ws = split_rows(X, bits), split_cols(W, bits)
    assert np.array_equal(X, before)  # the input is left alone
    assert np.array_equal(sum(xs.slices) + xs.rest, X)
    assert np.array_equal(xs.rest[4], X[4]) and not any(s[4].any() for s in xs.slices)
    assert xs.rest_max[3] == 0.0 and xs.rest_max[4] == 2.0**600
    assert np.all(np.abs(xs.rest) <= xs.rest_max[:, None])
    for p in range(3):
        for q in range(3):
            got = xs.slices[p] @ ws.slices[q]
            for i in range(5):
                for j in range(4):
                    exact = sum(Fraction(a) * Fraction(b) for a, b in zip(xs.slices[p][i], ws.slices[q][:, j]))
                    assert Fraction(got[i, j]) == exact


@pytest.mark.parametrize("scale", [1.0, 1e-300, 1e-310, 1e200])
def test_dd_affine_encloses_the_exact_weighted_sum(scale: float) -> None:
    rng = np.random.default_rng(int(-np.log10(scale) + 400))
    N, n, m = 3, 41, 4
    X = _dd(list(rng.standard_normal(N * n) * np.exp(rng.uniform(-30, 3, N * n)) * scale), rng)
    X = DD(X.hi.reshape(N, n), X.lo.reshape(N, n), X.rad.reshape(N, n))
    W = rng.standard_normal((n, m)) * np.exp(rng.uniform(-20, 3, (n, m)))
    b = rng.standard_normal(m) * scale
    with np.errstate(all="ignore"):
        A, _ = dd_affine(X, WeightSlices.of(W, b))
    for i in range(N):
        for j in range(m):
            with ctx.workprec(8192):
                ref = sum((dd_ball(X.hi[i, k], X.lo[i, k], X.rad[i, k]) * arb(float(W[k, j])) for k in range(n)),
                          arb(float(b[j])))
            assert not not_contained(dd_ball(A.hi[i, j], A.lo[i, j], A.rad[i, j]), ref)
            if scale == 1.0:  # and tight: about 100 bits
                assert A.rad[i, j] < 1e-26 * sum(abs(X.hi[i, k] * W[k, j]) for k in range(n))


def test_dd_exp_encloses_exp_and_expm1_to_about_100_bits() -> None:
    rng = np.random.default_rng(2)
    xs = np.concatenate([rng.uniform(-1000, 700, 400), rng.uniform(-1, 1, 200), rng.standard_normal(100) * 1e-3,
                         rng.standard_normal(50) * 1e-12,
                         [0.0, -0.0, 1e-300, -5e-324, -744.5, -745.2, -1000.0, -1000.1, -1e308, 700.0, 709.0, 1e308],
                         np.log(2) * np.arange(-20, 20) / 1024])
    x = _dd(list(xs), rng)
    x = DD(x.hi, x.lo, np.zeros_like(x.hi))
    E, M = dd_exp(x)
    assert M is not None
    for i in range(len(xs)):
        if xs[i] > 700:
            assert E.rad[i] == np.inf  # not attempted: never a wrong answer
            continue
        with ctx.workprec(4096):
            a = arb(float(x.hi[i])) + arb(float(x.lo[i]))
            ea = a.exp()
            ma = ea - 1
        assert not not_contained(_exact(E, i), ea), xs[i]
        assert not not_contained(_exact(M, i), ma), xs[i]
        if -700 < xs[i] and xs[i] != 0:
            assert E.rad[i] < 1e-28 * float(ea.mid()) + 1e-320  # a few subnormal steps at the bottom
            if abs(xs[i]) > 1e-9:
                assert M.rad[i] < 1e-26 * abs(float(ma.mid()))


def test_dd_exp_widens_by_the_ball_radius() -> None:
    x = DD(np.array([-3.0, 0.5]), np.zeros(2), np.array([1e-10, 1e-20]))
    E, _ = dd_exp(x)
    for i, (m, r) in enumerate([(-3.0, 1e-10), (0.5, 1e-20)]):
        with ctx.workprec(4096):
            for end in (arb(m) - arb(r), arb(m) + arb(r)):
                assert not not_contained(_exact(E, i), end.exp())


def test_distance_bounds_bracket_the_exact_distances() -> None:
    rng = np.random.default_rng(9)
    y = _dd(list(rng.standard_normal(200) * np.exp(rng.uniform(-50, 50, 200))), rng)
    v = y.hi * (1 + rng.standard_normal(200) * 1e-15) + rng.standard_normal(200) * 1e-300
    v[:3] = [np.nan, np.inf, y.hi[3]]
    near, far = y.distance_bounds(v)
    assert np.isinf(near[:2]).all() and np.isinf(far[:2]).all()
    wide = DD(y.hi[:1], y.lo[:1], np.array([np.inf]))
    assert wide.distance_bounds(np.array([1.0])) == (0.0, np.inf)  # an infinite ball: nothing known
    for i in range(2, 200):
        with ctx.workprec(8192):
            ball = _exact(y, i)
            d = arb(float(v[i])) - ball
            assert near[i] <= d.abs_lower() and d.abs_upper() <= far[i]
    # and the check can fail: the ball's radius matters to far
    narrow = DD(y.hi, y.lo, np.zeros_like(y.rad))
    assert (narrow.distance_bounds(v)[1][2:] < far[2:]).any()
