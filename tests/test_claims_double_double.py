"""Every intermediate inequality the double-double path's proofs state, checked on its own:
``up``/``down``, TwoProduct, the double-double operations, Ozaki slicing and ``dd_affine``,
``dd_exp`` (why, and how: :mod:`claims_helpers`; the float64-ball path: ``test_claims_float64_balls.py``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from claims_helpers import (
    ETA,
    PREC,
    F,
    U,
    dd_adversarial,
    dd_error_ratio,
    dd_value,
    edge_mantissas,
    exact_nonneg_product,
    rat,
    signs,
)
from flint import arb, ctx

from nnverify.bounds import vector
from nnverify.certified import arrays, ddexp, ddouble, ozaki
from nnverify.certified.ddouble import DD, dd_add, dd_div, dd_mul, two_prod, two_sum, up, upper_sum
from nnverify.certified.ozaki import SLICES, WeightSlices, dd_affine, slice_bits, split_cols, split_rows, upper_dot

# ----------------------------------------------------------------------------------------------
# up / down (ddouble.up, arrays.up, arrays.down)


def _binade_edges() -> np.ndarray:
    """Every power of two, its neighbours, subnormals, 0, the largest float."""
    p = np.ldexp(1.0, np.arange(-1074, 1024))
    sub = np.array([5e-324, 1e-323, 2.0**-1022 - 2.0**-1074, 2.0**-1023 + 2.0**-1074, 3 * 2.0**-1074])
    big = np.finfo(np.float64).max
    return np.concatenate([[0.0], p, np.nextafter(p, 0), np.nextafter(p, np.inf), p * 1.5, sub, [big]])


def test_ddouble_up_is_above_the_next_float_at_every_binade_edge() -> None:
    """Claim (ddouble.up): ``fl(fl(x (1 + 2**-52)) + 2**-1074) >= nextafter(x, inf)`` for ``x >= 0``.

    Teeth: ``_ONE_UP = 1 + 2**-53`` fails at every power of two (the product ties back to x).
    """
    x = _binade_edges()
    with np.errstate(over="ignore"):
        got = ddouble.up(x)
        assert np.all(got >= np.nextafter(x, np.inf))
        # and at most three floats (a tie in the product, then the 2**-1074): the radii stay tight
        assert np.all(got <= np.nextafter(np.nextafter(np.nextafter(x, np.inf), np.inf), np.inf))


@pytest.mark.parametrize("path", ["small", "large"])
def test_arrays_up_and_down_step_outward_at_every_binade_edge_of_both_signs(path: str) -> None:
    """Claim (arrays.up/down): ``up(x) >= nextafter(x, inf)``, ``down(x) <= nextafter(x, -inf)``, both
    signs, on the ``nextafter`` path (< 1024 entries) and on the arithmetic paths (nonnegative and mixed).

    Teeth: ``_STEP = 2**-53`` (or ``_ONE_DOWN = 1 - 2**-53``) fails at the powers of two; dropping
    ``+ _TINY`` fails on the subnormals.
    """
    pos = _binade_edges()
    for x in (pos, np.concatenate([pos, -pos, [-0.0]])):
        if path == "small":
            chunks = [x[i:i + 1000] for i in range(0, x.size, 1000)]
        else:
            chunks = [np.concatenate([x, x])]  # > 1024 entries
        for c in chunks:
            with np.errstate(over="ignore"):
                assert np.all(arrays.up(c) >= np.nextafter(c, np.inf))
                assert np.all(arrays.down(c) <= np.nextafter(c, -np.inf))


# ----------------------------------------------------------------------------------------------
# two_prod and its slack


def _products_at_the_underflow_edge(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs with full 53-bit significands whose exponents sum to -972 .. -966 (|p| around 2**-969),
    plus pairs with a subnormal factor and pairs near 2**995."""
    ea = rng.integers(-900, 900, n)
    eb = rng.integers(-972, -965, n) - ea
    a = np.ldexp(rng.uniform(1, 2, n), ea) * signs(rng, n)
    b = np.ldexp(rng.uniform(1, 2, n), eb) * signs(rng, n)
    # the largest significands: the product just below a power of two
    a[:20], b[:20] = np.ldexp(2 - 2.0**-52, ea[:20]), np.ldexp(2 - 2.0**-52, eb[:20])
    # a subnormal factor, a factor near the 2**995 limit
    k = n // 4
    b[k:2 * k] = rng.integers(1, 2**40, k) * 2.0**-1074
    a[k:2 * k] = np.ldexp(rng.uniform(1, 2, k), rng.integers(0, 994, k))
    a[2 * k:2 * k + 10] = np.nextafter(2.0**995, 0)
    b[2 * k:2 * k + 10] = np.ldexp(rng.uniform(1, 2, 10), rng.integers(-1900, -1000, 10) + 960)
    return a, b


