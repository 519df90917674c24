"""``nnverify check --impl``, ``--confidence`` and ``--sound-only`` through ``main(argv)``."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from nnverify.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

#: A book-mnist forward that keeps 4 significant digits of every weight: within the sound bound
#: on these inputs, far outside the probabilistic one.
FOUR_DIGITS = """
import numpy as np

def _r(a):
    return np.array([float(f"{v:.3e}") for v in a.ravel()]).reshape(a.shape).astype(a.dtype)

def sigmoid(x):
    return 1 / (1 + np.exp(-x))

def softmax(a):
    e = np.exp(a - np.max(a))
    return e / np.sum(e)

def forward(network, x):
    z = x
    for l in (1, 2):
        z = sigmoid(z @ _r(network[f"W{l}"]) + _r(network[f"b{l}"]))
    return softmax(z @ _r(network["W3"]) + _r(network["b3"]))
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _ex(name: str) -> str:
    return str(EXAMPLES / name)


def test_the_books_own_forward_is_reported_as_a_fault_of_its_code_not_a_crash(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, "check", "--impl", _ex("ch03_book.py:forward"))
    assert code == 1 and "Traceback" not in out + err
    assert "verdict: FAILED — your code raised: NameError: name 'identify_function' is not defined" in out
    assert "ch03_book.py:42 in forward: y = identify_function(a3)" in out
    code, out, _ = run(capsys, "check", "--impl", _ex("ch03_book.py:forward"), "--json")
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and doc["fault"]["kind"] == "raised"


@pytest.mark.parametrize("spec", ["ch03_fixed.py:forward", "correct_einsum.py:forward",
                                  "correct_sigmoid_tanh.py:forward", "correct_summation_order.py:forward"])
def test_a_correct_forward_passes_both_tiers(capsys, spec: str) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "check", "--impl", _ex(spec), "--samples", "20")
    assert code == 0, out
    assert f"implementation: {_ex(spec)}" in out and "= 40: 40 ok, 0 suspicious, 0 failed" in out
    assert "verdict: ok — every output is within both bounds" in out


@pytest.mark.parametrize("spec", ["broken_plus_1e12.py:forward", "broken_missing_bias.py:forward",
                                  "broken_sigmoid_sign.py:forward", "broken_transposed.py:forward",
                                  "broken_float32.py:forward"])
def test_a_broken_forward_fails(capsys, spec: str) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "check", "--impl", _ex(spec), "--samples", "5")
    assert code == 1 and "verdict: FAILED — some outputs are outside their sound bound" in out


def test_the_books_mnist_predict_passes_on_real_digits(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "check", "--weights", "book-mnist", "--impl", _ex("ch03_mnist.py:predict"),
                       "--inputs", "mnist-digits", "--indices", "0,1,2,3,4,5")
    assert code == 0, out
    assert "60 ok, 0 suspicious, 0 failed, 0 undecided" in out


def test_your_sigmoid_inside_nnverifys_forward(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "check", "--impl-sigmoid", _ex("correct_sigmoid_tanh.py:sigmoid"), "--samples", "5")
    assert code == 0 and "implementation: nnverify forward with" in out
    code, out, _ = run(capsys, "check", "--impl-sigmoid", _ex("broken_sigmoid_sign.py:sigmoid"), "--samples", "5")
    assert code == 1 and "FAILED" in out


def test_suspicious_exits_1_unless_sound_only(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "four_digits.py"
    path.write_text(textwrap.dedent(FOUR_DIGITS))
    argv = ("check", "--weights", "book-mnist", "--impl", f"{path}:forward", "--samples", "12")
    code, out, _ = run(capsys, *argv)
    assert code == 1, out
    assert "0 failed, 0 undecided" in out and "verdict: SUSPICIOUS — every output is within its sound bound" in out
    assert "proved" not in out.replace("no error is proved", "") and "verified" not in out
    code, out, _ = run(capsys, *argv, "--sound-only")
    assert code == 0 and "verdict: ok (sound only)" in out
    code, out, _ = run(capsys, *argv, "--json")
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and doc["sound_ok"] is True and doc["counts"]["suspicious"] > 0
    sus = [r for r in doc["results"] if r["status"] == "suspicious"]
    assert sus and all(r["prob_status"] == "suspicious" and r["sound_status"] == "ok" for r in sus)
    assert all(r["prob_bound_ulp"] < r["ulp"] <= r["bound_ulp"] for r in sus)


def test_json_has_both_bounds_the_counts_and_the_median_ratios(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "check", "--weights", "book-mnist", "--samples", "3", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["implementation"] == "nnverify forward" and doc["sound_only"] is False
    assert set(doc["counts"]) == {"ok", "suspicious", "failed", "undecided"}
    ratios = doc["median_bound_over_error"]
    assert ratios["sound"] > 10 * ratios["probabilistic"] > 10
    r = doc["results"][0]
    assert {"bound_abs", "bound_ulp", "status", "prob_bound_abs", "prob_bound_ulp", "prob_status"} <= set(r)
    assert r["prob_bound_ulp"] <= r["bound_ulp"] and doc["confidence"] == 0.999999
    assert "Higham" in doc["probabilistic_model"]


@pytest.mark.parametrize("value", ["0", "1", "1.5", "-0.2", "1e-6", "0.3", "nan", "inf"])
def test_confidence_outside_its_range_exits_2_with_one_line(capsys, value: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, "check", "--confidence", value)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--confidence" in err and "[0.5, 1)" in err


def test_a_smaller_confidence_narrows_only_the_probabilistic_bound(capsys) -> None:  # type: ignore[no-untyped-def]
    docs = []
    for c in ("0.9", "0.999999999"):
        code, out, _ = run(capsys, "check", "--weights", "book-mnist", "--samples", "2", "--json", "--confidence", c)
        docs.append(json.loads(out))
    a, b = (d["results"] for d in docs)
    assert all(x["bound_ulp"] == y["bound_ulp"] and x["prob_bound_ulp"] < y["prob_bound_ulp"] for x, y in zip(a, b))


@pytest.mark.parametrize(("argv", "match"), [
    (["--impl", "ch03_fixed.py:forward", "--impl-sigmoid", "correct_sigmoid_tanh.py:sigmoid"], "one or the other"),
    (["--impl", "nowhere.py:forward"], "no such file"),
    (["--impl", "ch03_fixed.py:forward", "--impl-timeout", "-1"], "--impl-timeout"),
])
def test_bad_implementation_options_exit_2(capsys, argv: list[str], match: str) -> None:  # type: ignore[no-untyped-def]
    argv = [_ex(a) if a.endswith((":forward", ":sigmoid")) and "nowhere" not in a else a for a in argv]
    code, _, err = run(capsys, "check", *argv)
    assert code == 2 and match in err


def test_a_hanging_forward_is_reported_as_a_timeout(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "check", "--impl", _ex("user_errors.py:hangs"), "--impl-timeout", "0.3")
    assert code == 1 and "your code timeout" in out


def test_the_command_lines_default_confidence_is_the_librarys() -> None:
    from nnverify.bounds.probabilistic import DEFAULT_CONFIDENCE
    from nnverify.cli.check import DEFAULT_CONFIDENCE as CLI_DEFAULT

    assert CLI_DEFAULT == DEFAULT_CONFIDENCE
