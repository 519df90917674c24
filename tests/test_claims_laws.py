"""Audit of two honesty-critical claims: certified predictions, and the property laws' tolerances.

1. A prediction is *certified* only when no correct float computation can change ``np.argmax``
   (ties included: ``np.argmax`` takes the first index), and *flipped* exactly when the float
   argmax (first index on ties) differs from a decided exact argmax.
2. Every "within bound" law allows exactly the sum of the two derived bounds (triangle
   inequality), compared exactly, so a correct implementation is never accused, and one ulp past
   the allowance is.

Each test's docstring names a perturbation of the package that makes it fail ("Teeth").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np
import pytest
from bounds_helpers import forward_with

import nnverify
from nnverify import Layer, Network, forward
from nnverify.compare import check
from nnverify.model import Activation
from nnverify.predictions import predictions
from nnverify.suite import LawBroken, SuiteConfig
from nnverify.suite.laws.base import Recorder, activation_network
from nnverify.suite.laws.sigmoid import SigmoidSymmetry
from nnverify.suite.laws.softmax import SoftmaxLaws
from nnverify.suite.laws.structure import BatchConsistency, HiddenPermutation
from nnverify.suite.laws.within import output_bounds
from nnverify.testing import implementation
from nnverify.under_test import ForwardUnderTest

Fwd = Callable[[Network, np.ndarray], np.ndarray]
Sum = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


# Correct weighted sums (as tests/bounds_helpers.py has them; repeated here to keep mypy --strict
# clean on this file alone): every summation order the rounding model allows.
def _sorted_sum(z: np.ndarray, W: np.ndarray, b: np.ndarray, descending: bool) -> np.ndarray:
    terms = z[:, :, None] * W[None, :, :]
    terms = np.concatenate([terms, np.broadcast_to(b, (z.shape[0], 1, W.shape[1]))], axis=1)
    terms = np.sort(terms, axis=1)
    if descending:
        terms = terms[:, ::-1, :]
    out: np.ndarray = np.add.accumulate(terms, axis=1, dtype=z.dtype)[:, -1, :]
    return out


def _reversed(z: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    s = np.zeros((z.shape[0], W.shape[1]), dtype=z.dtype)
    for i in reversed(range(W.shape[0])):
        s = s + z[:, i:i + 1] * W[i]
    out: np.ndarray = s + b
    return out


def _f64(z: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(z.astype(np.float64) @ W.astype(np.float64) + b.astype(np.float64)).astype(z.dtype)


SUMS: dict[str, Sum] = {
    "matmul": lambda z, W, b: np.asarray(z @ W + b),
    "einsum": lambda z, W, b: np.asarray(np.einsum("ni,ij->nj", z, W) + b),
    "pairwise": lambda z, W, b: np.asarray(np.sum(z[:, :, None] * W[None, :, :], axis=1) + b),
    "reversed": _reversed,
    "sorted positive-first": lambda z, W, b: _sorted_sum(z, W, b, True),
    "sorted negative-first": lambda z, W, b: _sorted_sum(z, W, b, False),
    "float64-accumulated": _f64,
}


CORRECT: dict[str, Fwd] = {name: forward_with(f) for name, f in SUMS.items()}


def _in_order(x: np.ndarray, W: np.ndarray, order: Sequence[int]) -> np.ndarray:
    """``x @ W`` (float64) with every output's terms added strictly in ``order``."""
    s = np.zeros(W.shape[1])
    for i in order:
        s = s + x[i] * W[i]
    return s


# -- 1. certified predictions on real (tiny) networks --------------------------------------------------

# Terms 1, 2^-53, 2^-53 (and 2^-54): every product is exact, only the additions round, and the
# order of the additions decides the float sums.
_TIE_NET = Network((Layer(np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 1.0]]), np.zeros(2), Activation.IDENTITY),), name="tie")
_FLIP_NET = Network((Layer(np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]]), np.zeros(2), Activation.IDENTITY),),
                    name="flip")