def test_two_prod_is_exact_from_2_to_the_minus_969_and_its_slack_bounds_the_rest() -> None:
    """Claims (ddouble.two_prod, _prod_slack): ``p + e == a b`` exactly when ``|a|, |b| < 2**995`` and
    ``|p| >= 2**-969``; below that, ``|a b - (p + e)| <= _prod_slack(p, e)``.

    The exponent sums straddle the threshold (``e_a + e_b >= -970`` is Dekker's condition).
    Teeth: ``_PROD_EXACT_MIN = 2**-975`` fails (inexact pairs get a zero slack).
    """
    rng = np.random.default_rng(101)
    a, b = _products_at_the_underflow_edge(rng, 2000)
    assert np.all(np.abs(a) < 2.0**995) and np.all(np.abs(b) < 2.0**995)
    p, e = two_prod(a, b)
    slack = np.broadcast_to(ddouble._prod_slack(p, e), p.shape)
    inexact = 0
    for ai, bi, pi, ei, si in zip(a.tolist(), b.tolist(), p.tolist(), e.tolist(), slack.tolist()):
        err = abs(F(ai) * F(bi) - F(pi) - F(ei))
        if abs(pi) >= 2.0**-969:
            assert err == 0, (ai, bi)
            assert si == 0.0
        inexact += err > 0
        assert err <= F(si), (ai, bi)
    assert inexact > 50  # the sample does reach the products the slack is for


# ----------------------------------------------------------------------------------------------
# dd_add, dd_mul, dd_div: the rounding terms on their own (radius-0 arguments), then with radii


def _cancelling_pair(rng: np.random.Generator, n: int) -> tuple[DD, DD]:
    x = dd_adversarial(rng, n)
    y = dd_adversarial(rng, n)
    near = rng.random(n) < 0.5  # y = -x (1 + a few ulps), lo = -x.lo or at its limit: cancellation
    yh = np.where(near, -x.hi * (1 + 2.0**-52 * rng.integers(-3, 4, n)), y.hi)
    yl = np.where(near & (rng.random(n) < 0.5), -x.lo, yh * 2.0**-53 * signs(rng, n))
    yh, yl = two_sum(yh, yl)
    return x, DD(yh, yl, np.zeros(n))


def test_dd_add_rounding_term_is_attained_and_never_exceeded() -> None:
    """Claim (dd_add): the two rounded sums err by at most ``u |w| + u |t|``; TwoSums are exact.

    On cancelling pairs with trailing parts at their limit the error reaches ~100% of the radius:
    halving ``rounding`` (or dropping ``|w|`` or ``|t|``) fails.
    """
    rng = np.random.default_rng(1)
    x, y = _cancelling_pair(rng, 3000)
    z = dd_add(x, y)
    ratio = dd_error_ratio(z, [dd_value(x, i) + dd_value(y, i) for i in range(3000)])
    assert ratio <= 1.0
    assert ratio > 0.9  # attained: the test has teeth


def test_dd_mul_error_is_within_8u2_of_the_leading_product() -> None:
    """Claims (dd_mul docstring): for ``|lo| <= u |hi|`` the error is at most ``8 u^2 (1 + u)^4 P``
    (``P = |x.hi y.hi|``, no underflow) ``<= 9 u^2 |p|``, and within the returned radius.

    Measured: up to ~3.2 u^2 P. Teeth: ``_MUL_ERR = 2 u^2`` fails.
    """
    rng = np.random.default_rng(2)
    x, y = _cancelling_pair(rng, 3000)
    z = dd_mul(x, y)
    exact = [dd_value(x, i) * dd_value(y, i) for i in range(3000)]
    worst = F(0)
    for i, v in enumerate(exact):
        P = abs(rat(x.hi[i]) * rat(y.hi[i]))
        err = abs(v - dd_value(z, i))
        assert err <= 8 * U * U * (1 + U) ** 4 * P
        worst = max(worst, err / (U * U * P))
    assert dd_error_ratio(z, exact) <= 1.0
    assert worst > 2.5  # the adversarial inputs get near the bound's size


def test_dd_mul_and_add_near_underflow_are_covered_by_their_absolute_terms() -> None:
    """Claims (dd_mul, dd_add): cross products that underflow add at most one ``2**-1075`` each (the
    ``4 ETA``), the TwoProduct slack covers ``|p| < 2**-969``, sums that underflow are exact.

    Measured: the absolute terms are redundant for radius-0 arguments (the ``up`` of each zero
    radius product adds 2**-1074, ~6 in all, more than the underflow errors seen): removing the
    ``4 ETA``, the slack, or both does not fail. Teeth: radius ``up(|p| * _MUL_ERR)`` alone fails.
    """
    rng = np.random.default_rng(3)
    x = dd_adversarial(rng, 3000, -560, -480)
    y = dd_adversarial(rng, 3000, -560, -480)
    z = dd_mul(x, y)
    assert dd_error_ratio(z, [dd_value(x, i) * dd_value(y, i) for i in range(3000)]) <= 1.0
    s = dd_add(z, DD(-z.hi, z.lo * 0.5, np.zeros(3000)))
    assert dd_error_ratio(s, [dd_value(z, i) - rat(z.hi[i]) + rat(z.lo[i] * 0.5) for i in range(3000)]) <= 1.0


def test_dd_div_error_is_within_its_radius_on_adversarial_quotients() -> None:
    """Claim (dd_div): ``|R/D - q2| <= (r.rad + 2u|r.hi|)/|D| + u|q2| + 2**-1075`` and the TwoSum.

    Measured: up to ~35% of the radius. Teeth: dividing ``mid_err`` by 4 fails.
    """
    rng = np.random.default_rng(4)
    x, y = _cancelling_pair(rng, 3000)
    with np.errstate(all="ignore"):
        z = dd_div(x, y)
    ratio = dd_error_ratio(z, [dd_value(x, i) / dd_value(y, i) for i in range(3000)])
    assert 0.25 < ratio <= 1.0


