"""Issue 15's second hostile round: values beyond the float range, deep networks and arguments
that were mishandled, kept as regression cases (the user-code hazards are in
``tests/test_isolation.py``, signals in ``tests/test_cli_signals.py``).

Each case names what happened before its fix. A case built to be wrong (an implementation that
returns a value no correct computation gives) is run with ``wrong=True``: exit 0 there is a
``false pass``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import reliability


def _net(tmp_path: Path, name: str, *layers: tuple[list[list[float]], str], dtype: str = "float64") -> str:
    doc = {"dtype": dtype, "layers": [{"W": W, "b": [0.0] * len(W[0]), "activation": act} for W, act in layers]}
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def _impl(tmp_path: Path, value: float, k: int = 1) -> str:
    path = tmp_path / "constant.py"
    path.write_text("import numpy as np\n\ndef forward(network, x):\n"
                    f"    x = np.atleast_2d(x)\n    return np.full((x.shape[0], {k}), {value!r}, dtype=x.dtype)\n")
    return f"{path}:forward"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str], *, wrong: bool = False) -> reliability.CliRun:
    with np.errstate(all="ignore"):
        return reliability.run_cli(argv, capsys, "printing", verdicts=True, wrong=wrong)


def test_a_sigmoid_far_below_2_to_the_minus_4096_prints_its_certified_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was "exact 4.7874887304760926790e-1234 (± 0)": the ball [0, 2^-4096] printed as its midpoint."""
    net = _net(tmp_path, "s11.json", ([[1.0]], "sigmoid"))
    r = _run(["check", "--weights", net, "--x=-1e6"], capsys)
    reliability.assert_clean(r, allowed=("ok",))
    assert "e-434295" in r.out and "e-1234" not in r.out


def test_sigmoid_of_minus_1e300_is_a_clean_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was exit 3: "ball nan is not finite" (arb's e^(1e300) is [+/- inf])."""
    net = _net(tmp_path, "big.json", ([[1e300]], "sigmoid"))
    reliability.assert_clean(_run(["check", "--weights", net, "--x=-1"], capsys), allowed=("ok",))
    wrong = _run(["check", "--weights", net, "--x=-1", "--impl", _impl(tmp_path, 0.25)], capsys, wrong=True)
    reliability.assert_clean(wrong, allowed=("failed",))


def test_a_wrong_sigmoid_of_minus_3_5e38_is_never_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was a latent false "ok": the bound fell back to the range cap and 0.9 and -0.9 passed."""
    net = _net(tmp_path, "s11.json", ([[1.0]], "sigmoid"))
    for value in (0.9, -0.9):
        r = _run(["check", "--weights", net, "--x=-3.5e38", "--impl", _impl(tmp_path, value)], capsys, wrong=True)
        reliability.assert_clean(r, allowed=("failed",))
    reliability.assert_clean(_run(["check", "--weights", net, "--x=-3.5e38"], capsys), allowed=("ok",))


def test_softmax_of_plus_and_minus_1e300_is_a_verdict_not_an_internal_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was exit 3 ("ball nan is not finite"); now a verdict (undecided where the bound proves nothing)."""
    net = _net(tmp_path, "sm.json", ([[1e300, 0.0, -1e300]], "softmax"))
    for x in ("--x=1", "--x=-1"):
        r = _run(["check", "--weights", net, x], capsys)
        reliability.assert_clean(r, allowed=("ok", "failed"))
    wrong = _run(["check", "--weights", net, "--x=1", "--impl", _impl(tmp_path, 0.5, 3)], capsys, wrong=True)
    reliability.assert_clean(wrong, allowed=("failed",))


def test_sums_near_1e400_are_undecided_or_failed_never_an_overflow_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was exit 3: OverflowError computing a relative error near 1e400 (W = [[1e200]], x = 1e200)."""
    net = _net(tmp_path, "huge.json", ([[1e200]], "identity"))
    r = _run(["check", "--weights", net, "--x=1e200"], capsys)
    reliability.assert_clean(r, allowed=("failed",))  # undecided: a correct result may overflow
    assert "no finite bound" in r.out
    wrong = _run(["check", "--weights", net, "--x=1e100", "--impl", _impl(tmp_path, 5.0)], capsys, wrong=True)
    reliability.assert_clean(wrong, allowed=("failed",))


def test_derive_on_a_60_layer_chain_is_a_clean_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was exit 3: RecursionError building the closed form of a 60-layer 1-1-...-1 network."""
    net = _net(tmp_path, "deep.json", *[([[0.5]], "sigmoid")] * 60)
    with np.errstate(all="ignore"):
        r = reliability.run_cli(["derive", "--weights", net, "--x", "1"], capsys, "printing")
    reliability.assert_clean(r, allowed=("ok", "error"))


def test_a_negative_value_after_x_is_its_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was "argument --x: expected one argument" for ``--x -1e6`` (``--x=-1e6`` worked)."""
    net = _net(tmp_path, "s11.json", ([[1.0]], "sigmoid"))
    reliability.assert_clean(_run(["check", "--weights", net, "--x", "-1e6"], capsys), allowed=("ok",))