def test_a_float_tie_resolved_by_first_index_against_the_exact_winner_is_flipped_and_counted_wrong() -> None:
    """Exact y = (1 + 2^-53, 1 + 2^-52): class 1. Left to right both round to 1.0, a tie that
    np.argmax gives to class 0. That row must be flipped, uncertified, and wrong against label 1;
    summed right to left, class 1 wins: correct computations disagree.

    Teeth: ``predicted = K - 1 - argmax(y[::-1])`` (last index on ties) in ``_one`` makes it
    not flipped and correct; ``Prediction.flipped`` returning False hides it."""
    x = np.array([1.0, 2.0**-53, 2.0**-53])
    y = forward(_TIE_NET, x).y
    assert y.tolist() == [1.0, 1.0]  # the BLAS order here is left to right
    assert int(np.argmax(_in_order(x, _TIE_NET.layers[0].W, [2, 1, 0]))) == 1
    p = predictions(check(_TIE_NET, x[None, :], progress=False), np.array([1]))
    row = p.rows[0]
    assert (row.predicted, row.exact_predicted, row.flipped, row.certified) == (0, 1, True, False)
    assert p.flipped == (0,) and p.not_certified == (0,)
    assert p.accuracy == 0.0 == float(np.mean(np.argmax(np.atleast_2d(y), axis=1) == 1))
    assert row.margin is not None and row.margin.lower == row.margin.upper == Fraction(2) ** -53


def test_a_row_whose_float_class_is_the_exact_one_is_not_certified_when_another_order_flips_it() -> None:
    """Exact y = (1 + 2^-52, 1 + 3 * 2^-54): class 0, and nnverify's forward says 0 (both 1.0,
    first index). Summing y0 left to right (1.0) and y1 right to left (1 + 2^-52) gives class 1:
    a correct computation flips it, so the row must not be certified.

    Teeth: ``certified=sound`` in ``_one`` (no bound in the rule) certifies it; so does
    ``_separated(k, lo, hi, None)`` for the sound tier."""
    x = np.array([1.0, 2.0**-53, 2.0**-53, 2.0**-54])
    W = _FLIP_NET.layers[0].W
    y0 = _in_order(x, W, [0, 1, 2, 3])[0]
    y1 = _in_order(x, W, [3, 2, 1, 0])[1]
    assert y1 > y0  # a correct computation (each output summed in some order) predicts class 1
    p = predictions(check(_FLIP_NET, x[None, :], progress=False), np.array([0]))
    row = p.rows[0]
    assert (row.predicted, row.exact_predicted) == (0, 0)
    assert not row.certified and not row.flipped and p.accuracy == 1.0


_CANCEL_NET = Network((Layer(np.array([[1.0, 0.0]] * 4 + [[0.0, 1.0]]), np.array([-1.0, 0.0]), Activation.IDENTITY),),
                      name="cancel")


def test_a_wide_bound_on_the_runner_up_alone_keeps_a_row_uncertified() -> None:
    """Exact y = (3 * 2^-54 - 2^-70, 3 * 2^-54): class 1 by 2^-70, far above B1 (y1 is one exact
    term, B1 ~ 1e-32) but far below B0 (y0 = 1 + 2^-53 + 2^-54 - 2^-70 - 1 cancels, B0 ~ 1e-16).
    nnverify's forward gives y0 = 0 (class 1); summing y0's small terms first gives 2^-52: class 0.

    Teeth: ``top > hi[j]`` without ``+ B[j]`` in ``_separated`` certifies it."""
    x = np.array([1.0, 2.0**-53, 2.0**-54, -(2.0**-70), 3 * 2.0**-54])
    W, b = _CANCEL_NET.layers[0].W, _CANCEL_NET.layers[0].b
    y = forward(_CANCEL_NET, x).y
    other = _in_order(x, W, [1, 2, 3, 0, 4]) + b  # the small terms first, the bias last
    assert int(np.argmax(y)) == 1 and int(np.argmax(other)) == 0 and other[0] == 2.0**-52
    p = predictions(check(_CANCEL_NET, x[None, :], progress=False), np.array([1]))
    row = p.rows[0]
    assert (row.predicted, row.exact_predicted, row.certified, row.flipped) == (1, 1, False, False)
    assert row.margin is not None and row.margin.lower == row.margin.upper == Fraction(2) ** -70


