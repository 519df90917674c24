"""Values beyond the float range: the rounding model leaves overflow out, so nnverify never calls a
correct overflow wrong, never calls an infinity right, and still fails an infinity where no correct
computation overflows (issue 15: ``W=[[1e200]]`` with inputs near 1e200)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from nnverify import Layer, Network
from nnverify.bounds.tiers import beyond_the_float_range
from nnverify.certified import certify
from nnverify.certified.arrays import ball_pass
from nnverify.cli import main
from nnverify.compare import check, check_outputs
from nnverify.model import Activation
from nnverify.verdicts import overflow_threshold


def _net(*layers: tuple[float, str], dtype: type = np.float64) -> Network:
    return Network(tuple(Layer(np.array([[w]], dtype=dtype), np.zeros(1, dtype=dtype), Activation(act)) for w, act in layers),
                   name="one")


def test_the_overflow_threshold_is_the_largest_float_plus_half_its_ulp() -> None:
    for dtype in (np.float32, np.float64):
        t = overflow_threshold(dtype)
        top = np.finfo(dtype).max
        big = Fraction(float(top))
        gap = big - Fraction(float(np.nextafter(top, dtype(0))))  # the ulp of the largest float
        assert t == big + gap / 2
        assert np.array(float(big), dtype=dtype) == np.finfo(dtype).max  # below it: finite


@pytest.mark.parametrize(("layers", "x"), [
    (((1e200, "identity"),), 1e200),                      # the output is 1e400: every correct result is inf
    (((1e200, "identity"), (1e-300, "identity")), 1e200),  # a hidden 1e400, an output of 1e100
])
def test_a_correct_overflow_is_undecided_never_failed(layers: tuple[tuple[float, str], ...], x: float) -> None:
    net = _net(*layers)
    with np.errstate(over="ignore"):
        report = check(net, np.array([[x]]), progress=False)
    assert np.isinf(report.y[0, 0])
    assert [r.status for r in report.results] == ["undecided"]
    assert not report.ok
    assert beyond_the_float_range(net, ball_pass(certify(net, np.array([[x]])))).tolist() == [True]


def test_an_infinity_where_no_correct_computation_overflows_fails() -> None:
    net = _net((1e200, "identity"))
    report = check_outputs(net, np.array([[1e100]]), np.array([[np.inf]]), progress=False)
    assert [r.status for r in report.results] == ["failed"]
    nan = check_outputs(net, np.array([[1e200]]), np.array([[np.nan]]), progress=False)
    assert [r.status for r in nan.results] == ["failed"]  # NaN is never right, overflow or not


def test_an_output_equal_to_the_largest_float_is_ok_though_its_bound_overflows() -> None:
    net = _net((float(np.finfo(np.float64).max), "identity"))
    report = check(net, np.array([[1.0]]), progress=False)
    assert [r.status for r in report.results] == ["ok"]
    wrong = check_outputs(net, np.array([[1.0]]), np.array([[1e308]]), progress=False)
    assert [r.status for r in wrong.results] != ["ok"]


def test_the_cli_says_why_it_stayed_undecided(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    f = Path(str(tmp_path)) / "huge.json"
    f.write_text('{"layers": [{"W": [[1e200]], "b": [0.0], "activation": "identity"}]}')
    with np.errstate(over="ignore"):
        rc = main(["check", "--weights", str(f), "--x=1e200"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "no finite bound (a value that may overflow the float range" in out
    assert "internal error" not in out


@pytest.mark.parametrize("x", [-1.0, 1.0])
def test_a_sigmoid_of_plus_or_minus_1e300_is_certified_and_ok(x: float) -> None:
    """Was exit 3 at x = -1: arb's e^(1e300) is [+/- inf], so 1/(1 + e^-a) was NaN ("ball nan is
    not finite"); and at x = +1 the bound was sigmoid's range cap (so undecided): sigma'(a) was
    taken from 1 - sigma(a), which a float cannot tell from 2^-53 there."""
    net = _net((1e300, "sigmoid"))
    with np.errstate(over="ignore"):
        report = check(net, np.array([[x]]), progress=False)
        wrong = check_outputs(net, np.array([[x]]), np.array([[0.5]]), progress=False)
    assert [r.status for r in report.results] == ["ok"]
    assert report.results[0].bound_abs < 1e-14  # the evaluation error (5 ulp), not the range cap (1)
    assert [r.status for r in wrong.results] == ["failed"]


def test_sigmoids_derivative_bound_is_tight_where_sigmoid_is_within_an_ulp_of_1() -> None:
    from nnverify.bounds.boxes import VecConstants, unit_box
    from nnverify.bounds.rounding import DEFAULT_ROUNDING

    c = VecConstants.of(DEFAULT_ROUNDING.constants(np.dtype(np.float64)), 1)
    for a in (40.0, 700.0, -40.0):
        box = unit_box(Activation.SIGMOID, np.array([[a]]), np.array([[a]]), c)
        true = Fraction(np.exp(-abs(a)))  # sigma'(a) = e^-|a| / (1 + e^-|a|)^2, within 1e-17 of it
        assert true * Fraction(9, 10) <= Fraction(float(box.lipschitz[0, 0])) <= true * Fraction(11, 10), a


def test_the_property_suite_on_huge_sums_has_no_internal_error(tmp_path: object,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Was "batch-consistency: internal error (OverflowError: cannot convert Infinity to integer
    ratio)": a law added an infinite bound (a row beyond the float range) as a rational."""
    from pathlib import Path

    f = Path(str(tmp_path)) / "big.json"
    f.write_text('{"layers": [{"W": [[1e300]], "b": [0.0], "activation": "sigmoid"}]}')
    assert main(["test", "--weights", str(f)]) == 0
    g = Path(str(tmp_path)) / "over.json"  # identity outputs up to 1e309: bounds inf for some rows
    g.write_text('{"layers": [{"W": [[1e308]], "b": [0.0], "activation": "identity"}]}')
    capsys.readouterr()
    with np.errstate(over="ignore"):
        main(["test", "--weights", str(g), "--only", "batch-consistency,hidden-permutation"])
    out = capsys.readouterr().out
    assert "internal error" not in out
    assert "batch-consistency" in out


def test_laws_skip_a_bound_that_is_not_finite_and_never_call_an_infinity_close() -> None:
    from nnverify.suite.laws.within import allowance, difference

    assert allowance(0.5, 0.25) == Fraction(3, 4)
    assert allowance(0.5, np.inf) is None
    assert difference(np.inf, np.inf) == 0
    assert difference(1.0, np.inf) == np.inf and difference(np.nan, np.nan) == np.inf
    assert difference(0.1, 0.1 + 2**-56) == Fraction(0.1) - Fraction(0.1 + 2**-56)


def test_a_bound_as_wide_as_the_range_is_named_as_the_reason_for_undecided(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was "undecided at --max-prec", which sends the user raising a precision that cannot help."""
    from pathlib import Path

    f = Path(str(tmp_path)) / "s11.json"
    f.write_text('{"layers": [{"W": [[1.0]], "b": [0.0], "activation": "sigmoid"}]}')
    assert main(["check", "--weights", str(f), "--x=0.3", "--tolerance-ulp", "1e17"]) == 1
    out = capsys.readouterr().out
    assert "their bound is as wide as sigmoid's range, so it proves nothing" in out
    assert main(["check", "--weights", str(f), "--x=0.3", "--tolerance-ulp", "1e3"]) == 0
