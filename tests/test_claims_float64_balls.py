"""Every intermediate inequality the float64-ball path's proofs state, checked on its own:
``fast32``'s layer and activations, ``elementary``'s exp, the backward pass's ``bounds/vector``
(why, and how: :mod:`claims_helpers`; the double-double path: ``test_claims_double_double.py``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from claims_helpers import (
    PREC,
    TINY,
    F,
    U,
    arb_q,
    edge_mantissas,
    exact_nonneg_product,
    rat,
    signs,
)
from flint import arb, ctx

from nnverify.bounds import vector
from nnverify.bounds.vector import FactoredRadius, column_sums_up, factor_up, matmul_up, plus_tiny, scaled_product
from nnverify.certified import elementary as el
from nnverify.certified import fast32
from nnverify.certified.arrays import BallArray
from nnverify.certified.exp_tables import EXP, XMAX

# ----------------------------------------------------------------------------------------------
# fast32: the float64 ball layer and the activations' widening


@pytest.mark.parametrize("case", ["cancel", "underflow", "radius"])
def test_ball_affine_encloses_the_affine_map_of_every_point_of_the_ball(case: str) -> None:
    """Claim (fast32 module text): ``z @ W + b`` lies in ``fl(mid @ W + b) +- (gamma_{n+1} (|mid| @ |W| +
    |b|) + rad @ |W| + n 2**-1075)`` for every ``z`` in the ball; both extreme points are checked.

    "cancel": sums that cancel to ~0 (the error is all rounding); "underflow": products below the
    subnormal range. Teeth: ``rounding = 0`` fails on "cancel", ``rad = rounding`` (no ``w.n * ETA``) on
    "underflow".
    """
    rng = np.random.default_rng(21)
    N, n, m = 4, 64, 5
    mid = np.ldexp(edge_mantissas(rng, N * n).reshape(N, n), rng.integers(-30, 30, (N, n)))
    mid *= signs(rng, N * n).reshape(N, n)
    W = np.ldexp(rng.uniform(1, 2, (n, m)), rng.integers(-30, 30, (n, m))) * signs(rng, n * m).reshape(n, m)
    W[n // 2:] = -W[: n // 2] * (1 + 2.0**-52)  # pairs that cancel ...
    mid[:, n // 2:] = mid[:, : n // 2]  # ... against equal inputs
    b = rng.standard_normal(m)
    rad = np.zeros((N, n))
    if case == "underflow":  # every product 1.4 * 2**-1074: each rounds down by 0.4 * 2**-1074
        mid, W, b = np.full((N, n), 2.0**-537), np.full((n, m), 1.4 * 2.0**-537), np.zeros(m)
    if case == "radius":
        rad = np.abs(mid) * 2.0**-rng.integers(20, 60, (N, n))
    a, _ = fast32.ball_affine(BallArray(mid, rad), fast32.F64Weights(W, b))
    for i in range(N):
        for j in range(m):
            exact = sum((rat(mid[i, k]) * rat(W[k, j]) for k in range(n)), rat(b[j]))
            spread = sum((rat(rad[i, k]) * abs(rat(W[k, j])) for k in range(n)), F(0))
            assert abs(exact - rat(a.mid[i, j])) + spread <= rat(a.rad[i, j]), (case, i, j)


def _sigmoid_arb(x: arb) -> arb:
    return 1 / (1 + (-x).exp())


@pytest.mark.parametrize("fn", ["sigmoid", "tanh"])
def test_sigmoid_and_tanh_widening_covers_the_whole_ball(fn: str) -> None:
    """Claims (fast32._sigmoid, _tanh): on ``m +- rho`` the slope is at most ``(1 + 2 rho) min(hi, 1 - lo)``
    (sigmoid) and ``(1 + 4 rho)(1 - t_min^2)`` (tanh) for ``rho <= 2**-20``, else 1/4 and 1. The
    functions are monotone: the ball's ends are the extremes.

    Midpoints deep in the tails (where the relative slope matters), near 0, radii up to 2**-20
    and just above. Teeth: dropping the ``(1 + 2 rho)`` factor fails in the tails.
    """
    rng = np.random.default_rng(22)
    mids = np.concatenate([rng.uniform(-700, -30, 60), rng.uniform(-30, 30, 60), rng.uniform(30, 40, 20),
                           [0.0, -1e-300, 1e-300, 0.5, -0.5, 19.0, -19.0]])
    rhos = np.concatenate([2.0 ** -rng.integers(20, 40, mids.size - 3), [2.0**-20, 2.0**-19, 0.1]])
    act = fast32._sigmoid if fn == "sigmoid" else fast32._tanh
    exact = _sigmoid_arb if fn == "sigmoid" else (lambda v: v.tanh())
    z = act(BallArray(mids.copy(), rhos.copy()))
    with ctx.workprec(PREC):
        for i in range(mids.size):
            lo, hi = arb(float(z.mid[i])) - arb(float(z.rad[i])), arb(float(z.mid[i])) + arb(float(z.rad[i]))
            for end in (arb(float(mids[i])) - arb(float(rhos[i])), arb(float(mids[i])) + arb(float(rhos[i]))):
                v = exact(end)
                assert lo <= v and v <= hi, (fn, mids[i], rhos[i])


def test_softmax_widening_covers_every_corner_of_the_logit_box() -> None:
    """Claims (fast32._softmax): ``y_k = e_k / (e_k + S_k)`` bounded from the exp enclosures at the
    midpoints, ``m - c`` within one ulp, then ``|y(a + d) - y(a)| <= y (e^b - 1) <= y b (1 + b)`` with
    ``b = rho_k + max rho``. Each ``y_k`` is extreme at the corner ``a_k`` high, the others low (or
    the reverse).

    Teeth: ``grow = both`` (without ``(1 + both)``) fails for radii near 2**-20.
    """
    rng = np.random.default_rng(23)
    N, K = 30, 6
    mid = rng.standard_normal((N, K)) * np.where(rng.random((N, 1)) < 0.5, 3.0, 300.0)
    mid[0] = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    mid[1] = [0.0, -740.0, -745.0, 700.0, 699.9999, -1.0]
    rad = 2.0 ** -rng.integers(20, 45, (N, K)).astype(np.float64)
    y = fast32._softmax(BallArray(mid, rad))
    with ctx.workprec(PREC):
        for i in range(N):
            for k in range(K):
                lo_b, hi_b = arb(float(y.mid[i, k])) - arb(float(y.rad[i, k])), arb(float(y.mid[i, k])) + arb(
                    float(y.rad[i, k]))
                for s in (-1, 1):
                    a = [arb(float(mid[i, j])) + (s if j == k else -s) * arb(float(rad[i, j])) for j in range(K)]
                    v = 1 / sum(((a[j] - a[k]).exp() for j in range(K)), arb(0))
                    assert lo_b <= v and v <= hi_b, (i, k, s)


def test_sum_bounds_bracket_the_exact_masked_sum() -> None:
    """Claim (fast32._sum_bounds): any summation order of ``n`` nonnegative terms is within
    ``gamma_n`` of the exact sum (here with terms that lose half an ulp at every addition).

    Teeth: ``(1.0 - 2 * g)`` replaced by 1 fails on the lower bound.
    """
    rng = np.random.default_rng(24)
    n = 1000
    v = np.concatenate([np.ones((3, 8)), np.full((3, n - 8), 2.0**-53 * (1 - 2.0**-20))], axis=1)
    v[1] = rng.uniform(0, 1, n) * 2.0 ** rng.integers(-60, 0, n)
    v[2, 8:] = 2.0**-53 * (1 + 2.0**-20)  # above half an ulp: every addition rounds up
    mask = rng.random((3, n)) < 0.9
    mask[:, :8] = True
    lo, hi = fast32._sum_bounds(v, v, mask, n)
    for i in range(3):
        exact = sum((rat(x) for x, keep in zip(v[i].tolist(), mask[i].tolist()) if keep), F(0))
        assert rat(lo[i]) <= exact <= rat(hi[i])


# ----------------------------------------------------------------------------------------------
# elementary: the steps of exp_bounds' proof


def _reduction_edges(rng: np.random.Generator) -> np.ndarray:
    """Arguments at the reduction's half-way points ``(k + 1/2) L`` (and their neighbours) up to
    ``|x| = 1100``, the cell centres, tiny and subnormal arguments."""
    L = math.log(2) / 256
    k = np.concatenate([rng.integers(-406000, 406000, 400), [-406000, 405999, 0, -1, 1]]).astype(np.float64)
    half = (k + 0.5) * L
    x = np.concatenate([half, np.nextafter(half, np.inf), np.nextafter(half, -np.inf), k * L,
                        rng.uniform(-XMAX, XMAX, 300), [XMAX, -XMAX, 5e-324, -5e-324, 1e-300, 2.0**-1022]])
    return np.asarray(x[np.abs(x) <= XMAX])


def test_exp_reduction_stays_within_r_and_its_rounding_within_delta_r() -> None:
    """Claims (elementary module text, step 1): ``|r*| = |x - k L| <= R = L/2 + 2.002 * 1100 u``, and the
    computed ``r`` is off by ``<= u |r| + u |k L_LO| + |k| |L - L_HI - L_LO|`` (``k L_HI`` and
    ``x - k L_HI`` exact).

    Teeth: ``R = L/2`` fails at the half-way points (rint of the rounded ``x / L`` picks the far
    ``k``); dropping ``u |r|`` from delta_r fails.
    """
    rng = np.random.default_rng(31)
    x = _reduction_edges(rng)
    kf, r = el._reduce(x)
    with ctx.workprec(PREC):
        L = arb(2).log() / 256
        R = L / 2 + arb(2002) / 1000 * 1100 * arb_q(U)
        dL = abs(L - arb(EXP.L_HI) - arb(EXP.L_LO))
        beyond_half = 0
        for xi, ki, ri in zip(x.tolist(), kf.tolist(), r.tolist()):
            rs = arb(xi) - arb(ki) * L
            assert abs(rs) <= R, xi
            beyond_half += bool(abs(rs) > L / 2)
            delta = arb_q(U) * (abs(arb(ri)) + abs(arb(ki) * arb(EXP.L_LO))) + abs(arb(ki)) * dL
            assert abs(arb(ri) - rs) <= delta, xi
    assert beyond_half > 0  # the far k is picked somewhere: R's rounding term is needed


def test_exp_core_is_within_eps_of_the_exact_scaled_exponential() -> None:
    """Claim (elementary step 3): ``|y - 2^{j/256} e^{r*}| <= eps |y|`` with ``eps = EXP_EPS`` (~1.02 u),
    i.e. ``|y - exp(x) 2^-q| <= eps y``.

    Measured: up to ~0.6 eps. Teeth: ``eps / 2`` fails.
    """
    rng = np.random.default_rng(32)
    x = _reduction_edges(rng)
    y, q = el._exp_core(x)
    worst = arb(0)
    with ctx.workprec(PREC):
        for xi, yi, qi in zip(x.tolist(), y.tolist(), q.tolist()):
            target = arb(xi).exp() * arb(2) ** (-int(qi))
            err = abs(arb(yi) - target)
            assert err <= arb(EXP.eps) * arb(yi), xi
            worst = arb.max(worst, err / (arb(yi) * arb_q(U)))
    assert float(worst.mid()) > 0.5  # observed, in units of u: eps / 2 would be exceeded


def test_exp_scaling_constants_move_every_y_by_at_least_eps() -> None:
    """Claim (exp_tables.ExpConstants): ``fl(y c_lo) <= y (1 - eps)`` and ``fl(y c_hi) >= y (1 + eps)`` for
    normal ``y > 0`` (all significands near the binade edges and random ones).

    Teeth: ``c_hi = float(1 + eps)`` (without the extra ``(1 + 2u)``) fails.
    """
    rng = np.random.default_rng(33)
    m = np.concatenate([edge_mantissas(rng, 3000), 1 + 2.0**-52 * np.arange(2000), 2 - 2.0**-52 * np.arange(1, 2000)])
    y = np.ldexp(m, rng.integers(-1, 2, m.size))
    eps = rat(EXP.eps)
    lo, hi = y * EXP.c_lo, y * EXP.c_hi
    for yi, li, hi_ in zip(y.tolist(), lo.tolist(), hi.tolist()):
        assert F(li) <= F(yi) * (1 - eps) and F(hi_) >= F(yi) * (1 + eps), yi


def test_expm1_table_encloses_expm1_at_cell_edges_and_tiny_arguments() -> None:
    """Claim (elementary, expm1): for ``|x| <= 1``, ``|y - (e^x - 1)| <= eps1 |y| + abs1``.

    Measured: y is within 0.78 ulp (1.3 u), so the final outward steps alone cover it and even
    ``EXPM1_EPS / 32`` does not fail. Teeth: returning ``(y, y)`` fails.
    """
    rng = np.random.default_rng(34)
    L = math.log(2) / 256
    k = np.arange(-EXP.K1 + 2, EXP.K1 - 1).astype(np.float64)
    x = np.concatenate([(k + 0.5) * L, np.nextafter((k + 0.5) * L, 0), k * L, rng.uniform(-1, 1, 500),
                        np.ldexp(1.0, rng.integers(-1074, -1, 200)) * signs(rng, 200), [1.0, -1.0, 5e-324]])
    x = x[np.abs(x) <= 1.0]
    lo, hi = el._expm1_table(x)
    with ctx.workprec(PREC):
        for xi, li, hi_ in zip(x.tolist(), lo.tolist(), hi.tolist()):
            v = arb(xi).expm1()
            assert arb(li) <= v and v <= arb(hi_), xi


def test_exp_bounds_at_subnormal_results_and_the_normal_threshold() -> None:
    """Claim (elementary step 4): ``ldexp`` is exact unless the result is subnormal, where one more
    outward step covers its rounding; below the smallest subnormal the bounds are ``[0, 2^-1074]``.

    Arguments dense around ``log(2**-1022)``, ``log(2**-1074)`` and ``log(2**-1075)``.
    Teeth: skipping ``_fix_ends``' subnormal steps fails.
    """
    centres = [-708.3964185322641, -744.4400719213812, -745.1332191019411]
    x = np.concatenate([c + np.linspace(-1e-6, 1e-6, 401) for c in centres]
                       + [np.linspace(-745.2, -708.0, 800)])
    lo, hi = el.exp_bounds(x)
    with ctx.workprec(PREC):
        for xi, li, hi_ in zip(x.tolist(), lo.tolist(), hi.tolist()):
            v = arb(xi).exp()
            assert arb(li) <= v and v <= arb(hi_), xi


# ----------------------------------------------------------------------------------------------
# bounds/vector


def test_factor_up_undoes_k_roundings_of_every_normal_value() -> None:
    """Claim (vector.factor_up): ``fl(v c) >= v / (1 - u)^k`` for normal ``v >= 0``.

    Teeth: ``q = 1 + g`` (without ``(1 + 2u)``) fails.
    """
    rng = np.random.default_rng(41)
    m = np.concatenate([edge_mantissas(rng, 2000), 1 + 2.0**-52 * np.arange(500), 2 - 2.0**-52 * np.arange(1, 500)])
    v = np.ldexp(m, rng.integers(-1000, 1000, m.size))
    for k in [1, 2, 3, 4, 5, 9, 100, 1025, 2**20 + 1]:
        c = factor_up(k)
        got = v * c
        with ctx.workprec(PREC):
            inv = 1 / (1 - arb_q(U)) ** k
            for vi, gi in zip(v.tolist(), got.tolist()):
                assert arb(gi) >= arb(vi) * inv, (k, vi)


def test_plus_tiny_adds_the_amount_to_every_value_that_rounds_to_r() -> None:
    """Claim (vector.plus_tiny): for ``r = fl(v)``, ``v >= 0``, the result is ``>= v + amount``: the
    worst ``v`` is ``r + gap/2``; values at and around ``2**-900`` and subnormals.

    Teeth: ``_BIG = 2**-1010`` fails (one step up there is below a ``2**-1001`` amount).
    """
    p = np.ldexp(1.0, np.arange(-1074, -850))
    r = np.concatenate([[0.0], p, np.nextafter(p, 0), np.nextafter(p, np.inf), 1.5 * p, [1.0, 2.0**-900]])
    for amount in [0.0, 5e-324, 1025 * 5e-324, 2.0**-1001, 2.0**-1000, 2.0**-1022, 2.0**-990]:
        got = plus_tiny(r.copy(), amount)
        for ri, gi in zip(r.tolist(), got.tolist()):
            v = F(ri) + (F(math.nextafter(ri, math.inf)) - F(ri)) / 2
            assert F(gi) >= v + F(amount), (ri, amount)


@pytest.mark.parametrize("n", [1, 16, 1024, 1025])
def test_matmul_up_bounds_exact_nonnegative_products(n: int) -> None:
    """Claim (vector.matmul_up): an upper bound of the exact ``A @ B``, ``A, B >= 0``: subnormal entries
    (raised to 2**-1022 first), products that underflow, sums losing half an ulp per addition.

    Teeth: ``plus_tiny(..., 0.0)`` fails on the underflow row; ``factor_up(1)`` on the lossy rows.
    """
    rng = np.random.default_rng(n + 42)
    A = np.ones((4, n))
    A[0, 8:] = 2.0**-53 * (1 - 2.0**-20)
    A[1] = 2.0**-540
    A[2] = rng.integers(0, 2**10, n) * 2.0**-1074  # subnormal entries
    A[3] = 1 + 2.0**-52 * rng.integers(1, 2**20, n)
    B = np.ones((n, 3))
    B[:, 1] = 0.49 * 2.0**-534
    B[:, 2] = 1 + 2.0**-52 * rng.integers(1, 2**20, n)
    got = matmul_up(A, B)
    exact = exact_nonneg_product(A, B)
    for i in range(4):
        for j in range(3):
            assert exact[i][j] <= rat(got[i, j]), (i, j)


def test_sum_up_and_column_sums_up_bound_exact_sums() -> None:
    """Claims (vector.sum_up, column_sums_up): upper bounds of exact nonnegative sums in any order.

    Teeth: ``factor_up(n + 1)`` replaced by 1 fails on the lossy columns.
    """
    n = 1000
    A = np.full((n, 3), 2.0**-53 * (1 - 2.0**-20))
    A[:8] = 1.0
    A[:, 1] = np.ldexp(1.0, np.arange(n) % 1100 - 1074)
    A[8:, 2] = 2.0**-53 * (1 + 2.0**-20)
    exact = [sum((rat(a) for a in A[:, j].tolist()), F(0)) for j in range(3)]
    for got in (vector.sum_up(A, axis=0), column_sums_up(A)):
        assert all(e <= rat(g) for e, g in zip(exact, got.tolist()))


def _factored_inputs(rng: np.random.Generator, N: int, K: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.ldexp(edge_mantissas(rng, N * K).reshape(N, K), rng.integers(-1100, 20, (N, K)))
    c = np.ldexp(edge_mantissas(rng, m), rng.integers(-60, 60, m))
    r[0, 0], c[0] = 2.0**-540, 2.0**-535  # r c underflows
    return r, c


def test_factored_radius_full_is_above_r_c_plus_t_for_the_underflow_term_it_carries() -> None:
    """Claim (FactoredRadius.full): ``full() >= r c + t`` entrywise, for the ``t = (n + 2) 2**-1074``
    that scaled_product sets (``t + 2 tiny`` exact).

    Teeth: ``c = self.c`` (no ``factor_up(2)``) fails.
    """
    rng = np.random.default_rng(43)
    r, c = _factored_inputs(rng, 3, 7, 50)
    for t in [0.0, 3 * TINY, 1027 * TINY]:
        full = FactoredRadius(r, c, t).full()
        for i in range(3):
            for k in range(7):
                for j in range(50):
                    assert rat(full[i, k, j]) >= rat(r[i, k]) * rat(c[j]) + rat(t)


@pytest.mark.parametrize("t", [2.0**-1022, 1.0, -TINY, float("inf"), float("nan")])
def test_factored_radius_refuses_an_absolute_term_its_full_cannot_bound(t: float) -> None:
    """Claim (FactoredRadius): ``full`` bounds ``r c + t`` only for ``0 <= t < 2**-1022`` (``t + 2 tiny``
    exact, the last addition's rounding covered by the factor on ``c`` and one tiny). For ``t = 1``,
    ``r = 1``, ``c = 1e-20`` it returned ``1.0 < 1 + 1e-20``; such a ``t`` is now refused.

    Teeth: dropping the check in ``__post_init__`` fails.
    """
    with pytest.raises(ValueError, match="absolute term"):
        FactoredRadius(np.array([[1.0]]), np.array([1e-20]), t)


@pytest.mark.parametrize("with_rad", [False, True])
def test_scaled_product_encloses_every_matrix_in_the_ball(with_rad: bool) -> None:
    """Claim (vector.scaled_product): ``(G diag(d)) @ WT`` for every ``G`` in ``mid +- rad`` lies within
    ``FactoredRadius.full()`` of the returned midpoint (``fl(G d)``'s ``u |fl(G d)|`` and underflow,
    the product's ``gamma_n`` and ``n`` underflows, ``rad |d|``), checked at the extreme ``G``.

    Teeth: ``spread = big * 0`` (no ``u + gamma_n`` term) fails without a radius.
    """
    rng = np.random.default_rng(44 + with_rad)
    N, K, n, m = 2, 3, 32, 4
    mid = np.ldexp(edge_mantissas(rng, K * n).reshape(K, n), rng.integers(-20, 20, (K, n)))
    mid *= signs(rng, K * n).reshape(K, n)
    d = np.ldexp(edge_mantissas(rng, N * n).reshape(N, n), rng.integers(-20, 20, (N, n)))
    d[1, :4] = 2.0**-1060  # products that underflow
    WT = np.ldexp(rng.uniform(1, 2, (n, m)), rng.integers(-20, 20, (n, m))) * signs(rng, n * m).reshape(n, m)
    WT[n // 2:] = -WT[: n // 2]  # cancellation
    rad = None
    if with_rad:
        r0 = np.abs(rng.standard_normal((N, K))) * 2.0**-40
        rad = FactoredRadius(r0, np.abs(rng.standard_normal(n)), 3 * TINY)
    cols = column_sums_up(np.abs(WT))
    new_mid, new_rad = scaled_product(mid, rad, d, WT, cols)
    full = new_rad.full()
    for a in range(N):
        for k in range(K):
            for j in range(m):
                exact = sum((rat(mid[k, i]) * rat(d[a, i]) * rat(WT[i, j]) for i in range(n)), F(0))
                spread = F(0)
                if rad is not None:
                    spread = sum(((rat(rad.r[a, k]) * rat(rad.c[i]) + rat(rad.t)) * abs(rat(d[a, i]) * rat(WT[i, j]))
                                  for i in range(n)), F(0))
                assert abs(exact - rat(new_mid[a, k, j])) + spread <= rat(full[a, k, j]), (a, k, j)
