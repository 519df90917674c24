"""Claims audit: the verdicts (ok / suspicious / failed / undecided) and every printed number of a check.

The rules under test: ``ok`` only when every point of the enclosure is within the bound of the
float; ``failed`` only when the nearest point is beyond the sound bound; ``suspicious`` beyond
the probabilistic bound only; ``undecided`` otherwise (escalated to arb, never passed). And "a
printed digit is a certified digit": the exact values and the errors (ulp, absolute, relative)
that ``nnverify check`` prints are correctly rounded for every point the enclosure allows, or
labelled as a bound / an interval.

The references here are independent of the code under test: exact rationals (``Fraction``) for
dyadic cases, and arb at 256 bits (far tighter than anything printed) for the network outputs.
The problems these found (an unjustified ``ok`` with a tolerance next to a power of two, errors
printed from lower bounds: 0 for a refined row, digits of a float64 ball's distance, 0 for an
undecided output, a JSON maximum below a value it summarises) are fixed; their tests check it.
"""

from __future__ import annotations

import json
import math
import re
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from flint import arb
from hypothesis import given, settings
from hypothesis import strategies as st

from nnverify import compare
from nnverify.bounds import ulp_of
from nnverify.certified import Enclosure, certify
from nnverify.certified.ddouble import DD
from nnverify.cli import main
from nnverify.model import Activation, Layer, Network
from nnverify.modes import Mode
from nnverify.numeric import forward
from nnverify.results import CheckReport, ResultTable
from nnverify.status import Verdict
from nnverify.verdicts import (
    FAILED,
    OK,
    SUSPICIOUS,
    UNDECIDED,
    array_verdicts,
    ball_verdict,
    exact_verdict,
    ulp_array,
)
from nnverify.weights import BOOK_X, book_network, load_network

F = Fraction
F64 = np.dtype(np.float64)
F32 = np.dtype(np.float32)
VERDICT_WORDS = ("ok", "suspicious", "failed", "undecided")
CODE = {"ok": OK, "suspicious": SUSPICIOUS, "failed": FAILED, "undecided": UNDECIDED}


# ----------------------------------------------------------------------------------------------
# helpers


def _force(monkeypatch: pytest.MonkeyPatch, fast: bool) -> None:
    """Force the fast route (array verdicts, arb where undecided) or arb alone."""
    work = 0 if fast else 10**30
    monkeypatch.setattr(compare, "FAST_MIN_WORK", {"float32": work, "float64": work})


def _point(q: float) -> Enclosure:
    return Enclosure.from_ball(arb(q))


def _deciders(exact: float, value: float, sound: float, prob: float, tol: float = 0.0,
              rad: float = 0.0, tier: str = "status") -> tuple[str | None, str, int]:
    """The verdicts of ball_verdict (None: it defers), exact_verdict and array_verdicts on one output
    whose exact value is ``exact`` (a float64) enclosed with radius ``rad``; ``tier`` picks both
    tiers' verdict (``status``) or one tier's (``sound_status``, ``prob_status``)."""
    ball = arb(exact) if rad == 0 else arb(exact) + arb(0, rad)
    enc = Enclosure.from_ball(ball)
    b = ball_verdict(0, 0, enc, ball, 128, value, sound, prob, F(tol), F64)
    e = exact_verdict(0, 0, enc, value, sound, prob, F(tol), F64)
    y = DD(np.array([[exact]]), np.zeros((1, 1)), np.array([[rad]]))
    a = array_verdicts(y, np.array([[value]]), np.array([[sound]]), np.array([[prob]]), tol, F64,
                       Activation.IDENTITY)
    return (None if b is None else str(getattr(b, tier))), str(getattr(e, tier)), int(getattr(a, tier)[0, 0])


def _true_errors(network: Network, x: np.ndarray, y: np.ndarray) -> list[list[tuple[Fraction, Fraction]]]:
    """Per output, ``[near, far]`` of ``|y - exact|`` in ulps of the dtype at the exact value, from
    arb at 256 bits (radius ~2^-256 relative: the interval is a point for 3 printed digits)."""
    cert = certify(network, x, prec=256, route="matrix")
    out = []
    for i, row in enumerate(cert.y):
        errs = []
        for k, enc in enumerate(row):
            v = F(float(y[i, k]))
            unit = ulp_of(enc.mid, network.dtype)
            near = max(enc.lower - v, v - enc.upper, F(0))
            far = max(abs(v - enc.lower), abs(v - enc.upper))
            errs.append((near / unit, far / unit))
        out.append(errs)
    return out