def test_dd_ops_with_radii_enclose_every_corner() -> None:
    """Claims (dd_mul, dd_div): the radii add ``|x||dy| + |y||dx| + |dx||dy|`` and ``(|dx| + |N/D||dy|)/|y|``
    with ``|y|`` at its lower end: the products and quotients of the balls' ends stay inside.

    Teeth: dropping ``x.rad * y.rad`` from dd_mul fails on the wide balls; using ``|y.hi|`` for ``y_low``
    in dd_div fails.
    """
    rng = np.random.default_rng(5)
    n = 600
    x, y = _cancelling_pair(rng, n)
    rx = np.abs(x.hi) * np.where(rng.random(n) < 0.3, 0.5, 2.0**-rng.integers(20, 100, n))
    ry = np.abs(y.hi) * np.where(rng.random(n) < 0.3, 0.5, 2.0**-rng.integers(20, 100, n))
    xb, yb = DD(x.hi, x.lo, rx), DD(y.hi, y.lo, ry)
    with np.errstate(all="ignore"):
        outs = {"add": dd_add(xb, yb), "mul": dd_mul(xb, yb), "div": dd_div(xb, yb)}
    for i in range(n):
        xs = [dd_value(x, i) + s * rat(rx[i]) for s in (-1, 1)]
        ys = [dd_value(y, i) + s * rat(ry[i]) for s in (-1, 1)]
        for op, z in outs.items():
            if not np.isfinite(z.rad[i]):
                continue
            c, r = dd_value(z, i), rat(z.rad[i])
            for a in xs:
                for b in ys:
                    v = a + b if op == "add" else a * b if op == "mul" else a / b
                    assert abs(v - c) <= r, (op, i)


def test_dd_results_keep_lo_within_u_hi() -> None:
    """Claim (DD): ``|lo| <= u |hi|`` after every operation (dd_mul's and dd_affine's bounds assume it).

    Teeth: returning ``(p, e + c)`` from dd_mul without the final TwoSum fails.
    """
    rng = np.random.default_rng(6)
    x, y = _cancelling_pair(rng, 3000)
    tiny_x, tiny_y = dd_adversarial(rng, 500, -560, -480), dd_adversarial(rng, 500, -560, -480)
    with np.errstate(all="ignore"):
        outs = [dd_add(x, y), dd_mul(x, y), dd_div(x, y), dd_mul(tiny_x, tiny_y), dd_add(tiny_x, tiny_y.neg())]
        m = DD(np.clip(x.hi, -745, 700), np.where(np.abs(x.hi) < 700, x.lo, 0.0), x.rad)
        outs += list(ddexp.dd_exp(m))  # type: ignore[arg-type]
    for z in outs:
        ok = np.isfinite(z.hi)
        assert np.all(np.abs(z.lo[ok]) <= np.abs(z.hi[ok]) * 2.0**-53)


def test_distance_bounds_bracket_the_exact_distance_under_cancellation() -> None:
    """Claims (DD.distance_bounds): ``d = v - hi - lo = s + e - lo`` exactly, the two remaining roundings
    are at most ``u (|t| + |w|)``: ``near <= max(|d| - rad, 0)`` and ``far >= |d| + rad``.

    Values ``v`` a few ulps from ``hi`` (total cancellation) and balls with radius 0 make the
    rounding term the whole margin. Measured: ``eps`` is redundant (the ``up``/``nextafter`` steps
    after it cover ``w``'s rounding; ``eps = 0`` does not fail). Teeth: ``far = far + rad`` without ``up`` fails.
    """
    rng = np.random.default_rng(7)
    n = 3000
    y = dd_adversarial(rng, n)
    steps = rng.integers(-4, 5, n)
    v = y.hi + steps * np.spacing(np.abs(y.hi))
    far_off = rng.random(n) < 0.3
    v = np.where(far_off, y.hi * (1 + rng.standard_normal(n) * 1e-10), v)
    rad = np.where(rng.random(n) < 0.5, 0.0, np.abs(y.hi) * 2.0**-rng.integers(40, 110, n))
    ball = DD(y.hi, y.lo, rad)
    near, far = ball.distance_bounds(v)
    for i in range(n):
        d = abs(rat(v[i]) - dd_value(y, i))
        assert rat(near[i]) <= max(d - rat(rad[i]), F(0)), i
        assert d + rat(rad[i]) <= rat(far[i]), i


# ----------------------------------------------------------------------------------------------
# ozaki: gamma, slicing, exact slice products, upper_dot, the accumulator, dd_affine