def test_an_exact_tie_is_neither_decided_certified_nor_flipped() -> None:
    """Exact y = (1/2, 1/2) and float y = (0.5, 0.5): no class is decided, nothing certified.

    Teeth: ``>=`` for ``>`` in ``_separated`` decides it; ``exact = k`` unconditionally too."""
    x = np.array([[0.5, 0.0, 0.0]])
    p = predictions(check(_TIE_NET, x, progress=False))
    row = p.rows[0]
    assert (row.predicted, row.exact_predicted, row.certified, row.flipped) == (0, None, False, False)
    assert row.margin is not None and row.margin.upper == 0
    assert p.smallest_margin is row


@pytest.fixture(scope="module")
def near_ties() -> tuple[Network, np.ndarray]:
    """A float32 2-4-3 sigmoid net and 48 inputs, most of them pushed onto the y1 = y2 boundary."""
    rng = np.random.default_rng(5)
    net = Network((Layer(rng.uniform(-2, 2, (2, 4)).astype(np.float32), rng.uniform(-1, 1, 4).astype(np.float32),
                         Activation.SIGMOID),
                   Layer(rng.uniform(-2, 2, (4, 3)).astype(np.float32), rng.uniform(-1, 1, 3).astype(np.float32),
                         Activation.IDENTITY)), name="near ties")
    rows = []
    for _ in range(48):
        a, b = rng.uniform(-3, 3, 2), rng.uniform(-3, 3, 2)
        lo, hi = 0.0, 1.0
        first = int(np.argmax(forward(net, a.astype(np.float32)).y))
        for _ in range(40):  # bisect to where the float forward's top class changes
            mid = (lo + hi) / 2
            yy = forward(net, ((1 - mid) * a + mid * b).astype(np.float32)).y
            lo, hi = (mid, hi) if int(np.argmax(yy)) == first else (lo, mid)
        rows.append(((1 - lo) * a + lo * b).astype(np.float32))
    return net, np.stack(rows)


def test_certified_rows_keep_their_class_under_every_correct_forward(near_ties: tuple[Network, np.ndarray]) -> None:
    """Every correct forward (matmul, einsum, pairwise, reversed, sorted both ways, float64
    accumulated) gives a certified row its exact class; on these near-ties some rows are not
    certified and correct forwards there do disagree (so the rule has work to do).

    Teeth: ``certified=sound`` in ``_one`` (no bounds) certifies rows the forwards disagree on."""
    net, x = near_ties
    p = predictions(check(net, x, progress=False))
    classes = np.stack([np.argmax(f(net, x), axis=1) for f in CORRECT.values()])
    disagree = np.any(classes != classes[0], axis=0)
    assert disagree.sum() >= 3
    for row in p.rows:
        if row.certified:
            assert np.all(classes[:, row.input] == row.exact_predicted), row
    assert p.n_certified >= 1 and not any(p.rows[i].certified for i in np.flatnonzero(disagree))


# -- 2. the laws' tolerances: exactly the sum of the two bounds, compared exactly -------------------------

class _Paths(ForwardUnderTest):
    """nnverify-like forward whose batch and one-row calls (or original and permuted networks)
    take different, each correct (or deliberately wrong), paths."""

    def __init__(self, batch: Fwd, single: Fwd, *, permuted: Fwd | None = None) -> None:
        super().__init__()
        self.batch, self.single, self.permuted = batch, single, permuted

    def run_many(self, cases: Sequence[tuple[Network, np.ndarray]]) -> list[np.ndarray]:
        out = []
        for net, x in cases:
            x = np.asarray(x, dtype=net.dtype)
            f = self.permuted if self.permuted is not None and "permuted" in net.name else (
                self.batch if x.ndim == 2 else self.single)
            y = np.asarray(f(net, x), dtype=net.dtype)
            out.append(y if x.ndim == 2 else y[0])
        return out