def _round_sig(q: Fraction, digits: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        d = Decimal(q.numerator) / Decimal(q.denominator)
        if d == 0:
            return d
        ctx.prec, ctx.rounding = digits, ROUND_HALF_EVEN
        return +d


_NUMBER = r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?"


def honest_error(text: str, lo: Fraction, hi: Fraction, digits: int = 3) -> bool:
    """Is the printed error ``text`` honest for a true error somewhere in ``[lo, hi]``?

    Accepted: a plain number that every point of ``[lo, hi]`` rounds to at ``digits`` significant
    digits (the CLI prints ``.3g``); an interval ``[a, b]`` holding ``[lo, hi]``; an upper bound
    ``<= b`` / ``≤ b`` with ``b >= hi``; a lower bound ``>= a`` / ``≥ a`` with ``a <= lo``.
    """
    t = text.strip()
    m = re.fullmatch(rf"\[({_NUMBER}), ({_NUMBER})\]", t)
    if m:
        return F(m.group(1)) <= lo and hi <= F(m.group(2))
    m = re.fullmatch(rf"(?:<=|≤)\s*({_NUMBER})", t)
    if m:
        return hi <= F(m.group(1))
    m = re.fullmatch(rf"(?:>=|≥)\s*({_NUMBER})", t)
    if m:
        return F(m.group(1)) <= lo
    if not re.fullmatch(_NUMBER, t):
        return False
    shown = Decimal(t)
    return _round_sig(lo, digits) == shown and _round_sig(hi, digits) == shown


_ROW = re.compile(r"^\s+y(\d+)\s+exact (\S+) \(± (\S+)\)\s+\w+ (\S+)\s+error (.+?) ulp\s+bound (\S+) ulp")


def _rows(out: str) -> list[tuple[int, str, str, str, str]]:
    """(k, exact text, radius text, value text, error text) of every listed output row."""
    rows = []
    for line in out.splitlines():
        m = _ROW.match(line)
        if m:
            rows.append((int(m.group(1)), m.group(2), m.group(3), m.group(4), m.group(5)))
    return rows


def _decimal_parts(text: str) -> tuple[Fraction, Fraction, int]:
    """(value, half a unit of the last printed place, last digit) of a plain decimal text."""
    m = re.fullmatch(r"(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?", text)
    assert m, text
    sign, whole, frac, exp = m.groups()
    frac = frac or ""
    e = int(exp or 0) - len(frac)
    mant = int(whole + frac)
    value = F(mant) * F(10) ** e
    return (-value if sign else value), F(10) ** e / 2, mant % 10


def certified_text(text: str, lo: Fraction, hi: Fraction) -> bool:
    """Is ``text`` (Enclosure.digits) certified by ``[lo, hi]``: every point rounds to it (half
    even at a tie), or it is an interval that holds ``[lo, hi]``?"""
    if text.startswith("["):
        a, b = text.strip("[]").split(", ")
        return _decimal_parts(a)[0] <= lo and hi <= _decimal_parts(b)[0]
    value, half, last = _decimal_parts(text)
    if lo == hi == value:
        return True
    if not (value - half <= lo and hi <= value + half):
        return False
    tie_ok = last % 2 == 0
    return (lo != value - half or tie_ok) and (hi != value + half or tie_ok)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, _ = capsys.readouterr()
    return code, out


# ----------------------------------------------------------------------------------------------
# the verdict rules, decider by decider


def test_an_error_exactly_at_its_bound_is_ok_and_one_float_beyond_is_failed_in_every_decider() -> None:
    """exact = 0.75 + 2^-50 (a point), value 0.75: the error is exactly 2^-50.

    Bound = 2^-50: ball and exact rationals say ok; the array decider may only say ok or undecided
    (its distances carry slack). Bound one float below: failed, the array failed or undecided.
    Teeth: ``far <= total`` -> ``far < total`` in ``_tiers`` fails the first; ``near > total`` ->
    ``near >= total`` fails the second in the other direction (bound = error must not be failed).
    """
    exact, value, err = 0.75 + 2.0**-50, 0.75, 2.0**-50
    below = math.nextafter(err, 0.0)
    b, e, a = _deciders(exact, value, err, err)
    assert (b, e) == ("ok", "ok") and a in (OK, UNDECIDED)
    b, e, a = _deciders(exact, value, below, below)
    assert b in (None, "failed") and e == "failed" and a in (FAILED, UNDECIDED)
    # the probabilistic tier on its own at its boundary: suspicious only strictly beyond it
    b, e, a = _deciders(exact, value, 2 * err, err)
    assert (b, e) == ("ok", "ok") and a in (OK, UNDECIDED)
    b, e, a = _deciders(exact, value, 2 * err, below)
    assert b in (None, "suspicious") and e == "suspicious" and a in (SUSPICIOUS, UNDECIDED)


@pytest.mark.parametrize("fast", [True, False], ids=["fast-route", "arb-route"])
def test_the_whole_check_decides_an_error_equal_to_its_bound_ok_and_one_float_more_failed(
        fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through check_outputs with the bound fixed at exactly the error (error_bounds replaced): the
    fast route cannot decide it (slack), escalates to arb, and arb decides it exactly.

    Teeth: ``far <= total`` -> ``far < total`` in ``_tiers`` (ok becomes failed/undecided); dropping
    the escalation (``pending = []`` after the fast arrays) leaves it undecided on the fast route.
    """
    _force(monkeypatch, fast)
    net = Network((Layer(np.array([[0.75], [2.0**-50]]), np.array([0.0]), Activation.IDENTITY),))
    x = np.array([[1.0, 1.0]])
    for bound, want in ((2.0**-50, "ok"), (math.nextafter(2.0**-50, 0.0), "failed")):
        def fake(network: Network, bp: Any, model: Any, *, confidence: float, b: float = bound) -> Any:
            shape = bp.z[-1].mid.shape
            return SimpleNamespace(sound=np.full(shape, b), probabilistic=np.full(shape, b))

        monkeypatch.setattr(compare, "error_bounds", fake)
        r = compare.check_outputs(net, x, np.array([[0.75]]), progress=False)
        res = r.results[0]
        assert (res.status, res.sound_status) == (want, want)
        assert res.ulp == 8.0 and res.abs_error == 2.0**-50  # exactly 2^-50 / 2^-53, a point enclosure
        assert r.fast_rows == 0  # the fast route (if taken) deferred to arb: its slack cannot decide a tie


def test_an_enclosure_wider_than_its_bound_is_undecided_never_ok_or_failed() -> None:
    """The value inside a ball of radius 10 ulps with a 1-ulp bound; and the value 5 ulps off a ball of
    radius 10 ulps (near 0, far 15) with a 6-ulp bound; the value inside with a bound of 0; the nearest
    point exactly at the bound: every decider says undecided (ball: defers).

    Teeth: deciding ``ok`` on ``near`` instead of ``far`` (in ``_tiers`` or ``_tier``) fails;
    ``near > total`` -> ``near >= total`` in ``_tiers`` or in ``_tier`` fails the last two.
    """
    u = 2.0**-52
    cases = [(1.0, u, 10 * u), (1.0 + 5 * u, 6 * u, 10 * u), (1.0, 0.0, 10 * u),
             (1.0 + 3 * u, 2 * u, u)]  # the last: the nearest point exactly at the bound (near 2u < far 4u)
    for value, sound, rad in cases:
        for tier in ("status", "sound_status", "prob_status"):
            # the other tier's bound is wide open, so each tier is seen on its own
            other = 1.0 if tier != "status" else sound
            s_b, p_b = (sound, other) if tier == "sound_status" else (max(other, sound), sound)
            b, e, a = _deciders(1.0, value, s_b, p_b, rad=rad, tier=tier)
            assert e == "undecided" and a == UNDECIDED, (value, tier, b, e, a)
            assert b is None


def test_a_max_prec_that_is_not_a_doubling_is_never_exceeded_and_stays_undecided() -> None:
    """prec 16, max_prec 31: 32 bits would exceed the cap, so the book network stays at 16 bits,
    undecided (never ok), and says so.

    Teeth: the loop's ``cur * 2 > max_prec`` -> ``cur > max_prec`` runs 32 bits (max_prec_used 32).
    """
    net = book_network()
    y = forward(net, BOOK_X).y
    r = compare.check_outputs(net, BOOK_X, y, prec=16, max_prec=31, progress=False)
    assert r.max_prec_used <= 31 and r.counts()["ok"] == 0 and r.counts()["undecided"] == 2
    assert not r.ok and not r.sound_ok


def test_the_probabilistic_tier_is_decided_apart_from_the_sound_one_and_its_doubt_escalates() -> None:
    """Exact 1 (a point, ulp 2^-52), value 4 ulps above.

    sound 10, prob 2 ulps: suspicious (sound ok); sound 3, prob 2: failed / suspicious; a ball of
    radius 1 ulp with prob 4 ulps (near 3, far 5): the probabilistic tier cannot tell -> status
    undecided and the row is sent to arb, though the sound tier is ok.
    Teeth: ``status = sound_s`` (ignoring the probabilistic tier) fails the first and the third;
    ``undecided_rows`` on ``sound_status`` only fails the third.
    """
    u = 2.0**-52
    v = np.array([[1.0 + 4 * u]])

    def arr(sound: float, prob: float, rad: float = 0.0) -> Any:
        y = DD(np.array([[1.0]]), np.zeros((1, 1)), np.array([[rad]]))
        return array_verdicts(y, v, np.array([[sound]]), np.array([[prob]]), 0.0, F64, Activation.IDENTITY)

    a = arr(10 * u, 2 * u)
    assert (int(a.status[0, 0]), int(a.sound_status[0, 0]), int(a.prob_status[0, 0])) == (SUSPICIOUS, OK, SUSPICIOUS)
    a = arr(3 * u, 2 * u)
    assert (int(a.status[0, 0]), int(a.sound_status[0, 0]), int(a.prob_status[0, 0])) == (FAILED, FAILED, SUSPICIOUS)
    a = arr(10 * u, 4 * u, rad=u)
    assert (int(a.status[0, 0]), int(a.sound_status[0, 0]), int(a.prob_status[0, 0])) == (UNDECIDED, OK, UNDECIDED)
    assert list(a.undecided_rows()) == [0]
    e = exact_verdict(0, 0, Enclosure.from_ball(arb(1.0) + arb(0, u)), float(v[0, 0]), 10 * u, 4 * u, F(0), F64)
    assert (e.status, e.sound_status, e.prob_status) == ("undecided", "ok", "undecided")


def test_nan_and_infinite_outputs_fail_unless_a_correct_computation_may_overflow() -> None:
    """NaN is never right; +inf for an exact 1.0 is failed; +inf for an exact value within the bound
    of the overflow threshold is undecided (a correct computation may overflow): in both deciders.

    Teeth: ``reach >= t`` -> ``reach > 0`` in ``_infinite_verdict`` makes the +inf-at-1.0 undecided;
    dropping ``may_overflow`` in ``array_verdicts`` fails the big case.
    """
    big = float(np.finfo(np.float64).max)
    bound = 2.0**971  # one ulp of the largest float: max + bound reaches the threshold
    for exact, value, sound, want in ((1.0, math.nan, 1e-15, "failed"), (1.0, math.inf, 1e-15, "failed"),
                                      (1.0, -math.inf, 1e-15, "failed"), (big, math.inf, bound, "undecided")):
        e = exact_verdict(0, 0, _point(exact), value, sound, sound, F(0), F64)
        assert e.status == want and e.abs_error == math.inf and e.ulp == math.inf, (exact, value, e)
        y = DD(np.array([[exact]]), np.zeros((1, 1)), np.zeros((1, 1)))
        a = array_verdicts(y, np.array([[value]]), np.array([[sound]]), np.array([[sound]]), 0.0, F64,
                           Activation.IDENTITY)
        assert int(a.status[0, 0]) in (CODE[want], UNDECIDED) and int(a.status[0, 0]) != OK
        if want == "failed":
            assert int(a.status[0, 0]) == FAILED and a.abs_error[0, 0] == math.inf


def test_an_exact_zero_and_subnormal_outputs_get_exact_ulps_and_relative_errors() -> None:
    """Exact 0 (a point): value 0 -> error 0, rel 0; value 3 * 2^-1074 -> 3 ulps (the subnormal spacing),
    rel inf — in all three deciders. Exact 2^-1070 (subnormal), value 2^-1070 + 2^-1074: 1 ulp, rel 2^-4.

    Teeth: ``ulp_of`` / ``ulp_array`` without the ``emin`` floor (ulp 2^-1123 at 2^-1070) fails.
    """
    tiny = 2.0**-1074
    for exact, value, ulps, rel in ((0.0, 0.0, 0.0, 0.0), (0.0, 3 * tiny, 3.0, math.inf),
                                    (2.0**-1070, 2.0**-1070 + tiny, 1.0, 2.0**-4)):
        enc = _point(exact)
        e = exact_verdict(0, 0, enc, value, 1.0, 1.0, F(0), F64)
        b = ball_verdict(0, 0, enc, arb(exact), 128, value, 1.0, 1.0, F(0), F64)
        y = DD(np.array([[exact]]), np.zeros((1, 1)), np.zeros((1, 1)))
        a = array_verdicts(y, np.array([[value]]), np.ones((1, 1)), np.ones((1, 1)), 0.0, F64, Activation.IDENTITY)
        assert b is not None
        assert (e.ulp, e.rel_error) == (ulps, rel) and (b.ulp, b.rel_error) == (ulps, rel), (exact, e, b)
        assert a.ulp[0, 0] <= ulps and a.abs_error[0, 0] <= F(value) - F(exact)  # lower bounds (coarse here)
        assert int(a.status[0, 0]) == OK and (e.status, b.status) == ("ok", "ok")


def test_ulp_array_is_ulp_of_the_midpoint_at_binade_edges_and_in_the_subnormals() -> None:
    """Every power-of-two edge (both signs, with lo pulling the midpoint just below or above it), in
    the float32 and float64 subnormal ranges, near their overflow, and at 0.

    Teeth: dropping the ``below`` correction fails at every edge with a negative ``lo``; dropping
    ``np.maximum(e, emin)`` fails in the subnormals.
    """
    his, los = [], []
    for e in [*range(-1078, -1015), *range(-155, -120), -60, -1, 0, 1, 52, 127, 128, 1000, 1022]:
        for m in (1.0, 1.5, 2 - 2.0**-52):
            for frac in (0.0, 2.0**-53, -(2.0**-53), 2.0**-60, -(2.0**-60)):
                for s in (1.0, -1.0):
                    hi = s * math.ldexp(m, e)
                    lo = hi * frac
                    if hi == 0 or hi + lo != hi:  # keep |lo| <= u |hi| with hi the rounded sum
                        continue
                    his.append(hi)
                    los.append(lo)
    his.append(0.0)
    los.append(0.0)
    hi_a, lo_a = np.array(his), np.array(los)
    for dt in (F32, F64):
        got = ulp_array(hi_a, lo_a, dt)
        for h, lo, g in zip(his, los, got):
            assert F(float(g)) == ulp_of(F(h) + F(lo), dt), (dt, h, lo, g)


@pytest.mark.parametrize("fast", [True, False], ids=["fast-route", "arb-route"])
def test_a_float32_exact_value_at_a_midpoint_makes_both_neighbours_half_an_ulp(
        fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """float32 identity: 1 * 1 + 2^-24 * 1 = 1 + 2^-24, the midpoint of 1 and 1 + 2^-23. Both
    neighbours are 0.5 ulp away (ulp 2^-23) and ok; 1 + 2^-22 is 1.5 ulp away.

    Teeth: ``ulp_of`` at float64's precision for a float32 network (ulp 2^-52) gives 2^28 ulps.
    """
    _force(monkeypatch, fast)
    net = Network((Layer(np.array([[1.0], [2.0**-24]], dtype=np.float32), np.array([0.0], dtype=np.float32),
                         Activation.IDENTITY),))
    x = np.ones((3, 2), dtype=np.float32)
    y = np.array([[1.0], [1 + 2.0**-23], [1 + 2.0**-22]], dtype=np.float32)
    r = compare.check_outputs(net, x, y, progress=False)
    want = (0.5, 0.5, 1.5)
    for res, w in zip(r.results, want):
        assert res.status == "ok"
        assert w * (1 - 1e-7) <= res.ulp <= w, (res.ulp, w)  # the fast route's distance: a lower bound
        if not fast:
            assert res.ulp == w


def test_tolerance_on_the_fast_path_sends_a_ball_across_a_power_of_two_to_arb() -> None:
    """DD 0.5 - 2^-200 (just below a power of two): its ulp is 2^-54. With a tolerance, the array
    decider must not pick a unit (the ball's two sides differ): undecided. Without one it decides,
    and its error in ulps is in the exact value's ulps (9, not 4.5).

    Teeth: dropping the ``spans`` line in ``array_verdicts`` decides the tolerance case.
    """
    y = DD(np.array([[0.5]]), np.array([[-(2.0**-200)]]), np.zeros((1, 1)))
    v = np.array([[0.5 - 9 * 2.0**-54]])
    sound = np.array([[3 * 2.0**-54]])
    assert ulp_array(y.hi, y.lo, F64)[0, 0] == 2.0**-54
    a = array_verdicts(y, v, sound, sound, 4.0, F64, Activation.IDENTITY)
    assert int(a.status[0, 0]) == UNDECIDED
    a = array_verdicts(y, v, sound, sound, 0.0, F64, Activation.IDENTITY)
    assert int(a.status[0, 0]) == FAILED and 9 * (1 - 1e-15) <= a.ulp[0, 0] <= 9


_POW2_NET = Network((Layer(np.array([[0.5], [-(2.0**-200)]]), np.array([0.0]), Activation.IDENTITY),))


@pytest.mark.parametrize("fast", [True, False], ids=["fast-route", "arb-route"])
def test_the_tolerance_is_in_ulps_of_the_exact_value_even_next_to_a_power_of_two(
        fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """exact y = 0.5 - 2^-200 (ulp 2^-54), sound bound 3 ulps, --tolerance-ulp 4, value 9 ulps below.

    Honest: failed (9 > 7), or undecided then escalated (256 bits enclose 0.5 - 2^-200 on one side).
    Teeth: reverting to ``ulp_of(exact.mid)`` for a ball across 0.5 fails it.
    """
    _force(monkeypatch, fast)
    x = np.array([[1.0, 1.0]])
    v = 0.5 - 9 * 2.0**-54
    base = compare.check_outputs(_POW2_NET, x, np.array([[0.5]]), progress=False).results[0]
    assert F(base.bound_abs) < F(7, 2**54)  # the honest total with 4 ulps stays below the 9-ulp error
    r = compare.check_outputs(_POW2_NET, x, np.array([[v]]), tolerance_ulp=4, progress=False).results[0]
    assert r.status != "ok", (r.status, r.ulp, r.bound_ulp)


def test_an_error_next_to_a_power_of_two_is_printed_in_ulps_of_the_exact_value(
        capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    """``nnverify check --weights pow2.json --x 1,1 --impl impl.py:forward`` (forward returns 0.5 - 9 * 2^-54).

    Teeth: the printed error must read 9 ulp (a point: correctly rounded).
    """
    w = tmp_path / "pow2.json"
    w.write_text(json.dumps({"dtype": "float64", "layers": [
        {"W": [[0.5], [-(2.0**-200)]], "b": [0.0], "activation": "identity"}]}))
    impl = tmp_path / "impl9.py"
    impl.write_text("import numpy as np\n\ndef forward(network, x):\n    return np.array([0.5 - 9 * 2.0**-54])\n")
    code, out = _cli(capsys, "check", "--weights", str(w), "--x", "1,1", "--impl", f"{impl}:forward")
    (row,) = _rows(out)
    assert code == 1 and honest_error(row[4], F(9), F(9)), row


_RELU_ZERO = Network((Layer(np.array([[1.0], [-1.0]]), np.array([0.0]), Activation.RELU),))  # relu(1 - 1) = 0 exactly


def test_the_relative_error_against_an_exact_zero_is_infinite_on_the_fast_route(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """check_outputs(relu net with exact output 0, y = 1e-300) on the fast route, then to_json().

    Teeth: any finite rel_error beside an exact "0" fails.
    """
    _force(monkeypatch, True)
    r = compare.check_outputs(_RELU_ZERO, np.array([[1.0, 1.0]]), np.array([[1e-300]]), progress=False)
    doc = r.to_json()["results"][0]
    assert doc["exact"] == "0" and doc["radius"] == 0.0
    assert doc["rel_error"] == "inf", doc


def test_a_subnormal_error_against_an_exact_zero_is_not_printed_as_zero_on_the_fast_route(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """check_outputs(relu net with exact output 0, y = 3 * 2^-1074), fast route, to_json().

    Teeth: abs_error 0.0 or ulp 0.0 beside a value that is not the exact value fails.
    """
    _force(monkeypatch, True)
    r = compare.check_outputs(_RELU_ZERO, np.array([[1.0, 1.0]]), np.array([[3 * 2.0**-1074]]), progress=False)
    doc = r.to_json()["results"][0]
    assert doc["exact"] == "0" and doc["status"] == "ok"
    assert doc["abs_error"] == 3 * 2.0**-1074 and doc["ulp"] == 3.0, doc


# ----------------------------------------------------------------------------------------------
# agreement of the deciders on adversarial dyadic cases


@settings(max_examples=150, deadline=None)
@given(st.integers(-1000, 1000), st.sampled_from([1.0, 1.5, 2 - 2.0**-52, 1.25]), st.integers(0, 40),
       st.sampled_from([-1, 0, 1]), st.sampled_from([-1, 0, 1]), st.booleans())
def test_ball_exact_and_array_deciders_never_contradict_on_dyadic_ties(
        e: int, m: float, k: int, step: int, pstep: int, below: bool) -> None:
    """Exact ``m 2^e`` (a point), value k ulps off; bounds at the error, one float above or below.

    exact_verdict (rationals) is the reference: ball_verdict gives its verdict or defers; the array
    verdict is the same or undecided, never a different decided one.
    Teeth: ``far <= total`` -> ``far < total`` in ``_tiers`` (ball and exact disagree with the array
    or with the truth); ``near > total`` -> ``near >= total`` in ``_tier`` (array says failed at a tie).
    """
    exact = math.ldexp(m, e)
    unit = float(ulp_of(F(exact), F64))
    value = exact - k * unit if below else exact + k * unit
    err = abs(F(value) - F(exact))
    sound = float(err)
    for _ in range(abs(step)):
        sound = math.nextafter(sound, math.inf if step > 0 else 0.0)
    prob = sound
    if pstep:
        prob = math.nextafter(prob, math.inf if pstep > 0 else 0.0)
    truth_sound = "ok" if err <= F(sound) else "failed"
    truth_prob = "ok" if err <= F(prob) else "suspicious"
    truth = truth_sound if truth_sound != "ok" else truth_prob
    b, x, a = _deciders(exact, value, sound, prob)
    assert x == truth, (x, truth)
    assert b in (None, truth)
    assert a in (CODE[truth], UNDECIDED)


# ----------------------------------------------------------------------------------------------
# certified digits of exact values (nnverify/certified/digits.py, what the CLI and JSON print)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 8), st.integers(1, 10**8), st.integers(-40, 40),
       st.sampled_from([F(0), F(1, 10**30), F(-1, 10**30), F(1, 10**3), F(-1, 10**3)]),
       st.sampled_from([F(0), F(1, 10**30), F(1, 10**3), F(1, 10**9)]), st.booleans())
def test_enclosure_digits_are_certified_at_rounding_ties(d: int, n: int, e: int, off: Fraction, width: Fraction,
                                                         neg: bool) -> None:
    """Intervals starting at, just below or just above a decimal rounding tie ``(n + 1/2) 10^e``, of
    widths from 0 to 1e-9 of a unit: every printed digit is one every point rounds to (half even at an
    exact tie), or the text is an interval holding them all; at most ``d`` significant digits.

    Teeth: ``q = k + 1`` at an exact tie (half up) in ``round_significant_ball`` fails on even ``n``;
    dropping its ``y > q - 0.5 and y < q + 0.5`` test prints digits a wide interval does not have.
    """
    unit = F(10) ** e
    tie = (n + F(1, 2)) * unit
    lo = tie + off * unit
    hi = lo + width * unit
    if neg:
        lo, hi = -hi, -lo
    text = Enclosure(lo, hi).digits(d)
    assert certified_text(text, lo, hi), (text, lo, hi, d)
    if not text.startswith("["):
        mant = re.sub(r"e.*$", "", text).lstrip("-").replace(".", "").lstrip("0")
        assert len(mant) <= d or lo == hi, (text, d)


def test_enclosure_digits_and_radius_of_tiny_balls_beyond_the_rational_view() -> None:
    """A ball 3 * 2^-5000000 ± 2^-5000040 (exponents past MAX_RATIONAL_BITS): digits read from arb are
    certified, and the printed radius is rounded up.

    Teeth: printing the clamped rational view ([0, 2^-4194304]) as a number fails; rad_text rounded
    to nearest (``"nearest"`` for ``"up"`` in ``Enclosure.rad_text``) fails on 1.23e-10 ("1.2e-10").
    """
    x = arb(3) * arb(2) ** -5_000_000 + arb(0) + arb(0, 1) * arb(2) ** -5_000_040
    enc = Enclosure.from_ball(x)
    text = enc.digits(12)
    assert re.fullmatch(r"\d\.\d+e-\d+", text), text
    mant, exp = text.split("e")
    # check against arb itself: the printed number is within half a unit of every point
    digits = len(mant.replace(".", "")) - 1
    shown = arb(mant) * arb(10) ** int(exp)
    half = arb(10) ** (int(exp) - digits) / 2
    assert bool(abs(x - shown).upper() <= half)
    for ball in (x, arb(0.5) + arb(0, 1.23e-10), arb(-7) + arb(0, 3.04e-300)):
        rad = Enclosure.from_ball(ball).rad_text(2)
        rm, re_ = rad.split("e")
        assert bool(arb(rm) * arb(10) ** int(re_) >= ball.rad()), (rad, ball.rad())


# ----------------------------------------------------------------------------------------------
# the result table and the report's summaries


def test_result_table_keeps_arb_results_over_arrays_and_summaries_read_the_same_numbers() -> None:
    """set_arrays fills a batch; set_results overrides outputs with arb's results; set_arrays again
    drops them. max_ulp, worst, tightest, counts and median_ratios read those numbers; to_json too.

    Teeth: not deleting ``self.objects`` in ``set_arrays`` keeps the stale "failed"; ``worst`` on
    ``argmin`` fails; swapping ``bound_ulp`` and ``ulp`` in ``tightest`` fails.
    """
    net = book_network()
    u = 2.0**-52
    exact = np.array([[1.0, 1.5], [1.25, 1.75]])  # ulp 2^-52 everywhere
    vals = exact + np.array([[1.0, 2.0], [-2.0, 0.0]]) * u
    y = DD(exact, np.zeros_like(exact), np.zeros_like(exact))
    sound = np.full((2, 2), 3 * u)
    prob = np.full((2, 2), 1.5 * u)
    v = array_verdicts(y, vals, sound, prob, 0.0, F64, Activation.IDENTITY)
    table = ResultTable(vals)
    table.set_arrays(0, v, y)
    assert [VERDICT_WORDS[int(c)] for c in v.status.ravel()] == ["ok", "suspicious", "suspicious", "ok"]
    bad = exact_verdict(1, 1, _point(1.75), 1.75 + 1e-3, 3 * u, 1.5 * u, F(0), F64)
    table.set_results([bad])
    assert table[3].status == "failed" and table.count(Verdict.FAILED) == 1 and table[3].ulp == bad.ulp
    table.set_arrays(0, v, y)
    assert table[3].status == "ok" and 3 not in table.objects
    rep = CheckReport(network=net, dtype=F64, mode=Mode.BINARY, x=np.zeros((2, 2)), y=vals,
                      results=table)
    ulps = [r.ulp for r in rep.results]
    assert rep.max_ulp == max(ulps) and rep.worst.ulp == max(ulps)
    ratios = [r.ulp / r.bound_ulp for r in rep.results]
    assert rep.tightest.ulp / rep.tightest.bound_ulp == max(ratios)
    assert rep.counts() == {s: sum(r.status == s for r in rep.results) for s in ("ok", "suspicious", "failed",
                                                                                  "undecided")}
    med = rep.median_ratios()
    assert med["sound"] == float(np.median([r.bound_ulp for r in rep.results])) / float(np.median(ulps))
    doc = json.loads(json.dumps(rep.to_json(), allow_nan=False))
    assert [d["status"] for d in doc["results"]] == [r.status for r in rep.results]
    assert [d["ulp"] for d in doc["results"]] == ulps and doc["max_ulp"] == rep.max_ulp


# ----------------------------------------------------------------------------------------------
# what the CLI prints


def test_cli_every_printed_exact_digit_and_error_of_the_book_and_an_mnist_digit_is_certified(
        capsys: pytest.CaptureFixture[str]) -> None:
    """``nnverify check`` (the book, x = 1.0,0.5) and ``--weights book-mnist --inputs mnist-digits --first 1``:
    each listed exact value is certified by a 256-bit enclosure and each "error X ulp" is the true
    error correctly rounded to 3 digits; the JSON's exact digits are certified and its ulps are the
    true errors to ~2^-50 relative.

    Teeth: dropping the ``table.prefetch(...)`` of the listing prints the mnist errors from the
    float64 balls (0.0788 for 0.079); ``ulp_of`` at float64's precision for float32 fails the errors.
    """
    from nnverify.datasets import mnist_digits

    book = book_network()
    cases = [(("check",), book, BOOK_X[None, :], None),
             (("check", "--weights", "book-mnist", "--inputs", "mnist-digits", "--first", "1"),
              load_network("book-mnist"), None, mnist_digits(first=1))]
    for argv, net, x, digits_src in cases:
        if digits_src is not None:
            x = np.asarray(digits_src.inputs().values, dtype=net.dtype)
        y = forward(net, np.asarray(x, dtype=net.dtype)).y
        code, out = _cli(capsys, *argv)
        rows = _rows(out)
        assert code == 0 and len(rows) == net.n_outputs
        cert = certify(net, np.asarray(x, dtype=net.dtype), prec=256, route="matrix")
        errors = _true_errors(net, np.asarray(x, dtype=net.dtype), y)
        for k, exact_text, _rad, _value, err_text in rows:
            enc = cert.y[0][k - 1]
            assert certified_text(exact_text, enc.lower, enc.upper), (k, exact_text)
            lo, hi = errors[0][k - 1]
            assert honest_error(err_text, lo, hi), (k, err_text, float(lo))
        code, out = _cli(capsys, *argv, "--json")
        doc = json.loads(out)
        for res in doc["results"]:
            enc = cert.y[0][res["output"] - 1]
            assert certified_text(res["exact"], enc.lower, enc.upper)
            lo, _ = errors[0][res["output"] - 1]
            assert abs(F(res["ulp"]) - lo) <= lo * F(1, 2**50) + F(1, 2**60), (res["ulp"], float(lo))


def test_cli_a_refined_row_whose_fast_distance_was_zero_prints_its_true_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    """``nnverify check --weights book-mnist --inputs mnist-digits --indices 715``: y6 exact
    0.98913305999237356093, numpy 0.9891330599784851, printed "error 0 ulp".

    Teeth: the error text must be honest for the 256-bit error (2.33e-4 ulp).
    """
    from nnverify.datasets import mnist_digits

    net = load_network("book-mnist")
    x = np.asarray(mnist_digits(indices=[715]).inputs().values, dtype=net.dtype)
    y = forward(net, x).y
    lo, hi = _true_errors(net, x, y)[0][5]
    assert lo > 0
    _, out = _cli(capsys, "check", "--weights", "book-mnist", "--inputs", "mnist-digits", "--indices", "715")
    row = _rows(out)[5]
    assert honest_error(row[4], lo, hi), (row, float(lo))


def test_cli_float32_errors_are_certified_whatever_digits_of_the_exact_value_are_asked(
        capsys: pytest.CaptureFixture[str]) -> None:
    """``nnverify check --weights book-mnist --inputs mnist-digits --first 1 --digits 5``.

    Teeth: the printed errors must be honest for the 256-bit errors.
    """
    from nnverify.datasets import mnist_digits

    net = load_network("book-mnist")
    x = np.asarray(mnist_digits(first=1).inputs().values, dtype=net.dtype)
    y = forward(net, x).y
    errors = _true_errors(net, x, y)[0]
    _, out = _cli(capsys, "check", "--weights", "book-mnist", "--inputs", "mnist-digits", "--first", "1",
                  "--digits", "5")
    bad = [(k, err) for k, _, _, _, err in _rows(out) if not honest_error(err, *errors[k - 1])]
    assert not bad, bad


def test_cli_an_undecided_output_does_not_print_a_lower_bound_as_its_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    """``nnverify check --digits 1 --prec 16 --max-prec 16`` (the book network): both outputs undecided.

    The enclosure printed is honest ("0.3 (± 2.2e-11)"); the error beside it must be too: any value
    the ball allows, as an interval or a bound, not its smallest.
    Teeth: printing ``r.ulp`` again fails.
    """
    code, out = _cli(capsys, "check", "--digits", "1", "--prec", "16", "--max-prec", "16")
    assert code == 1 and "2 undecided" in out
    net = book_network()
    y = forward(net, BOOK_X[None, :]).y
    errors = _true_errors(net, BOOK_X[None, :], y)[0]
    rows = _rows(out)
    assert [r[1] for r in rows] == ["0.3", "0.7"]
    for k, _exact, _rad, _value, err_text in rows:
        assert honest_error(err_text, *errors[k - 1]), (k, err_text, float(errors[k - 1][0]))


def test_json_max_ulp_and_worst_are_the_numbers_of_the_results_they_summarise() -> None:
    """``nnverify check --weights book-mnist --inputs mnist-digits --first 20 --json``, through the API.

    Teeth: a max_ulp below any listed ulp, or a worst that differs from its own entry, fails.
    """
    from nnverify.datasets import mnist_digits

    rep = compare.check(load_network("book-mnist"), mnist_digits(first=20).inputs(), progress=False)
    doc = rep.to_json()
    ulps = [r["ulp"] for r in doc["results"]]
    w = doc["worst"]
    entry = doc["results"][(w["input"] - 1) * 10 + w["output"] - 1]
    assert doc["max_ulp"] >= max(ulps) and w["ulp"] == entry["ulp"], (doc["max_ulp"], max(ulps), w["ulp"])


def test_error_text_is_a_number_only_where_the_enclosure_settles_its_three_figures() -> None:
    """``verdicts.error_ulp_text`` (the CLI, the property suite's messages and tables, the testing
    API): 3 figures where every error the enclosure allows rounds to them, else an interval that
    holds them all, rounded outward.

    Teeth: returning ``f"{r.ulp:.3g}"`` fails the wide case.
    """
    import dataclasses

    from nnverify.certified import Enclosure
    from nnverify.verdicts import error_ulp_text

    net = book_network()
    r = compare.check_outputs(net, BOOK_X[None, :], forward(net, BOOK_X[None, :]).y, progress=False).results[0]
    u = F(1, 2**53)  # ulp of float64 in [0.25, 0.5): 2^-54; the exact value is 0.3168...
    point = dataclasses.replace(r, exact=Enclosure(F(r.value) - 3 * u, F(r.value) - 3 * u))
    assert error_ulp_text(point, F64) == "6"  # 3 * 2^-53 = 6 ulps of 2^-54
    wide = dataclasses.replace(r, exact=Enclosure(F(r.value) - 3 * u, F(r.value) + u))
    assert error_ulp_text(wide, F64) == "[0, 6]"
    near = dataclasses.replace(r, exact=Enclosure(F(r.value) - 3 * u, F(r.value) - 3 * u + u / 10**6))
    assert error_ulp_text(near, F64) == "6"  # the width moves the error by 2e-6 ulp: 6.00 either way


def test_jupyter_shows_the_certified_error_text_not_a_lower_bound() -> None:
    """``CheckReport._repr_html_`` / ``_repr_latex_`` (display.py): an undecided output's error is the
    interval its enclosure allows, as the CLI prints it, not the 0 of its nearest point.

    Teeth: ``f"{r.ulp:.3g}"`` in ``display.report_html`` fails.
    """
    net = book_network()
    rep = compare.check_outputs(net, BOOK_X[None, :], forward(net, BOOK_X[None, :]).y, prec=16, max_prec=16,
                                progress=False)
    assert rep.counts()["undecided"] == 2
    html, latex = rep._repr_html_(), rep._repr_latex_()
    assert "[0, " in html and "[0, " in latex, html[:600]