@pytest.mark.parametrize("gamma", [ozaki.gamma_up, vector.gamma_up])
def test_gamma_up_is_the_least_float_above_gamma_m(gamma) -> None:  # type: ignore[no-untyped-def]
    """Claim (ozaki.gamma_up, vector.gamma_up): ``gamma_m = m u / (1 - m u)`` rounded up, to the nearest float above.

    Teeth: returning ``float(g)`` (round to nearest) fails for about half the ``m``.
    """
    ms = [1, 2, 3, 4, 5, 7, 8, 9, 100, 784, 1023, 1024, 1025, 2**20 - 1, 2**20, 2**20 + 1, 2**26 + 1, 2**40 + 3,
          2**52 - 1, 2**52, 2**52 + 1]
    for m in ms:
        g = m * U / (1 - m * U)
        f = gamma(m)
        assert F(f) >= g and F(math.nextafter(f, 0.0)) < g, m
    assert ozaki.gamma_up(2**53) == math.inf and ozaki.gamma_up(2**60) == math.inf


def _rows_for_slicing(rng: np.random.Generator, n: int, b: int) -> np.ndarray:
    """Rows that stress the slicing: full significands over 2**-80 .. 1 (rests), ties on the last
    slice's grid (the rest reaches its bound), the row maximum just below a power of two (the first
    slice rounds up to it), both signs, a subnormal row, a zero row, a row beyond 2**480."""
    X = np.ldexp(rng.uniform(1, 2, (8, n)), rng.integers(-80, 1, (8, n))) * signs(rng, 8 * n).reshape(8, n)
    X[:, 0] = 1 - 2.0**-53  # mu: e = 0 in every row
    g = 2.0 ** -(3 * b)  # the last slice's unit for e = 0: its positive entries step by 2 g
    ties = g * rng.choice(np.array([1.0, 3.0, 5.0, -1.0, -3.0]), n)
    X[1, 1:] = ties[1:]
    X[2, 1:] = -(1 - 2.0**-53)  # many entries at the row maximum, negative
    X[3, 1:] = (1 - 2.0**-53) * signs(rng, n - 1)
    X[4] = rng.integers(1, 2**20, n) * 2.0**-1074 * signs(rng, n)  # subnormal row (units clipped)
    X[5] = 0.0
    X[6, n - 1] = -(2.0**600)  # too large to slice: all in rest
    X[7] = np.ldexp(edge_mantissas(rng, n), rng.integers(-3 * b - 3, -3 * b + 3, n))  # around the last grid
    X[7, 0] = 1 - 2.0**-53
    return np.asarray(X)


@pytest.mark.parametrize("n", [1, 2, 7, 8, 64, 65, 1024, 1025, 4096])
def test_split_rows_slices_are_short_integers_and_rest_max_is_a_sharp_bound(n: int) -> None:
    """Claims (split_rows): ``X == sum(slices) + rest`` exactly; slice ``p`` is an integer multiple of
    ``2**unit_exp[p]`` of magnitude at most ``2**b`` (the next slice's exponent ``e - b`` bounds what is
    left); ``|rest| <= rest_max`` per row, and that bound is reached (a halved ``rest_max`` fails);
    ``X - rest`` is exactly the sum of the slices (dd_affine multiplies it by ``W``'s rest).

    Teeth: ``rest_max = 2**(k - 54)`` (the bug fixed in d216967) fails on the tie row.
    """
    rng = np.random.default_rng(n)
    b = slice_bits(n)
    X = _rows_for_slicing(rng, n, b)
    s = split_rows(X, b)
    total = np.zeros_like(X)
    for p in range(SLICES):
        unit = np.ldexp(1.0, s.unit_exp[p])[:, None]
        k = s.slices[p] / unit  # exact: a power-of-two scaling of normal values
        assert np.all(k == np.round(k)), p
        assert np.all(np.abs(k) <= 2.0**b), p
        total += s.slices[p]
    # exactness, entry by entry (total is exact: the slices sum without rounding, checked here)
    for i in range(X.shape[0]):
        for j in range(n):
            parts = [rat(sl[i, j]) for sl in s.slices]
            assert sum(parts) + rat(s.rest[i, j]) == rat(X[i, j])
            assert rat(X[i, j] - s.rest[i, j]) == sum(parts)
    assert np.all(np.abs(s.rest) <= s.rest_max[:, None])
    assert np.all((s.rest_max == 0) == ~s.rest.any(axis=1))
    if n > 1:
        assert np.max(np.abs(s.rest[1])) == s.rest_max[1]  # the tie row reaches the bound exactly