def _random_net(seed: int, dtype: type, widths: Sequence[int] = (6, 8, 7, 3)) -> Network:
    rng = np.random.default_rng(seed)
    layers = [Layer(rng.uniform(-2, 2, (m, n)).astype(dtype), rng.uniform(-2, 2, n).astype(dtype), act)
              for m, n, act in zip(widths[:-1], widths[1:], [Activation.TANH, Activation.SIGMOID, Activation.IDENTITY])]
    return Network(tuple(layers), name=f"random {seed}")


def _nudged(base: Fwd, r: int, k: int, value: float) -> Fwd:
    def f(net: Network, x: np.ndarray) -> np.ndarray:
        y = np.array(base(net, x))
        y[r, k] = value
        return y
    return f


def _edge(start: float, target: Fraction, dtype: type) -> tuple[float, float]:
    """The last float of ``dtype`` at or below ``target`` (exactly) and the next one above it."""
    v = dtype(float(target))
    while Fraction(float(v)) > target:
        v = np.nextafter(v, dtype(-np.inf))
    while Fraction(float(np.nextafter(v, dtype(np.inf)))) <= target:
        v = np.nextafter(v, dtype(np.inf))
    return float(v), float(np.nextafter(v, dtype(np.inf)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_consistency_allows_exactly_both_bounds_and_no_more(dtype: type) -> None:
    """A batch row may sit anywhere within 2B (B the row's sound bound) of its one-row value: at
    the last float within 2B the law holds, one float further it is broken.

    Teeth: ``allowance(B[r, k])`` (one bound) breaks the first; ``> 2 * allowed`` in
    ``check_within`` passes the second."""
    net = _random_net(1, dtype)
    X: np.ndarray = np.random.default_rng(2).uniform(-2, 2, (3, 6)).astype(dtype)
    B = output_bounds(net, X)
    r, k = 1, 2
    one = forward(net, X[r]).y[k]
    inside, outside = _edge(float(one), Fraction(float(one)) + 2 * Fraction(float(B[r, k])), dtype)
    base = CORRECT["matmul"]
    ok = SuiteConfig(net, _Paths(_nudged(base, r, k, inside), base))
    BatchConsistency().check(ok, (net, X), Recorder())
    bad = SuiteConfig(net, _Paths(_nudged(base, r, k, outside), base))
    with pytest.raises(LawBroken, match="a batch gives the rows"):
        BatchConsistency().check(bad, (net, X), Recorder())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("batch", "single"), [("sorted positive-first", "sorted negative-first"),
                                               ("float64-accumulated", "reversed"),
                                               ("matmul", "sorted negative-first")])
def test_batch_consistency_passes_correct_forwards_that_sum_batches_differently(
        dtype: type, batch: str, single: str) -> None:
    """Two correct summation orders, one for batches and one for single rows, on cancelling
    random weights: never broken, and the rows do differ (the law is not checking 0 = 0).

    Teeth: ``allowance`` returning ``Fraction(0)`` breaks it."""
    worst = 0.0
    for seed in range(3):
        net = _random_net(10 + seed, dtype)
        X: np.ndarray = np.random.default_rng(seed).uniform(-3, 3, (5, 6)).astype(dtype)
        rec = Recorder()
        BatchConsistency().check(SuiteConfig(net, _Paths(CORRECT[batch], CORRECT[single])), (net, X), rec)
        worst = max(worst, rec.worst_key)
    assert 0 < worst <= 1


def _bfloat16(v: np.ndarray) -> np.ndarray:
    m, e = np.frexp(v.astype(np.float64))
    return np.asarray(np.ldexp(np.round(m * 2.0**8), e - 8)).astype(v.dtype)


def test_batch_consistency_catches_a_batch_path_with_rounded_weights() -> None:
    """A batch path that rounds W to bfloat16 (a real mixed-precision bug) is broken.

    Teeth: ``check_within`` never raising passes it."""
    net = _random_net(3, np.float32)
    X: np.ndarray = np.random.default_rng(3).uniform(-3, 3, (4, 6)).astype(np.float32)
    ctx = SuiteConfig(net, _Paths(forward_with(lambda z, W, b: z @ W + b, weights=_bfloat16), CORRECT["matmul"]))
    with pytest.raises(LawBroken, match="a batch gives the rows"):
        BatchConsistency().check(ctx, (net, X), Recorder())


def test_hidden_permutation_passes_a_correct_forward_that_sums_the_permuted_net_in_another_order() -> None:
    """The permuted network summed right to left, the original sorted: never broken, rows differ.

    Teeth: ``allowance`` returning ``Fraction(0)`` breaks it."""
    worst = 0.0
    for seed in range(3):
        net = _random_net(20 + seed, np.float32)
        x = np.random.default_rng(seed).uniform(-3, 3, (4, 6)).astype(np.float32)
        ctx = SuiteConfig(net, _Paths(CORRECT["sorted positive-first"], CORRECT["sorted positive-first"],
                                      permuted=CORRECT["reversed"]))
        rec = Recorder()
        for layer, width in ((1, 8), (2, 7)):
            for perm in ([1, 0, *range(2, width)], list(range(width))[::-1]):
                HiddenPermutation().check(ctx, ((net, x), layer, perm), rec)
        worst = max(worst, rec.worst_key)
    assert 0 < worst <= 1


# -- sigmoid symmetry ---------------------------------------------------------------------------------

def _sig_naive_split(a: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(a))
        return np.asarray(np.where(a >= 0, 1 / (1 + e), e / (1 + e)), dtype=a.dtype)


def _sig_tanh(a: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1 + np.tanh(a / 2)), dtype=a.dtype)


