"""The two tiers in the verdicts: ok / suspicious / failed, and nothing today's bound passed fails now."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from bounds_helpers import CORRECT
from hypothesis import given, settings
from oracle_helpers import small_networks

from nnverify.bounds import forward_error_bounds
from nnverify.certified import certify
from nnverify.compare import check, check_outputs
from nnverify.model import Layer, Network
from nnverify.numeric import forward
from nnverify.weights import load_network


def _mnist(n: int = 4, dtype=np.float32):  # type: ignore[no-untyped-def]
    net = load_network("book-mnist").astype(dtype)
    x = np.random.default_rng(3).uniform(0, 1, (n, 784)).astype(dtype)
    return net, x, forward(net, x).y


def test_a_value_between_the_two_bounds_is_suspicious_not_failed() -> None:
    net, x, y = _mnist()
    first = check_outputs(net, x, y, progress=False)
    assert first.ok and first.sound_ok
    r = first.results[3]
    assert r.prob_bound_ulp < r.bound_ulp / 5
    step = float(np.spacing(np.float32(float(r.exact))))
    y2 = y.copy()
    y2[0, 3] = np.float32(float(r.exact) + (r.prob_bound_ulp + r.bound_ulp) / 2 * step)
    report = check_outputs(net, x, y2, progress=False)
    bad = report.results[3]
    assert (bad.status, bad.sound_status, bad.prob_status) == ("suspicious", "ok", "suspicious")
    assert not report.ok and report.sound_ok
    assert report.counts()["suspicious"] == 1 and report.counts()["ok"] == len(report.results) - 1
    # beyond the sound bound it is failed, and the probabilistic tier says outside too
    y2[0, 3] = np.float32(float(r.exact) + 2 * r.bound_ulp * step)
    worse = check_outputs(net, x, y2, progress=False).results[3]
    assert (worse.status, worse.sound_status, worse.prob_status) == ("failed", "failed", "suspicious")


def test_the_subnormal_network_of_issue_10_checks_ok() -> None:
    # 1-1-3-1, z2 = 0.5, W3 = [[5e-324]] * 3: every correct forward returns 0.0, the exact value
    # is 1.5 * 2^-1074; the weighted sum's underflow term allows it
    net = Network((Layer(np.array([[0.0]]), np.array([0.0]), "sigmoid"),
                   Layer(np.zeros((1, 3)), np.zeros(3), "sigmoid"),
                   Layer(np.array([[5e-324]] * 3), np.zeros(1), "identity")))
    x = np.array([[0.7]])
    report = check(net, x)
    assert report.y[0, 0] == 0.0 and report.results[0].exact.mid == Fraction(3, 2) * Fraction(1, 2**1074)
    assert report.ok, report.results[0]
    # the bound is 13 subnormals (the bound's own arithmetic adds a few): a value 20 off fails
    assert report.results[0].bound_ulp < 20
    assert check_outputs(net, x, np.array([[-20 * 5e-324]]), progress=False).results[0].status == "failed"


def _today_ok(net: Network, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    cert = certify(net, x)
    b = forward_error_bounds(net, x, cert)
    ok = np.zeros(y.shape, dtype=bool)
    for i in range(y.shape[0]):
        for k in range(y.shape[1]):
            e, v = cert.y[i][k], Fraction(float(y[i, k]))
            ok[i, k] = bool(np.isfinite(y[i, k])) and max(abs(v - e.lower), abs(v - e.upper)) <= Fraction(float(b[i, k]))
    return ok


@settings(max_examples=30, deadline=None)
@given(small_networks(hidden=("sigmoid", "tanh", "relu", "identity")))
def test_nothing_ok_under_todays_bound_becomes_failed(case) -> None:  # type: ignore[no-untyped-def]
    net, x = case
    for name, fwd in CORRECT.items():
        with np.errstate(all="ignore"):
            y = fwd(net, x)
        if not np.isfinite(y).all():
            continue
        today = _today_ok(net, x, y)
        report = check_outputs(net, x, y, progress=False)
        status = np.array([r.status for r in report.results]).reshape(y.shape)
        assert not np.any(today & (status == "failed")), name
        assert not np.any(today & (status == "suspicious")), name  # seeds fixed: no 1e-6 fluke


def test_a_bound_shrunk_below_todays_would_fail_a_correct_output(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # the test above can fail: with the sound bound divided by 300 a correct (worst-order)
    # forward on book-mnist fails where today's bound said ok
    import nnverify.compare as compare
    from nnverify.bounds.tiers import OutputBounds, error_bounds

    def shrunk(*args, **kwargs):  # type: ignore[no-untyped-def]
        b = error_bounds(*args, **kwargs)
        return OutputBounds(b.interval, b.linear, b.sound / 300, b.probabilistic / 300, b.confidence)

    monkeypatch.setattr(compare, "error_bounds", shrunk)
    net, x, _ = _mnist(6)
    y = CORRECT["sorted positive-first"](net, x)
    status = np.array([r.status for r in check_outputs(net, x, y, progress=False).results]).reshape(y.shape)
    assert np.any(_today_ok(net, x, y) & (status == "failed"))


def test_confidence_changes_only_the_probabilistic_bound() -> None:
    net, x, y = _mnist(2)
    loose = check_outputs(net, x, y, confidence=1 - 1e-12, progress=False)
    tight = check_outputs(net, x, y, confidence=0.9, progress=False)
    assert [r.bound_ulp for r in loose.results] == [r.bound_ulp for r in tight.results]
    assert all(a.prob_bound_ulp >= b.prob_bound_ulp for a, b in zip(loose.results, tight.results))
    assert loose.confidence == 1 - 1e-12 and loose.to_json()["confidence"] == 1 - 1e-12
