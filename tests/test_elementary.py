"""The vectorized elementary enclosures contain the exact values: checked against arb at 256 bits.

Containment is exact: the arb ball of the exact value must lie inside ``[lo, hi]`` entirely
(``arb(lo) <= v`` holds only when every point of ``v`` is ``>= lo``). Tightness is checked too,
so an enclosure like ``[0, inf]`` cannot pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from flint import arb, ctx

from nnverify.certified import elementary as el
from nnverify.certified import fpenv
from nnverify.certified.arrays import BallArray

ArbFn = Callable[[arb], arb]

LN2 = math.log(2)


def _arguments(seed: int = 0) -> np.ndarray:
    """Random and extreme float64 arguments: the range, subnormals, thresholds, cell edges."""
    rng = np.random.default_rng(seed)
    thresholds = (709.782712893384, -708.3964185322641, -745.1332191019411, -744.4400719213812,
                  745.1332191019411, 0.5, -0.5, 1.0, -1.0, 700.0, -700.0)
    near = [np.nextafter(c, np.inf * s) if False else c + d for c in thresholds
            for s in (1,) for d in np.linspace(-1e-9, 1e-9, 21)]
    step = LN2 / 256
    k = rng.integers(-300000, 300000, 600).astype(np.float64)
    edges = np.concatenate([(k + 0.5) * step, np.nextafter((k + 0.5) * step, np.inf),
                            np.nextafter((k + 0.5) * step, -np.inf), k * step])
    special = np.array([0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, -2.2250738585072014e-308,
                        1e-300, -1e-300, 1e-16, -1e-16, 2.0**-53, -(2.0**-53), 1e308, -1e308,
                        1100.0, -1100.0, 1101.0, -1101.0, 1e5, -1e5, 745.0, -745.0, 709.0, -709.0,
                        np.finfo(np.float64).max, -np.finfo(np.float64).max])
    tiny = np.sign(rng.standard_normal(1500)) * 10.0 ** rng.uniform(-323, 0, 1500)
    return np.concatenate([
        rng.uniform(-750, 750, 3000), rng.uniform(-1.2, 1.2, 2000), rng.standard_normal(1500) * 20,
        tiny, np.array(near), edges, special,
    ])


def _inside(xi: float, a: float, b: float, exact: ArbFn) -> bool | None:
    """Is ``exact(xi)`` inside ``[a, b]``? Raises the precision until arb decides (None: beyond arb)."""
    for prec in (256, 1024, 4096):
        with ctx.workprec(prec):
            v = exact(arb(xi))
            if not v.is_finite():
                return None
            lo_ok, hi_ok = arb(a) <= v, v <= arb(b)
            if lo_ok and hi_ok:
                return True
            if arb(a) > v or v > arb(b):
                return False
    raise AssertionError(f"arb cannot decide x={xi!r} against [{a!r}, {b!r}] at 4096 bits")


def _failures(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, exact: ArbFn,
              span: tuple[float, float] = (-math.inf, math.inf)) -> list[str]:
    """Every argument whose exact value is not inside ``[lo, hi]`` (empty when all are).

    Beyond ``|x| = 2000`` (where arb cannot evaluate exp(1e308), or cannot tell tanh(1e308)
    from 1 at 4096 bits) the increasing function is compared at ±2000 and with ``span``, its
    infimum and supremum: for ``x > 2000``, ``f(2000) <= f(x) <= sup``.
    """
    bad = []
    for xi, a, b in zip(x.tolist(), lo.tolist(), hi.tolist()):
        if xi > 2000:
            ok = bool(_inside(2000.0, a, math.inf, exact)) and b >= span[1]
        elif xi < -2000:
            ok = bool(_inside(-2000.0, -math.inf, b, exact)) and a <= span[0]
        else:
            ok = bool(_inside(xi, a, b, exact))
        if not ok:
            bad.append(f"x={xi!r}: [{a!r}, {b!r}] does not contain the exact value")
    return bad


def _arb_sigmoid(v: arb) -> arb:
    return 1 / (1 + (-v).exp())


Case = tuple[Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], ArbFn, float, tuple[float, float]]
CASES: dict[str, Case] = {
    # name: (bounds, exact, largest relative width for normal-range results, (inf, sup) of f)
    "exp": (el.exp_bounds, lambda v: v.exp(), 12 * 2.0**-53, (0.0, math.inf)),
    "expm1": (el.expm1_bounds, lambda v: v.expm1(), 20 * 2.0**-53, (-1.0, math.inf)),
    "sigmoid": (el.sigmoid_bounds, _arb_sigmoid, 20 * 2.0**-53, (0.0, 1.0)),
    "tanh": (el.tanh_bounds, lambda v: v.tanh(), 40 * 2.0**-53, (-1.0, 1.0)),
    "sigmoid (with its slope)": (lambda x: el.sigmoid_and_slope_bounds(x)[:2], _arb_sigmoid, 20 * 2.0**-53,
                                 (0.0, 1.0)),
}


def test_sigmoids_slope_is_enclosed_and_relatively_tight_in_both_tails() -> None:
    """sigma'(x) = sigma(x) sigma(-x): 1 - sigma(x) in floats is >= 2^-53, where sigma'(40) is 4e-18."""
    x = _arguments()
    _, _, d_lo, d_hi = el.sigmoid_and_slope_bounds(x)
    assert np.all(d_lo >= 0) and np.all(d_hi <= 0.25)
    near = np.abs(x) <= 2000  # beyond, arb cannot evaluate exp(-x); the slope is below 1e-800 there
    assert _failures(x[near], d_lo[near], d_hi[near], lambda v: _arb_sigmoid(v) * _arb_sigmoid(-v)) == []
    assert np.all(d_hi[~near & ~np.isnan(x)] <= 1e-322)  # a few subnormal steps above 0
    t = np.array([40.0, -40.0, 700.0, -700.0, 1.0, 0.0])
    _, _, lo, hi = el.sigmoid_and_slope_bounds(t)
    normal = hi > 1e-300
    assert np.all((hi[normal] - lo[normal]) / hi[normal] <= 40 * 2.0**-53)  # exp and 4 roundings


@pytest.mark.parametrize("name", list(CASES))
def test_enclosure_contains_the_exact_value_for_random_and_extreme_arguments(name: str) -> None:
    fn, exact, _, span = CASES[name]
    x = _arguments()
    lo, hi = fn(x)
    assert lo.shape == hi.shape == x.shape
    assert _failures(x, lo, hi, exact, span) == []


@pytest.mark.parametrize("name", list(CASES))
def test_enclosure_is_a_few_ulps_wide_wherever_the_result_is_a_normal_float(name: str) -> None:
    fn, _, width, _ = CASES[name]
    x = _arguments(1)
    lo, hi = fn(x)
    mid = np.abs(0.5 * lo + 0.5 * hi)
    normal = np.isfinite(hi) & (mid > 1e-300) & (mid < 1e300)
    rel = (hi[normal] - lo[normal]) / mid[normal]
    assert rel.max() <= width, x[normal][np.argmax(rel)]


def test_the_containment_check_catches_an_enclosure_that_trusts_libm() -> None:
    # the check above can fail: libm's exp as both ends is not an enclosure
    x = _arguments()[:3000]
    with np.errstate(over="ignore"):
        y = np.exp(x)
    assert len(_failures(x, y, y, lambda v: v.exp())) > 100
    # nor is the enclosure of exp shrunk by one ulp on one side
    lo, hi = el.exp_bounds(x)
    ok = np.isfinite(hi) & (lo > 0)
    x, lo, hi = x[ok], lo[ok], hi[ok]
    assert _failures(x, (lo + hi) / 2, hi, lambda v: v.exp()) and _failures(x, lo, (lo + hi) / 2, lambda v: v.exp())


@pytest.mark.parametrize(("x", "lo", "hi"), [
    (0.0, 1.0, 1.0), (-0.0, 1.0, 1.0), (709.79, np.finfo(np.float64).max, np.inf),
    (1e300, np.finfo(np.float64).max, np.inf), (-1e300, 0.0, 5e-324), (-800.0, 0.0, 5e-324),
])
def test_exp_at_the_ends_of_the_range(x: float, lo: float, hi: float) -> None:
    a, b = el.exp_bounds(np.array([x]))
    assert (a[0], b[0]) == (lo, hi)


def test_exp_with_a_subnormal_result_gets_an_absolute_term_and_still_encloses() -> None:
    x = np.linspace(-745.0, -708.5, 2001)
    lo, hi = el.exp_bounds(x)
    assert np.all(hi > 0) and np.all(lo >= 0)
    assert np.all(hi - lo <= 4 * 5e-324 + 12 * 2.0**-53 * hi)
    assert _failures(x, lo, hi, lambda v: v.exp()) == []


def test_nan_gives_the_whole_range_of_each_function() -> None:
    nan = np.array([np.nan])
    assert [float(v[0]) for v in el.exp_bounds(nan)] == [0.0, np.inf]
    assert [float(v[0]) for v in el.sigmoid_bounds(nan)] == [0.0, 1.0]
    assert [float(v[0]) for v in el.tanh_bounds(nan)] == [-1.0, 1.0]


def test_tanh_and_sigmoid_stay_in_their_ranges_and_are_exact_at_zero() -> None:
    x = np.array([-1e308, -40.0, -1e-320, 0.0, 1e-320, 19.0, 40.0, 1e308])
    for fn, low, high in ((el.tanh_bounds, -1.0, 1.0), (el.sigmoid_bounds, 0.0, 1.0)):
        lo, hi = fn(x)
        assert np.all(lo >= low) and np.all(hi <= high) and np.all(lo <= hi)
    assert [float(v[3]) for v in el.tanh_bounds(x)] == [0.0, 0.0]
    assert [float(v[3]) for v in el.sigmoid_bounds(x)] == [0.5, 0.5]


def _softmax_exact(row: list[float]) -> list[arb]:
    a = [arb(v) for v in row]
    m = max(row)
    e = [(v - m).exp() for v in a]
    s = sum(e[1:], e[0])
    return [t / s for t in e]


def _softmax_at(row: list[float], k: int) -> ArbFn:
    return lambda _: _softmax_exact(row)[k]


def test_softmax_box_encloses_softmax_at_every_corner_and_inside() -> None:
    rng = np.random.default_rng(5)
    N, K = 60, 7
    mid = rng.standard_normal((N, K)) * rng.choice([0.1, 3.0, 30.0, 300.0], (N, 1))
    rad = np.abs(rng.standard_normal((N, K))) * rng.choice([0.0, 1e-12, 1e-3, 1.0], (N, 1))
    lo, hi = mid - rad, mid + rad
    y_lo, y_hi = el.softmax_bounds(lo, hi)
    assert np.all((0 <= y_lo) & (y_lo <= y_hi) & (y_hi <= 1))
    for n in range(N):
        for point in (lo[n], hi[n], mid[n], np.where(rng.random(K) < 0.5, lo[n], hi[n])):
            row = point.tolist()
            for k in range(K):
                assert _inside(0.0, float(y_lo[n, k]), float(y_hi[n, k]), _softmax_at(row, k)), (n, k)


def test_softmax_of_a_point_is_a_few_ulps_wide_and_huge_logits_do_not_break_it() -> None:
    a = np.array([[0.0, 1.0, 2.0], [1000.0, -1000.0, 0.0], [3e5, 3e5, 3e5]])
    y_lo, y_hi = el.softmax_bounds(a, a)
    assert np.all(y_hi - y_lo <= 64 * 2.0**-53 * y_hi + 1e-300)  # e^-2000 is enclosed as [0, 5.6e-309]
    assert y_hi[1, 1] <= 1e-300 and y_lo[1, 0] >= 1 - 1e-15
    np.testing.assert_array_less(np.abs(y_lo[2] - 1 / 3), 1e-15)


def test_ball_functions_enclose_every_point_of_the_ball() -> None:
    rng = np.random.default_rng(9)
    mid = rng.standard_normal(400) * 5
    rad = np.abs(rng.standard_normal(400)) * rng.choice([0.0, 1e-15, 1e-6, 0.5], 400)
    ball = BallArray(mid, rad)
    with ctx.workprec(256):
        for fn, exact in ((el.exp_ball, lambda v: v.exp()), (el.sigmoid_ball, _arb_sigmoid),
                          (el.tanh_ball, lambda v: v.tanh())):
            out = fn(ball)
            for i in range(len(mid)):
                out_ball = arb(float(out.mid[i]), float(out.rad[i]))
                for point in (arb(float(mid[i])) - arb(float(rad[i])), arb(float(mid[i])),
                              arb(float(mid[i])) + arb(float(rad[i]))):
                    assert exact(point) in out_ball, (fn.__name__, i)
    s = el.softmax_ball(BallArray(mid[:40].reshape(8, 5), rad[:40].reshape(8, 5)))
    assert s.shape == (8, 5) and np.all(s.upper() <= 1.0 + 1e-15)


def test_ball_from_bounds_covers_the_interval_and_infinite_ends() -> None:
    lo = np.array([0.1, -3.0, 1.0, 5e-324])
    hi = np.array([0.3, 2.0, np.inf, 1e-323])
    b = el.ball_from_bounds(lo, hi)
    assert np.all(b.lower() <= lo) and np.all(b.upper()[[0, 1, 3]] >= hi[[0, 1, 3]])
    assert np.isinf(b.rad[2])


def test_error_constants_are_near_their_derivation() -> None:
    assert 1.0 < el.EXP_EPS / 2.0**-53 < 1.1  # about u for the final rounding, plus the rest
    assert 1.0 < el.EXPM1_EPS / 2.0**-53 < 8


# ---------------------------------------------------------------------------------------------
# The float environment probe


def _round_up_add(a: float, b: float) -> float:
    from fractions import Fraction

    s = a + b
    return math.nextafter(s, math.inf) if Fraction(s) < Fraction(a) + Fraction(b) else s


def _ftz_mul(a: float, b: float) -> float:
    p = a * b
    return 0.0 if abs(p) < 2.0**-1022 else p


def test_probe_passes_on_this_machine() -> None:
    el.check_float_environment()
    assert fpenv._numpy_probe() is None


@pytest.mark.parametrize(("add", "mul", "word"), [
    (_round_up_add, lambda a, b: a * b, "rounds"),
    (lambda a, b: a + b, _ftz_mul, "flush-to-zero"),
    (lambda a, b: a + b if abs(a) >= 2.0**-1022 else 0.0 * b, lambda a, b: a * b, "subnormal"),
])
def test_probe_names_a_broken_arithmetic(add, mul, word) -> None:  # type: ignore[no-untyped-def]
    bad = fpenv.probe_arithmetic(add, mul, lambda a, b: a / b, lambda a, b: mul(a, b))
    assert bad is not None and word in bad


def test_a_broken_environment_raises_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fpenv, "_numpy_probe", lambda: "NumPy arrays: keeps subnormal results (no flush-to-zero)")
    with pytest.raises(el.FloatEnvironmentError, match="flush-to-zero.*-ffast-math"):
        el.check_float_environment()