def _sig_tanh_half(a: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 + 0.5 * np.tanh(a / 2), dtype=a.dtype)


def _sig_float64(a: np.ndarray) -> np.ndarray:
    return _sig_naive_split(a.astype(np.float64)).astype(a.dtype)


def _sig_one_minus(a: np.ndarray) -> np.ndarray:
    """sigma(a) for a >= 0, and 1 - sigma(|a|) (rounded) below: absolute error only."""
    s = _sig_naive_split(np.abs(a))
    return np.asarray(np.where(a >= 0, s, 1 - s), dtype=a.dtype)


_SIGMOIDS = {"split": _sig_naive_split, "tanh": _sig_tanh, "tanh-half": _sig_tanh_half, "float64": _sig_float64,
             "one-minus": _sig_one_minus}
_HARD_A = [0.0, 5e-324, 1e-300, 1e-8, 0.25, 0.5, 1.0, 3.0, 17.0, 18.5, 20.0, 30.0, 36.7, 37.0, 40.0, 88.0, 104.0,
           700.0, 745.0, 800.0]


@pytest.mark.parametrize("name", list(_SIGMOIDS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_symmetry_passes_every_correct_sigmoid_on_hard_points(name: str, dtype: type) -> None:
    """Five correct sigmoids (the README's three forms, float64 then rounded, and 1 - sigma(|a|)
    below 0) at points where 1 - s rounds, s underflows or saturates: never broken, not vacuous
    (except 1 - sigma(|a|), symmetric by construction, which tests monotonicity and the range).

    Teeth: ``allowance`` returning ``Fraction(0)`` breaks all but the symmetric one."""
    a: np.ndarray = np.array(_HARD_A, dtype=dtype)
    net = nnverify.book_network().astype(dtype)
    ctx = SuiteConfig(net, ForwardUnderTest(sigmoid=implementation(_SIGMOIDS[name], role="sigmoid")))
    rec = Recorder()
    SigmoidSymmetry().check(ctx, a, rec)
    assert 0 <= rec.worst_key <= 1 and (rec.worst_key > 0 or name == "one-minus")  # that one is symmetric


@pytest.mark.parametrize(("dtype", "a"), [(np.float64, 30.0), (np.float64, 0.75), (np.float32, 12.0)])
def test_sigmoid_symmetry_allows_exactly_both_bounds_with_1_minus_s_taken_exactly(dtype: type, a: float) -> None:
    """sigma(-a) answered with the last float within B(a) + B(-a) of the *exact* 1 - s(a) holds;
    the next float is broken. Below 1/2 s(-a) has bits 1 - s(-a) cannot hold (at a = 30 too).

    Teeth: ``allowance(B[i])`` breaks the first; ``(1 - s)`` rounded in the dtype before the
    exact difference (``exact_value(dt.type(1) - s[i])``) moves the edge (a = 0.75 and 12 fail)."""
    net = nnverify.book_network().astype(dtype)
    both: np.ndarray = np.array([-a, a], dtype=dtype)  # the law's concatenate([a, -a]) for example [-a]
    s_neg = _sig_naive_split(both)[0]
    B = output_bounds(activation_network(Activation.SIGMOID, 1, np.dtype(dtype)), both[:, None])[:, 0]
    target = (1 - Fraction(float(s_neg))) + Fraction(float(B[0])) + Fraction(float(B[1]))
    if a == 30.0:  # 1 - s(-30) is not a float: the law must take it exactly
        assert Fraction(float(dtype(1) - s_neg)) != 1 - Fraction(float(s_neg))
    inside, outside = _edge(0.0, target, dtype)

    def answer(v: float) -> Callable[[np.ndarray], np.ndarray]:
        def sig(x: np.ndarray) -> np.ndarray:
            s = _sig_naive_split(x)
            s[x == dtype(a)] = v
            return s
        return sig

    assert 0 < inside < outside < 1
    for v, broken in ((inside, False), (outside, True)):
        ctx = SuiteConfig(net, ForwardUnderTest(sigmoid=implementation(answer(v), role="sigmoid")))
        if broken:
            with pytest.raises(LawBroken, match=r"sigma\(-a\) = 1 - sigma\(a\) within bound"):
                SigmoidSymmetry().check(ctx, np.array([-a], dtype=dtype), Recorder())
        else:
            SigmoidSymmetry().check(ctx, np.array([-a], dtype=dtype), Recorder())


# -- softmax ------------------------------------------------------------------------------------------

def _sm_reciprocal(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - np.max(a, axis=-1, keepdims=True))
    return np.asarray(e * (1 / np.sum(e, axis=-1, keepdims=True)), dtype=a.dtype)


def _sm_float64(a: np.ndarray) -> np.ndarray:
    b = a.astype(np.float64)
    e = np.exp(b - np.max(b, axis=-1, keepdims=True))
    return np.asarray(e / np.sum(e, axis=-1, keepdims=True)).astype(a.dtype)


def _sm_sorted(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - np.max(a, axis=-1, keepdims=True))
    total = np.add.accumulate(np.sort(e, axis=-1)[..., ::-1], axis=-1)[..., -1:]  # largest first
    return np.asarray(e / total, dtype=a.dtype)


def _sm_einsum(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - np.max(a, axis=-1, keepdims=True))
    return np.asarray(e / np.einsum("...k->...", e)[..., None], dtype=a.dtype)


_SOFTMAXES = {"reciprocal": _sm_reciprocal, "float64": _sm_float64, "sorted": _sm_sorted, "einsum": _sm_einsum}


def _logit_cases(dtype: type) -> list[tuple[np.ndarray, int, bool]]:
    grid = 2.0**-6 if dtype is np.float32 else 2.0**-30
    rng = np.random.default_rng(4)
    out: list[tuple[np.ndarray, int, bool]] = []
    for spread, k in ((1.0, 6), (8.0, 5), (60.0, 4), (2.0**12, 6), (0.01, 3)):
        m = np.round(rng.uniform(-spread, spread, (3, k)) / grid) * grid
        out.append((m.astype(dtype), int(rng.integers(-1024, 1025)), False))
    out.append((np.array([[0.0, -grid, 2 * grid, -1.0, 1.0]], dtype=dtype), 1024, True))
    return out


@pytest.mark.parametrize("name", list(_SOFTMAXES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_laws_pass_every_correct_softmax(name: str, dtype: type) -> None:
    """Reciprocal-then-multiply, float64 then rounded, sorted sum, einsum: range, sum, order,
    row-wise and shift laws all hold, and the shift law is not vacuous (outputs move).

    Teeth: ``allowance`` returning ``Fraction(0)`` breaks it."""
    net = nnverify.book_network().astype(dtype)
    ctx = SuiteConfig(net, ForwardUnderTest(softmax=implementation(_SOFTMAXES[name], role="softmax")))
    rec = Recorder()
    for example in _logit_cases(dtype):
        SoftmaxLaws().check(ctx, example, rec)
    assert 0 < rec.worst_key <= 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_shift_allows_exactly_both_bounds(dtype: type) -> None:
    """softmax(a + c) answered with the last float within B(a) + B(a + c) of softmax(a) holds;
    the next float is broken (only the shifted call is nudged: the row-wise law never sees it).

    Teeth: ``allowance(B[r, i])`` (one bound) breaks the first; ``check_within`` never raising
    passes the second."""
    net = nnverify.book_network().astype(dtype)
    X: np.ndarray = np.array([[0.5, -1.25, 2.0]], dtype=dtype)
    c, i = 3, 0
    sm = activation_network(Activation.SOFTMAX, 3, np.dtype(dtype))
    s = _sm_einsum(X)
    B, B2 = output_bounds(sm, X), output_bounds(sm, X + dtype(c))
    target = Fraction(float(s[0, i])) + Fraction(float(B[0, i])) + Fraction(float(B2[0, i]))
    inside, outside = _edge(0.0, target, dtype)

    def answer(v: float) -> Callable[[np.ndarray], np.ndarray]:
        def softmax(a: np.ndarray) -> np.ndarray:
            out = _sm_einsum(a)
            if np.max(a) > 4:  # the shifted call only
                out[..., i] = v
            return out
        return softmax

    ok = SuiteConfig(net, ForwardUnderTest(softmax=implementation(answer(inside), role="softmax")))
    SoftmaxLaws().check(ok, (X, c, False), Recorder())
    bad = SuiteConfig(net, ForwardUnderTest(softmax=implementation(answer(outside), role="softmax")))
    with pytest.raises(LawBroken, match=r"softmax\(a \+ c\) = softmax\(a\) within bound"):
        SoftmaxLaws().check(bad, (X, c, False), Recorder())


def test_the_smallest_margin_line_names_the_exact_class_not_only_the_floats() -> None:
    """``cli/check.py``: "smallest exact margin ... (class c)" printed the float's class even on a
    flipped row, where the exact top-1 is another; it now names the exact class and the float's.

    Teeth: printing ``p.predicted`` alone fails the flipped case.
    """
    from nnverify.certified import Enclosure
    from nnverify.cli.check import _exact_class
    from nnverify.predictions import Prediction

    margin = Enclosure(0, Fraction(1, 2**60))
    same = Prediction(0, None, 3, 3, margin, True)
    flipped = Prediction(0, None, 0, 1, margin, False)
    undecided = Prediction(0, None, 2, None, margin, False)
    assert _exact_class(same) == "3"
    assert _exact_class(flipped) == "1; the float says 0"
    assert _exact_class(undecided) == "2 by the float; the exact top-1 is not decided"