@pytest.mark.parametrize("L", list(range(0, 13)))
def test_slice_products_are_exact_at_the_largest_sums_the_bit_count_allows(L: int) -> None:
    """Claim (slice_bits, module text): with ``2b + ceil(log2 n) <= 53`` every sum of ``n`` slice
    products is exact in float64, in any order. Worst case: ``n = 2**L`` (and ``2**L + 1``) terms of
    the same sign, each a product of two odd ``b``-bit integers near ``2**b`` (negative entries:
    their slices step by one unit), so the sums come within a few units of ``2**53``.

    Teeth: ``slice_bits`` one bit larger makes these sums exceed ``2**53`` with odd values: inexact.
    """
    rng = np.random.default_rng(L)
    for n in {2**L, 2**L + 1}:
        b = slice_bits(n)
        assert 2 * b + math.ceil(math.log2(n)) <= 53
        c = 2 * rng.integers(0, 2 ** (b // 2), (2, n)) + 1  # odd, small: units 2**b - c are odd
        X = -(2.0**b - c) * 2.0**-b  # mu < 1: e = 0, unit 2**-b
        c = 2 * rng.integers(0, 2 ** (b // 2), (n, 3)) + 1
        W = -(2.0**b - c) * 2.0**-b
        xs, ws = split_rows(X, b), split_cols(W, b)
        assert np.array_equal(xs.slices[0], X) and np.array_equal(ws.slices[0], W)
        got = xs.slices[0] @ ws.slices[0]
        ix = (X * 2.0**b).astype(np.int64)
        iw = (W * 2.0**b).astype(np.int64)
        exact = ix @ iw  # int64: below 2**63
        assert np.all(exact <= 2**53)
        assert np.array_equal(got * 2.0 ** (2 * b), exact.astype(np.float64))
        assert np.all((got * 2.0 ** (2 * b)).astype(np.int64) == exact)


@pytest.mark.parametrize("n", [1, 2, 8, 64, 1024, 1025])
def test_upper_dot_bounds_exact_nonnegative_products_with_losses_and_underflows(n: int) -> None:
    """Claim (upper_dot): ``up(up(P + n 2**-1074) (1 + gamma_{n+1})) >=`` the exact ``A @ B`` for
    ``P = fl(A @ B)``, ``A, B >= 0``, any summation order: rows whose sums lose a half ulp at every
    addition (a few 1s, then terms just below half an ulp), rows of products that underflow (to 0
    or to one subnormal step), rows of products that round down.

    Teeth: dropping the ``n * ETA`` term fails on the underflow rows (P = 0, the exact sum is
    ``0.49 n 2**-1074``).
    """
    rng = np.random.default_rng(n + 11)
    A = np.ones((5, n))
    A[0, 8:] = 2.0**-53 * (1 - 2.0**-20)  # below half an ulp of every partial sum >= 1
    A[1] = 2.0**-540
    A[2] = rng.uniform(1, 2, n) * 2.0**-540
    A[3] = 1 + 2.0**-52 * rng.integers(1, 2**20, n)  # products of these round (down or up)
    A[4] = np.ldexp(rng.uniform(1, 2, n), rng.integers(-40, 40, n))
    B = np.ones((n, 3))
    B[:, 1] = 0.49 * 2.0**-534  # A[1] * B[:, 1] = 0.49 * 2**-1074: rounds to 0
    B[:, 2] = 1 + 2.0**-52 * rng.integers(1, 2**20, n)
    P = A @ B
    bound = upper_dot(P, n)
    exact = exact_nonneg_product(A, B)
    for i in range(5):
        for j in range(3):
            assert exact[i][j] <= rat(bound[i, j]), (i, j)
    assert P[1, 1] == 0.0 and exact[1][1] > 0  # the underflow row does underflow


def test_upper_dot_bounds_the_worst_case_of_any_summation_order_up_to_the_largest_sizes() -> None:
    """Claim (upper_dot, the bound it relies on): with ``A, B >= 0`` every rounding of a sum is at most
    ``u`` of its computed result, and every computed partial sum is ``<= P``, so the exact product is
    ``<= P (1 + n u + (n - 1) u^2) + n 2**-1075`` (``n`` products, ``n - 1`` additions; FMA only
    removes roundings). ``upper_dot`` is above that for every ``n`` with ``n u < 1``.

    Teeth: ``factor = 1.0`` fails (``1 + gamma_up(n - 1)`` does not: the ``up`` steps cover 2 u).
    """
    rng = np.random.default_rng(12)
    P = np.concatenate([[0.0, 1.0, 2.0**-1022, 1.5, 2 - 2.0**-52], rng.uniform(1, 2, 50)])
    for n in [1, 2, 3, 1025, 2**20 + 1, 2**26 - 1, 2**26 + 1, 2**27 + 1, 2**30 + 1, 2**40 + 1]:
        got = upper_dot(P, n)
        for p, r in zip(P.tolist(), got.tolist()):
            assert F(r) >= F(p) * (1 + n * U + (n - 1) * U * U) + n * ETA / 2, n


@pytest.mark.parametrize("n", [1, 2, 3, 784, 2**26, 2**26 + 1, 2**30 + 1])
def test_upper_dot_factor_is_at_least_one_plus_n_plus_one_u(n: int) -> None:
    """Claim (ozaki.py upper_dot): ``factor = 1.0 + gamma_up(n + 1) >= 1 + (n + 1) u`` (for odd and
    even ``n``: ``1 + (n + 1) u`` is a float or lies below the midpoint the sum rounds up from), which
    with the docstring's ``P (1 + n u + (n - 1) u^2) + n 2**-1075`` makes the function an upper bound.
    (The old text, ``/(1 - gamma_n)``, was false for odd ``n >= 2**26 + 1``.)

    Teeth: ``factor = 1.0 + gamma_up(n)`` fails.
    """
    assert F(1.0 + ozaki.gamma_up(n + 1)) >= 1 + (n + 1) * U
    P = np.array([1.0])
    assert F(upper_dot(P, n)[0]) >= 1 + n * U + (n - 1) * U * U + n * ETA / 2


def test_accumulator_encloses_the_exact_sum_of_wildly_cancelling_matrices() -> None:
    """Claim (_Accumulator): TwoSums are exact, each ``lo + e`` errs by at most ``u |new lo|`` and
    ``abs_lo`` bounds the sum of those ``|lo|``: the result ball contains the exact sum.

    Teeth: ``rounding = 0`` in ``result`` fails.
    """
    rng = np.random.default_rng(13)
    shape = (40, 30)
    terms = [np.ldexp(rng.uniform(1, 2, shape), rng.integers(-120, 120, shape)) * signs(rng, 1200).reshape(shape)
             for _ in range(12)]
    terms.insert(3, -terms[0] * (1 + 2.0**-52))  # near-total cancellation of the first term
    terms.append(np.ldexp(1.0, rng.integers(-1074, -1000, shape)))  # subnormals at the end
    acc = ozaki._Accumulator(terms[0])
    for t in terms[1:]:
        acc.add(t)
    r = acc.result(np.zeros(shape))
    exact = [sum((rat(t.flat[i]) for t in terms), F(0)) for i in range(r.hi.size)]
    assert dd_error_ratio(r, exact) <= 1.0
    assert np.all(r.rad > 0)


def _dd_matrix(rng: np.random.Generator, N: int, n: int, emin: int, emax: int) -> DD:
    x = dd_adversarial(rng, N * n, emin, emax)
    return DD(x.hi.reshape(N, n), x.lo.reshape(N, n), x.rad.reshape(N, n))


@pytest.mark.parametrize(("n", "case"), [(64, "wide"), (65, "wide"), (256, "rest"), (64, "cancel"),
                                         (33, "underflow"), (32, "tiny_exact"), (16, "radius")])
def test_dd_affine_encloses_the_exact_affine_map_on_adversarial_layers(n: int, case: str) -> None:
    """Claims (dd_affine): exact slice products, the ``gamma_n`` bounds of ``rest @ W`` and
    ``(X - rest) @ W_rest`` (row maxima times column sums), ``|Z.lo| @ |W| <= u |X| @ |W|``, the
    ``n 2**-1074`` per product that may underflow, ``upper_dot(Z.rad @ |W|)``.

    Layers with entries over 2**-100 .. 1 in ``Z`` and ``W`` (both rests nonzero), trailing parts at
    their limit, products below the subnormal range, nonzero radii. "cancel": pairs of inputs one
    ulp apart against opposite weights, so the slices cancel exactly and the result is all
    ``rest @ W`` (with its rounding); "tiny_exact": short significands near 2**-540 (no rests, no
    trailing parts) whose slice products fall below the subnormal range.
    Teeth: ``g = 0`` fails on "cancel"; no ``n * ETA`` for the risky pairs fails on "tiny_exact".
    """
    rng = np.random.default_rng(n)
    N, m = 3, 4
    if case == "tiny_exact":
        Z = DD.exact(rng.integers(1, 2**12, (N, n)) * 2.0**-548)
        W = rng.integers(1, 2**12, (n, m)) * 2.0**-548 * signs(rng, n * m).reshape(n, m)
    elif case == "underflow":
        Z = _dd_matrix(rng, N, n, -560, -520)
        W = np.ldexp(rng.uniform(1, 2, (n, m)), rng.integers(-560, -520, (n, m))) * signs(rng, n * m).reshape(n, m)
    else:
        Z = _dd_matrix(rng, N, n, -100, 1)
        W = np.ldexp(edge_mantissas(rng, n * m).reshape(n, m), rng.integers(-100, 1, (n, m)))
        W *= signs(rng, n * m).reshape(n, m)
    if case == "rest":
        Z = DD(Z.hi, np.zeros_like(Z.lo), Z.rad)
    if case == "cancel":
        h = n // 2
        X = Z.hi.copy()
        X[:, h:] = np.nextafter(X[:, :h], np.inf)
        W[h:] = -W[:h]
        Z = DD.exact(X)
    if case == "radius":
        Z = DD(Z.hi, Z.lo, np.abs(Z.hi) * 2.0**-rng.integers(30, 90, Z.hi.shape))
    b = rng.standard_normal(m) * (2.0**-530 if case == "underflow" else 1.0)
    if case in ("cancel", "tiny_exact"):
        b = np.zeros(m)
    A, _ = dd_affine(Z, WeightSlices.of(W, b))
    for i in range(N):
        for j in range(m):
            mid = sum((dd_value(Z, i * n + k) * rat(W[k, j]) for k in range(n)), rat(b[j]))
            spread = sum((rat(Z.rad[i, k]) * abs(rat(W[k, j])) for k in range(n)), F(0))
            c, r = rat(A.hi[i, j]) + rat(A.lo[i, j]), rat(A.rad[i, j])
            assert abs(mid - c) + spread <= r, (case, i, j)


def test_rowsum_plus_n_rest_max_bounds_the_operand_of_the_w_rest_product() -> None:
    """Claim (dd_affine, ``ws.has_rest``): ``|err| <= gamma_n sum|X - rest| max|W_rest|`` for the float
    product ``(X - rest) @ W_rest``. The standard bound is ``gamma_n |X - rest| @ |W_rest|``, so the
    claim needs ``sum_k |X_k - rest_k| <= rowsum``. The slices round to nearest, so
    ``|X_k - rest_k|`` is up to ``2 |X_k|`` (here ``4/3``: ``1.5 g`` rounds to ``2 g``, ``g`` the last
    slice's unit), and ``upper_dot``'s slack ``(n + 1) u`` covers the excess only while
    ``3b >= 54``, i.e. ``n <= 2**17``. Counterexample: ``n = 2**17 + 1`` (``b = 17``), one entry
    ``1 - 2**-53``, the others ``1.5 * 2**-51``: ``sum |X - rest| = 1 + 2 * 2**-34`` exceeds
    ``rowsum = upper_dot(sum |X|, n) = 1 + 1.75 * 2**-34``.

    That was dd_affine's bound before; it now bounds ``sum|X - rest|`` by ``rowsum + n rest_max``
    (``|X - rest| <= |X| + |rest|``), checked here on that counterexample.

    Teeth: the old ``rowsum`` alone fails (it did, as an xfail).
    """
    n = 2**17 + 1
    b = slice_bits(n)
    assert b == 17
    X = np.full((1, n), 1.5 * 2.0 ** -(3 * b))
    X[0, 0] = 1 - 2.0**-53
    s = split_rows(X, b)
    Y = X - s.rest  # exact (checked in the slicing test)
    g = 2.0 ** -(3 * b)
    units = np.abs(Y[0]) / g  # integers below 2**53
    lhs = sum(int(v) for v in units.tolist()) * rat(g)
    rowsum = upper_dot(np.sum(np.abs(X), axis=1), n)
    assert lhs > rat(rowsum[0])  # the old bound falls short
    bound = upper_sum(rowsum, up(n * s.rest_max))
    assert lhs <= rat(bound[0])


# ----------------------------------------------------------------------------------------------
# ddexp: the reduction, the table, the polynomial's ball, the scaling, the ball's radius


def test_ddexp_table_and_reduction_constants() -> None:
    """Claims (ddexp step 1, 3): ``2**(j/1024)`` lies in ``t_hi + t_lo +- t_rad`` for every ``j`` (with
    ``|t_lo| <= u |t_hi|``); ``c1``, ``c2`` have at most 32 significant bits so ``k c1``, ``k c2``
    are exact for ``|k| < 2**21`` (the extreme ``k`` of ``[-1000, 700]`` included); ``|c - c1 - c2 -
    c3| <= delta``.

    Teeth: ``t_rad = 0`` fails; 33-bit ``c1`` fails the exact products at the extreme ``k``.
    """
    C = ddexp._constants()
    with ctx.workprec(PREC):
        for j in range(1024):
            v = arb(2) ** (arb(j) / 1024)
            ball = arb(C.t_hi[j]) + arb(C.t_lo[j])
            assert abs(v - ball) <= arb(C.t_rad[j]), j
            assert abs(C.t_lo[j]) <= abs(C.t_hi[j]) * 2.0**-53
        c = arb(2).log() / 1024
        assert abs(c - arb(C.c1) - arb(C.c2) - arb(C.c3)) <= arb(C.delta)
    kmax = math.ceil(1000 / (math.log(2) / 1024)) + 1
    assert kmax < 2**21
    ks = np.array([kmax, -kmax, kmax - 1, 2**21 - 1, -(2**21 - 1), 12345, -777777], dtype=np.float64)
    for cj in (C.c1, C.c2):
        assert F(cj).numerator.bit_length() <= 32 or F(cj).denominator == 1
        for ki, p in zip(ks.tolist(), (ks * cj).tolist()):
            assert F(p) == F(ki) * F(cj)


def test_ddexp_reduction_ball_contains_m_minus_k_c() -> None:
    """Claim (ddexp._reduce): ``r`` is a ball ``rh + rl +- eps_r`` containing ``m - k ln2/1024`` exactly,
    for double-double ``m`` (trailing parts at their limit) at the reduction's half-way points.

    Teeth: dropping the rounding term (keeping ``|k| delta``) fails.
    """
    rng = np.random.default_rng(51)
    c = math.log(2) / 1024
    k = np.concatenate([rng.integers(-1477000, 1010000, 600), [0, 1, -1]]).astype(np.float64)
    mh = np.concatenate([(k + 0.5) * c, np.nextafter((k + 0.5) * c, np.inf), k * c, [-1000.0, 700.0, 1e-300]])
    ml = mh * 2.0**-53 * np.where(rng.random(mh.size) < 0.5, 1.0, rng.uniform(-1, 1, mh.size))
    mh, ml = two_sum(mh, ml)
    kk, r = ddexp._reduce(mh, ml, ddexp._constants())
    with ctx.workprec(PREC):
        cc = arb(2).log() / 1024
        for i in range(mh.size):
            exact = arb(float(mh[i])) + arb(float(ml[i])) - arb(float(kk[i])) * cc
            assert abs(exact - arb(float(r.hi[i])) - arb(float(r.lo[i]))) <= arb(float(r.rad[i])), i
    assert np.all(np.abs(r.hi) <= ddexp.R_MAX)


def test_ddexp_polynomial_ball_contains_expm1_of_every_point_of_the_reduced_ball() -> None:
    """Claim (ddexp step 2): ``expm1(rho)`` for every ``rho`` in the ball ``r`` (``|rh| <= R``) lies in the
    result: ``r + r^2/2 + r^3/6`` in ball arithmetic plus ``G +- (16 u Qmax rh^4 + rh^8/8!/(1-R) +
    R^3/6/(1-R) |rho - rh|)``. Both ends of balls with radii up to 2**-40 are checked.

    Teeth: dropping the ``g_err4`` term fails for ``|rh|`` near ``R`` with radius 0.
    """
    rng = np.random.default_rng(52)
    rh = np.concatenate([rng.uniform(-ddexp.R_MAX, ddexp.R_MAX, 300), [ddexp.R_MAX, -ddexp.R_MAX, 0.0, 1e-300,
                                                                    -5e-324, 2.0**-30]])
    rl = rh * 2.0**-53 * np.where(rng.random(rh.size) < 0.5, 1.0, rng.uniform(-1, 1, rh.size))
    rh, rl = two_sum(rh, rl)
    rad = np.where(rng.random(rh.size) < 0.5, 0.0, 2.0 ** -rng.integers(40, 110, rh.size))
    p = ddexp._expm1_reduced(DD(rh, rl, rad), ddexp._constants())
    with ctx.workprec(PREC):
        for i in range(rh.size):
            centre = arb(float(p.hi[i])) + arb(float(p.lo[i]))
            for s in (-1, 1):
                rho = arb(float(rh[i])) + arb(float(rl[i])) + s * arb(float(rad[i]))
                assert abs(rho.expm1() - centre) <= arb(float(p.rad[i])), (i, s)


def test_ddexp_scale2_covers_the_roundings_of_a_subnormal_result() -> None:
    """Claim (ddexp._scale2): ``x 2**q`` is exact but for underflow, which adds at most ``2**-1074``.

    Teeth: ``rad = ldexp(x.rad, q)`` without the ``up``s and ``+ ETA`` fails.
    """
    rng = np.random.default_rng(53)
    n = 2000
    x = dd_adversarial(rng, n, 0, 1)
    x = DD(np.abs(x.hi), x.lo * np.sign(x.hi), np.where(rng.random(n) < 0.5, 0.0, 2.0**-80))
    q = rng.integers(-1130, -1010, n)
    z = ddexp._scale2(x, q)
    for i in range(n):
        exact = dd_value(x, i) * F(2) ** int(q[i])
        assert abs(exact - dd_value(z, i)) + rat(x.rad[i]) * F(2) ** int(q[i]) <= rat(z.rad[i]), i


def test_dd_exp_widens_by_rho_one_plus_rho_up_to_rho_one() -> None:
    """Claim (ddexp step 4): ``|exp(m + d) - exp(m)| <= exp(m) rho (1 + rho)`` for ``rho <= 1``; infinite
    beyond. Both ends of each ball are checked.

    Teeth: ``spread = E * rho`` (without ``(1 + rho)``) fails at ``rho = 1``.
    """
    m = np.array([-700.0, -30.0, -1.0, 0.0, 1e-10, 1.0, 30.0, 690.0, -744.0])
    for rho in [2.0**-40, 1e-3, 0.5, 1.0]:
        x = DD(m.copy(), np.zeros_like(m), np.full_like(m, rho))
        E, M = ddexp.dd_exp(x)
        assert M is not None
        with ctx.workprec(4 * PREC):  # expm1 near -1 needs the absolute precision
            for i in range(m.size):
                for s in (-1, 1):
                    v = (arb(float(m[i])) + s * arb(rho)).exp()
                    assert abs(v - arb(float(E.hi[i])) - arb(float(E.lo[i]))) <= arb(float(E.rad[i])), (m[i], rho)
                    assert abs(v - 1 - arb(float(M.hi[i])) - arb(float(M.lo[i]))) <= arb(float(M.rad[i]))
    E, _ = ddexp.dd_exp(DD(m.copy(), np.zeros_like(m), np.full_like(m, 1.5)))
    assert np.all(np.isinf(E.rad))


def test_dd_exp_of_a_wide_ball_below_exp_min_encloses_its_upper_end() -> None:
    """Claim (ddexp.dd_exp): ``exp`` of every point of the ball ``x``; module text: "Midpoints below
    -1000 give the ball ``[0, 2**-1074]``" and step 4: the radius is "infinite otherwise" (``rho > 1``).

    The ``any_special`` branch used to overwrite the radius after the spread was added, so the
    ball's own radius was lost: ``x = -1000.5 +- 400`` gave ``0 +- 2**-1074`` (expm1: ``-1 +-
    2**-1074``) though ``exp(-600.5) = 1.6e-261``. Now the tiny ball is kept only where ``rho <= 1``
    (``exp(-999) < 2**-1074``), and a wider ball tells nothing (infinite radius).

    Teeth: the old ``tiny_rad = where(low, ETA, inf)`` fails the first case.
    """
    E, M = ddexp.dd_exp(DD(np.array([-1000.5, -1000.5, -1200.0]), np.zeros(3), np.array([400.0, 1.0, 0.5])))
    assert M is not None
    with ctx.workprec(4200):  # exp(-1199.5) - 1 + 1 needs some 1730 bits to tell from 0
        for i, top in enumerate([-600.5, -999.5, -1199.5]):
            v = arb(top).exp()  # the ball's largest exp, and (expm1) its largest value
            assert abs(v - arb(float(E.hi[i]))) <= arb(float(E.rad[i]))
            assert abs(v - 1 - arb(float(M.hi[i]))) <= arb(float(M.rad[i]))
    assert np.isinf(E.rad[0]) and E.rad[1] == E.rad[2] == 2.0**-1074  # tight where it can be
