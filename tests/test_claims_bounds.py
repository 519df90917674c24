"""Every stated inequality of the bounds package (``nnverify/bounds``) checked on its own, exactly.

The end-to-end tests of ``test_bounds_tiers.py`` compare whole bounds with whole forwards; a loose
term elsewhere can hide a wrong intermediate claim. Here each claim is tested directly against
rationals (``Fraction``, with an exact round-to-nearest-even of our own) or arb at high precision,
on computations built to err as much as the rounding model allows: every summation tree (chains
in sorted orders, pairwise, random trees), products rounded or fused (FMA), float32 sums carried
in float64 and rounded (double rounding), exp/tanh results moved to the edge of their stated
accuracy, subnormal products, boxes straddling 0, ``n = 1``.

Each test notes a perturbation of the package that makes it fail (its teeth); they were tried in a
scratch copy. The three claims found false (tanh's error for subnormal results, softmax without the
shift, overflow of partial sums) are fixed or narrowed; their tests check what holds now.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest
from claims_helpers import PREC, F, arb_q, rat
from flint import arb, ctx

from nnverify.bounds.boxes import VecConstants, capped, softmax_errors, softmax_jacobian, unit_box
from nnverify.bounds.probabilistic import azuma_lambda
from nnverify.bounds.rounding import DEFAULT_ROUNDING
from nnverify.bounds.sums import LayerWeights, _squares_up, gamma_sums, order_free_sums
from nnverify.bounds.tiers import error_bounds
from nnverify.bounds.ulps import _floor_log2, gamma, ulp_of
from nnverify.certified import CertifiedPass, certify
from nnverify.certified.arrays import ball_pass
from nnverify.certified.elementary import softmax_bounds
from nnverify.model import Activation, Layer, Network
from nnverify.numeric import activate

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
_FMT = {F32: (24, -126), F64: (53, -1022)}


def _u(dt: np.dtype) -> Fraction:
    return F(1, 2 ** _FMT[dt][0])


def _tiny(dt: np.dtype) -> Fraction:
    p, emin = _FMT[dt]
    return F(2) ** (emin - p + 1)


def _log2_floor(q: Fraction) -> int:
    """``floor(log2 q)`` exactly, ``q > 0`` (independent of ``ulps._floor_log2``)."""
    e = q.numerator.bit_length() - q.denominator.bit_length()
    while F(2) ** e > q:
        e -= 1
    while F(2) ** (e + 1) <= q:
        e += 1
    return e


def _pow2_floor(q: Fraction) -> Fraction:
    return F(2) ** _log2_floor(q)


def rnd(q: Fraction, dt: np.dtype) -> Fraction:
    """``q`` rounded to nearest (ties to even) in ``dt``, subnormals included; OverflowError beyond."""
    if q == 0:
        return F(0)
    p, emin = _FMT[dt]
    e = max(_log2_floor(abs(q)), emin)
    spacing = F(2) ** (e - p + 1)
    m = q / spacing
    n = math.floor(m)
    r = m - n
    if r > F(1, 2) or (r == F(1, 2) and n % 2 == 1):
        n += 1
    out = n * spacing
    if abs(out) > F(float(np.finfo(dt).max)):
        raise OverflowError(q)
    return out


def step_float(v: Fraction, j: int, dt: np.dtype) -> Fraction:
    """The float ``j`` steps from the float ``v`` (``j < 0``: down)."""
    x = dt.type(float(v))
    for _ in range(abs(j)):
        x = np.nextafter(x, dt.type(np.inf if j > 0 else -np.inf))
    return rat(x)


# ----------------------------------------------------------------------------------------------
# Summation trees, evaluated exactly: every addition's exact result and rounding recorded


@dataclass
class _Node:
    value: Fraction  # the computed float
    leaves: int  # terms below (products and the bias)


@dataclass
class _Run:
    result: Fraction
    additions: list[tuple[int, Fraction, Fraction]]  # (terms added, exact result, rounding error)
    partials: list[Fraction]  # every computed partial sum


def _evaluate(z: list[Fraction], w: list[Fraction], b: Fraction, dt: np.dtype, order: list[int],
              shape: str, fma: list[bool], wide: bool, rng: np.random.Generator) -> _Run:
    """``sum_i z_i w_i + b`` in ``dt``: leaves in ``order`` (index ``n`` is the bias), combined as a
    chain, pairwise, or a random tree; a product meeting a partial sum is fused where ``fma[i]``.
    ``wide``: every operation carried in float64 and rounded to ``dt`` (double rounding)."""
    adds: list[tuple[int, Fraction, Fraction]] = []
    partials: list[Fraction] = []

    def round_op(q: Fraction) -> Fraction:
        return rnd(rnd(q, F64), dt) if wide else rnd(q, dt)

    def leaf(i: int) -> tuple[_Node | None, int]:
        return (_Node(b, 1), -1) if i == len(z) else (None, i)

    def value(item: tuple[_Node | None, int]) -> _Node:
        node, i = item
        return node if node is not None else _Node(round_op(z[i] * w[i]), 1)

    def combine(x: tuple[_Node | None, int], y: tuple[_Node | None, int]) -> tuple[_Node | None, int]:
        for p, q in ((x, y), (y, x)):
            if p[0] is None and q[0] is not None and fma[p[1]]:
                i, s = p[1], q[0]
                exact = z[i] * w[i] + s.value
                out = round_op(exact)
                adds.append((s.leaves + 1, exact, out - exact))
                partials.append(out)
                return _Node(out, s.leaves + 1), -1
        a, c = value(x), value(y)
        exact = a.value + c.value
        out = round_op(exact)
        adds.append((a.leaves + c.leaves, exact, out - exact))
        partials.append(out)
        return _Node(out, a.leaves + c.leaves), -1

    items = [leaf(i) for i in order]
    if shape == "chain":
        acc = items[0]
        for it in items[1:]:
            acc = combine(acc, it)
    elif shape == "pairwise":
        while len(items) > 1:
            nxt = [combine(items[k], items[k + 1]) for k in range(0, len(items) - 1, 2)]
            items = nxt + ([items[-1]] if len(items) % 2 else [])
        acc = items[0]
    else:
        while len(items) > 1:
            k = int(rng.integers(0, len(items) - 1))
            items[k:k + 2] = [combine(items[k], items[k + 1])]
        acc = items[0]
    return _Run(value(acc).value, adds, partials)


def _exact_terms(z: list[Fraction], w: list[Fraction], b: Fraction) -> tuple[Fraction, Fraction, Fraction, Fraction]:
    """``(T, M, S, exact sum)``: ``sum |t_i|``, ``max(P, N)``, the larger sum of squares, the sum."""
    t = [zi * wi for zi, wi in zip(z, w)] + [b]
    P = sum((v for v in t if v > 0), F(0))
    N = -sum((v for v in t if v < 0), F(0))
    S = max(sum((v * v for v in t if v > 0), F(0)), sum((v * v for v in t if v < 0), F(0)))
    return sum((abs(v) for v in t[:-1]), F(0)), max(P, N), S, sum(t, F(0))


def _orders(z: list[Fraction], w: list[Fraction], b: Fraction, rng: np.random.Generator) -> list[list[int]]:
    n = len(z)
    t = [zi * wi for zi, wi in zip(z, w)] + [b]
    idx = list(range(n + 1))
    return [idx, idx[::-1], sorted(idx, key=lambda i: -t[i]), sorted(idx, key=lambda i: t[i]),
            sorted(idx, key=lambda i: abs(t[i])), sorted(idx, key=lambda i: -abs(t[i])),
            [int(i) for i in rng.permutation(n + 1)]]


def _all_runs(z: list[Fraction], w: list[Fraction], b: Fraction, dt: np.dtype,
              rng: np.random.Generator, wide: bool = True) -> list[_Run]:
    n = len(z)
    runs = []
    for order in _orders(z, w, b, rng):
        for shape in ("chain", "pairwise", "random"):
            for fma in ([False] * n, [True] * n, list(rng.random(n) < 0.5)):
                runs.append(_evaluate(z, w, b, dt, order, shape, fma, False, rng))
        if wide and dt == F32:  # float32 carried in float64, each step rounded back (double rounding)
            runs.append(_evaluate(z, w, b, dt, order, "chain", [True] * n, True, rng))
    return runs


def _layer(W: np.ndarray, b: np.ndarray) -> LayerWeights:
    return LayerWeights.of(Layer(W, b, Activation.IDENTITY))


def _cases(dt: np.dtype) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """``(lo, hi, W, b)`` for one unit: binade edges, cancellation, underflow, boxes over 0, n = 1."""
    rng = np.random.default_rng(7)
    out = []
    for n in (1, 2, 5, 17):
        for scale in (1.0, 2.0**-70 if dt == F32 else 2.0**-540):  # the second: products underflow
            W = (rng.choice([-1.0, 1.0], (n, 1)) * rng.uniform(1, 2, (n, 1)) * scale).astype(dt)
            z = (rng.uniform(1, 2, n) * scale).astype(dt)
            b = (rng.standard_normal(1) * scale * scale).astype(dt)
            out.append((z, z, W, b))
            lo = (z - rng.uniform(0, 3, n) * scale).astype(dt)  # boxes that straddle 0
            out.append((lo, z, W, b))
    # the accumulation case: 1 then many u(1 + eps), each addition rounding up by ~u
    n = 24
    z = np.ones(n, dtype=dt)
    W = np.full((n, 1), float(_u(dt)) * (1 + 2.0**-10), dtype=dt)
    out.append((z, z, W, np.ones(1, dtype=dt)))
    return out


@pytest.mark.parametrize("dt", [F32, F64], ids=["float32", "float64"])
def test_order_free_sums_bound_every_summation_tree_and_each_stated_step(dt: np.dtype) -> None:
    """Claims (sums module text, ``order_free_sums``, ``_node_bounds``):

    - every partial sum lies in ``[-N - E0, P + E0]``, ``E0 = (u T + n tiny/2 + n u M) / (1 - n u)``;
    - the ``i``-th smallest addition adds at most ``i + 1`` terms (the rank claim);
    - an addition of ``k`` terms has an exact result of magnitude ``<= min(M, sqrt(k S)) + E0`` and
      rounds by at most ``u 2^floor(log2(that))``, or ``tiny/2`` when an FMA underflows;
    - ``|â - sum t_i - b| <= rho`` for every tree, with or without FMA, inputs anywhere in the box.

    Not loose: the accumulation case (1 plus 24 terms of ``u (1 + 2^-10)``) reaches 85% of ``rho``.
    Teeth: ``nodes * u_f`` halved, or ``uf`` dropped (the underflow cases), fail the last claim;
    ``count = floor(...)`` (without ``- 1``) fails nothing here but the staircase test.
    """
    rng = np.random.default_rng(11)
    u, tiny = _u(dt), _tiny(dt)
    worst = 0.0
    for lo, hi, W, b in _cases(dt):
        n = W.shape[0]
        w = _layer(W, b)
        rho = order_free_sums(lo[None].astype(np.float64), hi[None].astype(np.float64), w, u, float(tiny)).rho[0, 0]
        wl, bb = [rat(v) for v in W[:, 0]], rat(b[0])
        # the inputs: both ends of the box and a few floats inside
        picks = [hi, lo] + [np.where(rng.random(n) < 0.5, lo, hi).astype(dt) for _ in range(2)]
        for zc in picks:
            zl = [rat(v) for v in zc]
            # T, M, S over the whole box (what the bound sees), the exact sum at this point
            T = sum((max(abs(rat(a)), abs(rat(c))) * abs(wi) for a, c, wi in zip(lo, hi, wl)), F(0))
            tp = [max(rat(a) * wi, rat(c) * wi, F(0)) for a, c, wi in zip(lo, hi, wl)] + [max(bb, F(0))]
            tn = [max(-rat(a) * wi, -rat(c) * wi, F(0)) for a, c, wi in zip(lo, hi, wl)] + [max(-bb, F(0))]
            M, S = max(sum(tp, F(0)), sum(tn, F(0))), max(sum((v * v for v in tp), F(0)), sum((v * v for v in tn), F(0)))
            exact = sum((a * c for a, c in zip(zl, wl)), bb)
            E0 = (u * T + n * tiny / 2 + n * u * M) / (1 - n * u)
            for run in _all_runs(zl, wl, bb, dt, rng):
                assert all(abs(s) <= M + E0 for s in run.partials)
                sizes = sorted(k for k, _, _ in run.additions)
                assert len(sizes) == n and all(s <= i + 2 for i, s in enumerate(sizes))
                for k, q, err in run.additions:
                    reach = min(M, F(math.sqrt(k * S)) * (1 + F(1, 2**40))) + E0
                    assert abs(q) <= reach
                    assert abs(err) <= max(u * _pow2_floor(reach), tiny / 2)
                e = abs(run.result - exact)
                assert e <= rat(rho), (n, float(e), float(rho))
                worst = max(worst, float(e / rat(rho)))
    assert worst > 0.85  # the accumulation case: the bound is nearly attained


def test_gamma_sums_bound_every_tree_with_input_errors() -> None:
    """Claim (``gamma_sums``): ``|â - a| <= gamma_{n+1} ((|z| + e)|W| + |b|) + e|W| + n tiny`` for
    computed inputs within ``e`` of the exact ``z``, in any tree (float32, underflowing products too).

    Teeth: ``gamma(n + 1)`` replaced by ``gamma(n - 1)``, or ``uf`` dropped, fails.
    """
    rng = np.random.default_rng(12)
    dt = F32
    for lo, hi, W, b in _cases(dt):
        w = _layer(W, b)
        mid = ((lo.astype(np.float64) + hi) / 2)
        e = (hi.astype(np.float64) - lo) / 2 * (1 + 2.0**-40)
        bound = gamma_sums(np.abs(mid)[None], e[None] if np.any(e) else None, w, _u(dt), float(_tiny(dt)))[0][0, 0]
        wl, bb = [rat(v) for v in W[:, 0]], rat(b[0])
        exact = sum((rat(m) * c for m, c in zip(mid, wl)), bb)  # the exact z: the box's centre
        for zc in (lo, hi):
            for run in _all_runs([rat(v) for v in zc], wl, bb, dt, rng, wide=False):
                assert abs(run.result - exact) <= rat(bound)


# ----------------------------------------------------------------------------------------------
# ulps and the rounding model's constants


def test_floor_log2_and_ulp_of_are_exact_at_every_binade_edge() -> None:
    """Claims (``ulps``): ``_floor_log2(q) = floor(log2 |q|)``; ``ulp_of`` is the spacing at ``q``,
    subnormal spacing below the normal range; ``gamma_m = m u / (1 - m u)``.

    Teeth: ``_floor_log2``'s correction ``<`` made ``<=`` fails at the powers of two.
    """
    qs = [F(2) ** e * f for e in (-1080, -1074, -1023, -1022, -150, -149, -127, -126, -1, 0, 1, 60)
          for f in (F(1), F(1) - F(1, 2**60), F(1) + F(1, 2**60), F(3, 2), F(7, 3), F(-5, 4))]
    for q in qs:
        assert _floor_log2(q) == _log2_floor(abs(q)), q
        for dt in (F32, F64):
            p, emin = _FMT[dt]
            assert ulp_of(q, dt) == F(2) ** (max(_log2_floor(abs(q)), emin) - p + 1)
            if dt == F32 and abs(q) < 2**100:  # spacing: the next float after rnd(q) is one ulp away (in-binade)
                r = rnd(abs(q), dt)
                if r and _log2_floor(r) == _log2_floor(abs(q)) and r != F(2) ** _log2_floor(r):
                    assert step_float(r, 1, dt) - r == ulp_of(q, dt)
    assert ulp_of(F(0), F64) == F(1, 2**1074) and ulp_of(F(0), F32) == F(1, 2**149)
    assert gamma(3, F(1, 2**24)) == F(3, 2**24 - 3)


def _arb_sigmoid(x: arb) -> arb:
    return 1 / (1 + (-x).exp())


def _within_k_ulps(exact: arb, k: Fraction, dt: np.dtype) -> list[Fraction]:
    """The floats of ``dt`` nearest to the ends of ``exact +- k ulp(exact)`` that are certainly within:
    the extreme results the rounding model allows a ``k``-ulp function."""
    mid = rat(float(exact.mid())) if dt == F64 else rnd(rat(float(exact.mid())), dt)
    out = []
    for sign in (-1, 1):
        j = 0
        while True:
            cand = step_float(mid, sign * (j + 1), dt)
            if not (abs(arb_q(cand) - exact) <= arb_q(k * ulp_of(mid, dt)) * (1 - arb(2) ** -40)):
                break
            j += 1
        out.append(step_float(mid, sign * j, dt))
    return out


def _sigmoid_forms(a: Fraction, dt: np.dtype, k: Fraction) -> list[Fraction]:
    """Every correct sigmoid of the model at ``a``: the three forms, exp/tanh at both edges of ``k`` ulps."""
    out = []
    with ctx.workprec(PREC):
        A = arb_q(a)
        for E in _within_k_ulps((-A).exp(), k, dt):  # 1 / (1 + exp(-a))
            out.append(rnd(1 / rnd(1 + E, dt), dt))
        for E in _within_k_ulps(A.exp(), k, dt):  # exp(a) / (1 + exp(a))
            out.append(rnd(E / rnd(1 + E, dt), dt))
        half = rnd(a / 2, dt)
        for T in _within_k_ulps(arb_q(half).tanh(), k, dt):  # 0.5 * (1 + tanh(a/2))
            out.append(rnd(rnd(1 + T, dt) / 2, dt))
    return out


@pytest.mark.parametrize("dt", [F32, F64], ids=["float32", "float64"])
def test_sigmoid_and_tanh_evaluation_errors_cover_every_k_ulp_result(dt: np.dtype) -> None:
    """Claims (``rounding.ModelConstants``, ``boxes._sigmoid_box``/``_tanh_box``): a sigmoid in any of
    its three forms, exp/tanh off by up to ``k`` ulps, errs by at most ``eta = max(c_rel u h,
    c_abs u + tiny)``; a tanh by ``2 k u |tanh| + tiny`` (normal results). Points near 0, at the
    binade edges of ``h``, in the tails where ``h`` or ``1 - h`` is a few ulps.

    Not loose: the worst sigmoid reaches 20% of ``eta``: ``c_abs`` takes tanh's error as ``2 k u``
    where ``k u`` holds below 1, so ``c_abs = k + e`` still passes. Teeth: ``c_abs = (k + 1 + e) / 2``,
    or tanh's ``eta`` halved, fails.
    """
    model = DEFAULT_ROUNDING
    consts = model.constants(dt)
    c = VecConstants.of(consts, 1)
    rng = np.random.default_rng(13)
    top = 16.0 if dt == F32 else 36.0
    pts = np.concatenate([rng.uniform(-top, top, 24), [0.0, 2.0**-20, -2.0**-20, 1.0, -1.0, top, -top, -80.0, 0.5]])
    pts = pts.astype(dt).astype(np.float64)
    sbox = unit_box(Activation.SIGMOID, pts, pts, c)
    tbox = unit_box(Activation.TANH, pts, pts, c)
    worst = 0.0
    with ctx.workprec(PREC):
        for i, a in enumerate(pts.tolist()):
            exact = _arb_sigmoid(arb(a))
            for v in _sigmoid_forms(rat(a), dt, consts.k):
                err = abs(arb_q(v) - exact)
                assert err <= arb(float(sbox.eta[i])), (a, float(v))
                worst = max(worst, float((err / arb(float(sbox.eta[i]))).upper()))
            if a == 0:  # a subnormal (here: zero) result: the next test
                continue
            t = arb(a).tanh()
            for v in _within_k_ulps(t, consts.k, dt):
                assert abs(arb_q(v) - t) <= arb(float(tbox.eta[i])), a
    assert worst > 0.2


def test_tanh_evaluation_error_covers_k_ulps_of_a_subnormal_result() -> None:
    """Claim (``boxes`` module text, ``rounding``): tanh's evaluation error ``2 k u |tanh|`` plus one
    underflow covers every result within ``k`` ulps. Counterexample: float32, ``â = 10 * 2^-149``,
    ``tanh(â) = â (1 - â^2/3)``; ``â + 3 * 2^-149`` is within 4 ulps (3.0000... tiny), eta is
    ``1.0000048 tiny``. End to end (a one-unit tanh network ``x = 10 tiny``, ``W = [[1]]``) the sound
    bound was ``1.5 tiny``: a correct tanh would have been called failed. Now ``eta = 2 k u |tanh| +
    (k + 1) tiny``, in the boxes and in the arb oracle.

    Teeth: ``k_tiny`` back to ``tiny`` in ``_tanh_box`` fails (it did, as an xfail).
    """
    dt = F32
    consts = DEFAULT_ROUNDING.constants(dt)
    c = VecConstants.of(consts, 1)
    a = 10 * 2.0**-149
    box = unit_box(Activation.TANH, np.array([a]), np.array([a]), c)
    with ctx.workprec(PREC):
        t = arb(a).tanh()
        for v in _within_k_ulps(t, consts.k, dt):
            assert abs(arb_q(v) - t) <= arb(float(box.eta[0]))


# ----------------------------------------------------------------------------------------------
# softmax: evaluation and input errors, the interval Jacobian


def _softmax_results(ahat: list[Fraction], dt: np.dtype, k_ulps: Fraction, shift: bool) -> list[list[Fraction]]:
    """Correct softmaxes of the computed logits ``ahat``: shifted by the max (or not), each exp at the
    edge of ``k`` ulps against the output's favour or for it, sums ascending and descending, division
    or multiplication by the reciprocal."""
    K = len(ahat)
    c = max(ahat) if shift else F(0)
    d = [rnd(v - c, dt) for v in ahat]
    out = []
    with ctx.workprec(PREC):
        edges = [_within_k_ulps(arb_q(v).exp(), k_ulps, dt) for v in d]
    for k in range(K):
        for up_k in (0, 1):
            E = [edges[i][up_k if i == k else 1 - up_k] for i in range(K)]
            for rev in (False, True):
                s = F(0)
                for v in sorted(E, reverse=rev):
                    s = rnd(s + v, dt)
                y = [rnd(E[i] / s, dt) for i in range(K)]
                r = rnd(1 / s, dt)
                out.extend([y, [rnd(E[i] * r, dt) for i in range(K)]])
    return out


def _softmax_exact(a: list[Fraction]) -> list[arb]:
    A = [arb_q(v) for v in a]
    m = max(a)
    ex = [(x - arb_q(m)).exp() for x in A]
    s = sum(ex, arb(0))
    return [x / s for x in ex]


@pytest.mark.parametrize("dt", [F32, F64], ids=["float32", "float64"])
def test_softmax_errors_cover_every_correct_softmax_of_inputs_within_e(dt: np.dtype) -> None:
    """Claim (``boxes.softmax_errors``): ``|ŷ_k - p_k| <= err_k`` for the computed softmax of inputs
    within ``e`` of the exact logits (``e = 0``: the evaluation error), shift by the max rounded,
    exps anywhere within ``k`` ulps, any summation order, division or reciprocal.

    Logits spread widely (float32: down to -120 below the max: subnormal exps), one dominant, all
    equal, ``K = 1``. Not loose: the worst reaches 20% of ``err``.
    Teeth: ``r`` without ``c.phi``, or without the shift term, or ``f_up = 0``, fails.
    """
    rng = np.random.default_rng(17)
    consts = DEFAULT_ROUNDING.constants(dt)
    rows = [rng.standard_normal(4) * 3, rng.standard_normal(4) * 30, np.array([0.0, -100.0, -120.0, 5.0]),
            np.array([1.0, 1.0, 1.0, 1.0]), np.array([40.0, -40.0, 0.5, 0.25]), np.array([3.0])]
    worst = 0.0
    for row in rows:
        K = row.size
        c = VecConstants.of(consts, K)
        a = row.astype(dt)
        for steps in (0, 3):
            ahats = [a] if steps == 0 else [np.array([s * steps for s in rng.choice([-1, 1], K)]) for _ in range(2)]
            for move in ahats:
                ah = [step_float(rat(v), int(j), dt) for v, j in zip(a, move)] if steps else [rat(v) for v in a]
                e = np.array([float(abs(x - rat(v))) for x, v in zip(ah, a)]) * (1 + 2.0**-40)
                a64 = a.astype(np.float64)[None]
                p_lo, p_hi = softmax_bounds(a64, a64)
                bound = softmax_errors(a64, a64, e[None], p_lo, p_hi, c)[0]
                with ctx.workprec(PREC):
                    p = _softmax_exact([rat(v) for v in a])
                    for y in _softmax_results(ah, dt, consts.k, shift=True):
                        for k in range(K):
                            err = abs(arb_q(y[k]) - p[k])
                            assert err <= arb(float(bound[k])), (row, steps, k)
                            worst = max(worst, float((err / arb(float(bound[k]))).upper()))
    assert worst > 0.2


def test_softmax_bound_covers_the_shift_and_says_why_the_unshifted_form_is_left_out() -> None:
    """Claim (``nnverify.bounds`` module text, rule 2): the softmax bound covers ``exp(a_k - c) /
    sum_i exp(a_i - c)`` with ``c = max a``, and ``c = 0`` only while every ``exp(a_i)`` is normal.
    Float32 logits ``(-99, -99.5)``: shifted, within the bound; unshifted, the exps are subnormal
    (72 and 44 tiny: k ulps there is absolute), ``ŷ_0 = 72/116 = 0.62069`` against ``p_0 = 0.62246``,
    an error of 1.8e-3 no rounding bound of the model covers (the bound is 7.1e-7). The text once
    claimed ``c = 0`` without the condition.

    Teeth: ``phi`` (exp's relative error) set to 0 fails the shifted form.
    """
    dt = F32
    consts = DEFAULT_ROUNDING.constants(dt)
    c = VecConstants.of(consts, 2)
    a = np.array([-99.0, -99.5])
    p_lo, p_hi = softmax_bounds(a[None], a[None])
    bound = softmax_errors(a[None], a[None], np.zeros((1, 2)), p_lo, p_hi, c)[0]
    with ctx.workprec(PREC):
        p = _softmax_exact([rat(v) for v in a])
        for shift in (float(np.max(a)), 0.0):
            args = [rnd(rat(v) - rat(shift), dt) for v in a]  # the shift's rounding
            for nudge in (-consts.k, 0, consts.k):  # exp anywhere within k ulps
                E = [rnd(rat(float(arb_q(v).exp().mid())), dt) for v in args]
                E = [e + nudge * _ulp32(e) for e in E]
                s = rnd(E[0] + E[1], dt)
                y = [rnd(v / s, dt) for v in E]
                within = all(abs(arb_q(y[k]) - p[k]) <= arb(float(bound[k])) for k in range(2))
                assert within == (shift != 0.0), (shift, nudge)


def _ulp32(v: Fraction) -> Fraction:
    """The spacing of float32 at ``v`` (subnormal spacing below the normal range)."""
    return rat(float(np.spacing(np.float32(float(v)))))


def test_softmax_jacobian_encloses_the_jacobian_at_every_point_of_the_box() -> None:
    """Claim (``boxes.softmax_jacobian``): for ``y`` in ``[y_lo, y_hi]`` every ``y_k (delta_kj - y_j)``
    lies in ``mid +- rad`` (off the diagonal ``-y_k y_j``, on it ``y (1 - y)``, at most 1/4).
    Checked at corners and inner points of logit boxes, exactly (arb), including boxes over ``y = 1/2``.

    Teeth: the diagonal's maximum taken at the ends only (no 1/4) fails.
    """
    rng = np.random.default_rng(19)
    K = 3
    lo = np.concatenate([rng.standard_normal((12, K)) * 3, [[0.0, 0.0, -40.0], [0.1, -0.1, -30.0]]])
    hi = lo + np.concatenate([10.0 ** rng.uniform(-6, 0.5, (12, K)), [[0.3, 1e-9, 1.0], [2.0, 2.0, 0.0]]])
    y_lo, y_hi = softmax_bounds(lo, hi)
    J = softmax_jacobian(y_lo, y_hi)
    with ctx.workprec(PREC):
        for r in range(lo.shape[0]):
            for f in (0.0, 0.3, 0.5, 1.0):
                for flip in (False, True):
                    t = [f if (i % 2 == 0) != flip else 1 - f for i in range(K)]
                    a = [rat(lo[r, i]) * (1 - F(t[i]).limit_denominator(10)) + rat(hi[r, i]) * F(t[i]).limit_denominator(10)
                         for i in range(K)]
                    y = _softmax_exact(a)
                    for k in range(K):
                        for j in range(K):
                            v = y[k] * ((1 if k == j else 0) - y[j])
                            m, rad = arb(float(J.mid[r, k, j])), arb(float(J.rad[r, k, j]))
                            assert m - rad <= v and v <= m + rad, (r, k, j)


def test_tanh_and_relu_and_step_boxes_enclose_every_slope_value_and_divided_difference() -> None:
    """Claims (``boxes._tanh_box``, ``_relu_box``, ``_step_box``): over ``[lo, hi]`` every ``h'`` and
    every divided difference ``(h(x) - h(y)) / (x - y)`` is within ``d_mid +- d_rad`` and at most
    ``lipschitz``; ``h`` within ``[lo, hi]`` of the box; step exact (eta 0) unless the box straddles 0.
    Boxes over 0, at 0, of width 0, deep in tanh's saturation.

    Teeth: ``d_lo`` from ``t_lo`` only (not the larger ``|t|``) fails on boxes over 0.
    """
    c = VecConstants.of(DEFAULT_ROUNDING.constants(F64), 1)
    rng = np.random.default_rng(23)
    centre = np.concatenate([rng.uniform(-4, 4, 30), [0.0, 0.0, 20.0, -20.0, 1e-100]])
    width = np.concatenate([10.0 ** rng.uniform(-8, 0.5, 30), [0.0, 1.0, 3.0, 1e-3, 0.0]])
    lo, hi = centre - width, centre + width
    exact_fns: dict[Activation, Callable[[Fraction], Fraction]] = {
        Activation.RELU: lambda x: max(x, F(0)), Activation.STEP: lambda x: F(1) if x > 0 else F(0)}
    for act in (Activation.TANH, Activation.RELU, Activation.STEP):
        box = unit_box(act, lo, hi, c)
        with ctx.workprec(PREC):
            for i in range(lo.size):
                pts = [rat(lo[i]) + (rat(hi[i]) - rat(lo[i])) * f / 4 for f in range(5)]
                vals = [arb_q(p).tanh() if act is Activation.TANH else arb_q(exact_fns[act](p)) for p in pts]
                dm, dr, lip = arb(float(box.d_mid[i])), arb(float(box.d_rad[i])), arb(float(box.lipschitz[i]))
                for v in vals:
                    assert arb(float(box.lo[i])) <= v and v <= arb(float(box.hi[i])), (act, i)
                    if act is Activation.TANH:
                        s = 1 - v * v
                        assert dm - dr <= s and s <= dm + dr and s <= lip
                for x in range(5):
                    for y in range(x + 1, 5):
                        if act is Activation.STEP or pts[y] == pts[x]:
                            continue
                        dq = pts[y] - pts[x]
                        if act is Activation.RELU:
                            q = (exact_fns[act](pts[y]) - exact_fns[act](pts[x])) / dq
                            assert rat(box.d_mid[i]) - rat(box.d_rad[i]) <= q <= rat(box.d_mid[i]) + rat(box.d_rad[i])
                            assert q <= rat(box.lipschitz[i])
                        else:
                            qa = (vals[y] - vals[x]) / arb_q(dq)
                            assert dm - dr <= qa and qa <= dm + dr and qa <= lip, (act, i)
        if act is Activation.STEP:
            straddles = (lo <= 0) & (hi > 0)
            assert np.all(box.eta[~straddles] == 0) and np.all(box.eta[straddles] == 1)


def test_capped_is_the_distance_to_the_far_end_of_the_range() -> None:
    """Claim (``boxes.capped``): a computed sigmoid/softmax in [0, 1], tanh in [-1, 1], step in {0, 1}
    is never farther than the cap from any exact value in ``[z_lo, z_hi]``; relu/identity uncapped.

    Teeth: the sigmoid cap ``z_hi`` alone (no ``1 - z_lo``) fails.
    """
    z_lo = np.array([0.0, 0.1, 0.5, 0.9, -1.0, -0.3])
    z_hi = z_lo + np.array([0.0, 0.05, 0.0, 0.1, 0.0, 0.6])
    inf = np.full(z_lo.shape, np.inf)
    for act, (low, high) in ((Activation.SIGMOID, (0, 1)), (Activation.SOFTMAX, (0, 1)), (Activation.TANH, (-1, 1)),
                             (Activation.STEP, (0, 1))):
        cap = capped(act, inf, np.clip(z_lo, low, high), np.clip(z_hi, low, high))
        for i in range(z_lo.size):
            zl, zh = max(rat(z_lo[i]), F(low)), min(rat(z_hi[i]), F(high))
            assert max(abs(F(high) - zl), abs(zh - F(low))) <= rat(cap[i]), (act, i)
    assert np.all(capped(Activation.RELU, inf, z_lo, z_hi) == np.inf)


def test_squares_up_and_azuma_lambda_round_up() -> None:
    """Claims (``sums._squares_up``: an upper bound of ``V * V``, an underflowing square raised to the
    smallest normal; ``probabilistic.azuma_lambda``: ``sqrt(2 ln(2/p))`` rounded up).

    Teeth: ``_squares_up`` without ``up`` fails on entries whose square rounds down.
    """
    V = np.array([0.0, 1e-200, 2.0**-540, 1.1, 3.0, 1 + 2.0**-30, 1e150, 1e200])
    sq = _squares_up(V)
    for v, s in zip(V.tolist(), sq.tolist()):
        assert (s == math.inf or rat(s) >= rat(v) * rat(v)) and (v == 0) == (s == 0)
    with ctx.workprec(PREC):
        for conf in (0.5, 0.9, 1 - 1e-6, 1 - 2.0**-50):
            p = 1 - rat(conf)
            lam = (2 * (2 / arb_q(p)).log()).sqrt()
            assert lam <= arb(azuma_lambda(conf)) and arb(azuma_lambda(conf)) <= lam * (1 + arb(2) ** -30)


# ----------------------------------------------------------------------------------------------
# tiers, adjoint: the whole sound bound against adversarial correct forwards


def errors(cert: CertifiedPass, y: np.ndarray) -> np.ndarray:
    """``(N, k)`` the distance from each output to its exact enclosure, rounded up (inf: not finite)."""
    out = np.zeros(y.shape)
    for i in range(y.shape[0]):
        for k in range(y.shape[1]):
            if not np.isfinite(y[i, k]):
                out[i, k] = np.inf
                continue
            e, v = cert.y[i][k], rat(y[i, k])
            d = max(e.lower - v, v - e.upper, F(0))
            out[i, k] = float(np.nextafter(float(d), np.inf)) if F(float(d)) < d else float(d)
    return out


def _nudged(act: Activation, dt: np.dtype, steps: int, rng: np.random.Generator) -> Callable[[np.ndarray], np.ndarray]:
    """The activation with its result moved ``steps`` floats at random signs (within k ulps for
    ``steps <= k - 1``), clipped to the range a correct one keeps."""
    def f(a: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            y = activate(act, a)
            for _ in range(steps if act in (Activation.TANH, Activation.SIGMOID) else 0):  # relu, identity: exact
                y = np.where(rng.random(y.shape) < 0.5, np.nextafter(y, dt.type(np.inf)), np.nextafter(y, dt.type(-np.inf)))
            lo, hi = {Activation.TANH: (-1, 1), Activation.SIGMOID: (0, 1), Activation.SOFTMAX: (0, 1)}.get(act, (-np.inf, np.inf))
            out: np.ndarray = np.clip(y, lo, hi).astype(dt)
            return out
    return f


def _forward(net: Network, x: np.ndarray, order: str, steps: int, rng: np.random.Generator) -> np.ndarray:
    dt = net.dtype
    z = x.astype(dt)
    for layer in net.layers:
        t = z[:, :, None] * layer.W[None]  # products rounded in the dtype
        t = np.concatenate([t, np.broadcast_to(layer.b, (z.shape[0], 1, layer.n_out))], axis=1)
        if order == "wide":
            a = (z.astype(np.float64) @ layer.W.astype(np.float64) + layer.b).astype(dt)
        else:
            t = np.sort(t, axis=1) if order != "abs" else np.take_along_axis(t, np.argsort(np.abs(t), axis=1), axis=1)
            if order == "desc":
                t = t[:, ::-1]
            a = np.add.accumulate(t, axis=1, dtype=dt)[:, -1, :]
        z = _nudged(layer.activation, dt, steps, rng)(a) if layer.activation is not Activation.SOFTMAX else \
            _softmax_nudged(a, steps, rng)
    return z


def _softmax_nudged(a: np.ndarray, steps: int, rng: np.random.Generator) -> np.ndarray:
    dt = a.dtype
    e = _nudged(Activation.IDENTITY, dt, 0, rng)(np.exp(a - a.max(axis=1, keepdims=True)))
    for _ in range(steps):
        e = np.where(rng.random(e.shape) < 0.5, np.nextafter(e, dt.type(np.inf)), np.nextafter(e, dt.type(-np.inf)))
    out: np.ndarray = e / np.sum(e, axis=1, keepdims=True)
    return out


def _nets() -> list[tuple[Network, np.ndarray]]:
    rng = np.random.default_rng(29)
    out = []
    for acts, scale in ((("tanh", "sigmoid", "softmax"), 1.0), (("relu", "tanh", "identity"), 2.0),
                        (("sigmoid", "sigmoid"), 4.0), (("tanh", "tanh", "tanh", "sigmoid"), 1.5), (("relu", "softmax"), 8.0)):
        sizes = [6] + [5] * (len(acts) - 1) + [3]
        layers = tuple(Layer((rng.standard_normal((p, q)) * scale / math.sqrt(p)).astype(np.float32),
                             (rng.standard_normal(q) * scale / 4).astype(np.float32), Activation.parse(act))
                       for p, q, act in zip(sizes, sizes[1:], acts))
        x = rng.standard_normal((3, 6)).astype(np.float32)
        x[0] = np.abs(x[0]) * 1e-3  # relu units near 0
        out.append((Network(layers), x))
    # evaluation errors alone (every sum exact): a hidden tanh read through W = 1, output tanh, sigmoid
    one, zero = np.ones((1, 1), np.float32), np.zeros(1, np.float32)
    xs = np.array([[0.7], [-0.3], [2.0], [0.55], [-1.5], [0.9], [1.2], [-0.8]], np.float32)
    for hidden in (("tanh", "identity"), ("tanh",), ("sigmoid",)):
        out.append((Network(tuple(Layer(one, zero, Activation.parse(a)) for a in hidden)), xs))
    return out


def test_the_sound_bound_holds_for_adversarial_forwards_and_is_not_absurdly_loose() -> None:
    """Claims (``tiers`` module text; ``adjoint``'s linearisation ``Delta z = d_mid Delta a + xi``,
    ``|xi| <= d_rad e_a + eta``): ``sound``, ``linear`` and ``interval`` hold for every correct float32
    forward: sums sorted ascending, descending, by magnitude, carried in float64, every
    tanh/sigmoid/softmax-exp result moved 3 floats (within the default 4 ulps) at random.

    Where every sum is exact (the last three networks) the evaluation errors alone reach 40% of
    ``sound``. Teeth: ``backward``'s ``per_unit`` without ``xi``, or ``_remainder`` without ``eta``,
    fails (``_remainder`` without ``d_rad e_a`` does not: no case here has a remainder that matters;
    ``_elementwise_output``'s ``sound`` is not what ``linear`` reports, ``e_z`` is).
    """
    rng = np.random.default_rng(31)
    worst = 0.0
    for net, x in _nets():
        cert = certify(net, x, route="matrix")
        b = error_bounds(net, ball_pass(cert))
        assert np.all(np.isfinite(b.sound))
        for order in ("asc", "desc", "abs", "wide"):
            for steps in (0, 3):
                y = _forward(net, x, order, steps, rng)
                err = errors(cert, y)
                for tier in (b.sound, b.linear, b.interval):
                    assert np.all(err <= tier), (order, steps, float(np.max(err / tier)))
                worst = max(worst, float(np.max(err / b.sound)))
    assert worst > 0.4


def test_no_correct_summation_order_overflows_where_a_finite_bound_is_given() -> None:
    """Claim (``tiers.beyond_the_float_range``, ``sums`` module text): overflow is left out of the
    model, so rows where a correct computation may overflow get no bound (inf). But partial sums
    reach ``M = max(P, N)``, not just the unit's exact value: with ``M > max float`` an IEEE-correct
    order overflows while every unit is far inside the range. So ``error_bounds`` also leaves out
    rows where some ``T + |b| + rho`` (a bound of every partial sum) reaches the largest float.

    Teeth: dropping ``_sums_may_overflow`` from ``error_bounds`` fails (it did, as an xfail).
    """
    W = np.array([[3e38], [3e38], [-3e38], [-3e38], [1.0]], dtype=np.float32)
    net = Network((Layer(W, np.zeros(1, np.float32), Activation.IDENTITY),))
    x = np.ones((1, 5), np.float32)
    b = error_bounds(net, ball_pass(certify(net, x, route="matrix")))
    t = np.sort((x[0] * W[:, 0]).astype(np.float32))[::-1]
    with np.errstate(over="ignore", invalid="ignore"):
        y = np.add.accumulate(t, dtype=np.float32)[-1]
    assert np.isfinite(y) or not np.isfinite(b.sound[0, 0]), (float(y), float(b.sound[0, 0]))
