"""Verdicts: ok / suspicious / failed / undecided, the automatic precision raise, tolerances and the JSON shape."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnverify.compare import CheckReport, check, check_outputs
from nnverify.errors import InputsError, UsageError
from nnverify.inputs import parse_x, sample_inputs
from nnverify.modes import Mode
from nnverify.numeric import forward
from nnverify.weights import BOOK_X, book_network, load_network


@pytest.mark.parametrize(
    ("mode", "x", "exact", "ulps"),
    [
        (Mode.BINARY, BOOK_X, ("0.31682707641102976546", "0.69627908986196680381"), (0.74, 0.41)),
        (Mode.DECIMAL, parse_x("1.0,0.5"), ("0.31682707641102974743", "0.69627908986196678148"), (1.07, 0.61)),
    ],
    ids=["binary", "decimal"],
)
def test_book_network_numpy_outputs_are_within_bound(mode, x, exact, ulps):
    report = check(book_network(), x, mode=mode)
    assert report.ok
    for r, digits, u in zip(report.results, exact, ulps):
        assert r.exact.digits(20) == digits
        assert round(r.ulp, 2) == u  # the book network's exact values (docs/ARCHITECTURE.md): NumPy is +0.74 ulp (binary), +1.07 (decimal)
        assert r.ulp < r.bound_ulp
    assert report.worst.output == 0


def _nudged(ulps: float) -> tuple[np.ndarray, CheckReport]:
    net = book_network()
    y = forward(net, BOOK_X).y.copy()
    first = check_outputs(net, BOOK_X, y, progress=False)
    r = first.results[0]
    step = np.spacing(y[0])
    y[0] = float(r.exact) + (r.bound_ulp + ulps) * step
    return y, first


def test_a_result_nudged_beyond_its_bound_fails_and_one_inside_passes():
    y, _ = _nudged(+2)
    report = check_outputs(book_network(), BOOK_X, y, progress=False)
    assert [r.status for r in report.results] == ["failed", "ok"]
    assert not report.ok and report.results[0].ulp > report.results[0].bound_ulp
    y, _ = _nudged(-2)
    assert check_outputs(book_network(), BOOK_X, y, progress=False).ok


def test_an_explicit_tolerance_is_added_on_top_of_the_bound():
    y, _ = _nudged(+5)
    assert not check_outputs(book_network(), BOOK_X, y, progress=False).ok
    report = check_outputs(book_network(), BOOK_X, y, tolerance_ulp=8, progress=False)
    assert report.ok and report.tolerance_ulp == 8


def test_nan_output_fails():
    y = forward(book_network(), BOOK_X).y.copy()
    y[1] = math.nan
    report = check_outputs(book_network(), BOOK_X, y, progress=False)
    assert report.results[1].status == "failed" and report.results[1].ulp == math.inf
    doc = json.loads(json.dumps(report.to_json(), allow_nan=False))  # standard JSON: no NaN literal
    assert doc["results"][1]["value"] == "nan" and doc["results"][1]["ulp"] == "inf"
    assert doc["ok"] is False and doc["counts"]["failed"] == 1


def test_precision_is_raised_until_the_verdict_is_decided():
    net = book_network()
    y = forward(net, BOOK_X).y
    report = check_outputs(net, BOOK_X, y, prec=16, progress=False)
    assert report.ok and report.max_prec_used > 16


def test_a_verdict_still_undecided_at_the_cap_is_undecided_not_ok():
    net = book_network()
    y = forward(net, BOOK_X).y
    report = check_outputs(net, BOOK_X, y, prec=16, max_prec=16, progress=False)
    assert not report.ok
    assert report.counts()["undecided"] >= 1 and report.counts()["ok"] + report.counts()["undecided"] == 2


def test_json_has_the_documented_shape_with_one_based_indices():
    doc = check(book_network(), BOOK_X).to_json()
    assert doc["ok"] is True and doc["max_ulp"] == pytest.approx(0.7402731578509024)
    first = doc["results"][0]
    assert {"input", "output", "exact", "radius", "value", "ulp", "bound_ulp", "ok"} <= set(first)
    assert (first["input"], first["output"], first["exact"]) == (1, 1, "0.31682707641102976546")
    assert 0 < first["radius"] < 1e-35
    assert doc["counts"] == {"ok": 2, "suspicious": 0, "failed": 0, "undecided": 0}
    assert {"prob_bound_ulp", "prob_status", "prob_bound_abs", "bound_abs", "status"} <= set(first)
    assert first["prob_bound_ulp"] <= first["bound_ulp"] and first["prob_status"] == "ok"
    # tiny sums (2 and 3 terms): the probabilistic bound is no smaller than the sound one here
    assert doc["median_bound_over_error"]["sound"] >= doc["median_bound_over_error"]["probabilistic"] > 1
    json.dumps(doc, allow_nan=False)


@pytest.mark.parametrize(
    ("y", "kwargs", "error", "match"),
    [
        (np.zeros(3), {}, InputsError, r"need shape \(1, 2\)"),
        (np.zeros(2, dtype=int), {}, InputsError, "expected floats"),
        (np.zeros(2), {"tolerance_ulp": -1}, UsageError, "tolerance"),
        (np.zeros(2), {"tolerance_ulp": math.inf}, UsageError, "tolerance"),
        (np.zeros(2), {"digits": 0}, UsageError, "digits"),
        (np.zeros(2), {"prec": 256, "max_prec": 128}, UsageError, "max_prec"),
    ],
)
def test_bad_arguments_raise_one_line_errors(y, kwargs, error, match):
    with pytest.raises(error, match=match):
        check_outputs(book_network(), BOOK_X, y, **kwargs)


def test_check_casts_the_network_and_inputs_to_the_requested_dtype():
    report = check(book_network(), BOOK_X, dtype=np.float32)
    assert report.ok and report.dtype == np.float32 and report.y.dtype == np.float32


@pytest.mark.parametrize("dtype", [None, "float64"])
def test_book_mnist_sample_passes(dtype):
    net = load_network("book-mnist")
    report = check(net, sample_inputs(784, 20, seed=1), dtype=dtype)
    assert report.ok and len(report.results) == 200


def test_an_infinite_bound_can_never_verify():
    from fractions import Fraction

    from nnverify.certified import Enclosure
    from nnverify.verdicts import exact_verdict

    exact = Enclosure(Fraction(1, 3), Fraction(1, 3))
    r = exact_verdict(0, 0, exact, 1 / 3, math.inf, math.inf, Fraction(0), np.dtype(np.float64))
    assert r.status == "undecided" and r.bound_ulp == math.inf
    nan = exact_verdict(0, 0, exact, math.nan, math.inf, math.inf, Fraction(0), np.dtype(np.float64))
    assert nan.status == "failed"


def test_decimal_mode_bound_includes_the_representation_error_of_float32_weights():
    # float32 weights are ~1e-8 away from their decimal text: the decimal-mode bound adds
    # that distance, so NumPy's float32 result still verifies against the decimal model.
    net = book_network().astype(np.float32)
    binary = check(net, parse_x("1.0,0.5"), mode=Mode.BINARY)
    decimal = check(net, parse_x("1.0,0.5"), mode=Mode.DECIMAL)
    assert binary.ok and decimal.ok
    assert all(d.exact.mid != b.exact.mid for d, b in zip(decimal.results, binary.results))
    assert all(d.bound_ulp > b.bound_ulp for d, b in zip(decimal.results, binary.results))


@given(offset=st.floats(-30, 30), tol=st.sampled_from([0.0, 0.5, 7.0]))
def test_ball_fast_path_agrees_with_the_exact_rational_verdict(offset, tol):
    from fractions import Fraction

    from nnverify.certified import certify
    from nnverify.verdicts import ball_verdict, exact_verdict

    net = book_network()
    cert = certify(net, BOOK_X)
    exact, ball = cert.y[0][0], cert.balls_z[-1][0][0]
    value = float(exact) + offset * float(np.spacing(float(exact)))
    bound = 9.853017182558933 * float(np.spacing(float(exact)))
    prob = 3.25 * float(np.spacing(float(exact)))
    dt = np.dtype(np.float64)
    fast = ball_verdict(0, 0, exact, ball, cert.prec, value, bound, prob, Fraction(tol), dt)
    slow = exact_verdict(0, 0, exact, value, bound, prob, Fraction(tol), dt)
    assert fast is not None  # at 128 bits the balls decide everything but exact ties
    assert (fast.status, fast.sound_status, fast.prob_status) == (slow.status, slow.sound_status, slow.prob_status)
    assert fast.ulp == pytest.approx(slow.ulp, rel=1e-12, abs=1e-12)
    assert fast.bound_ulp >= slow.bound_ulp * (1 - 1e-15)
