"""``nnverify derive`` and ``nnverify check`` through ``main(argv)``: output, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import nnverify.compare
from nnverify.cli import main
from nnverify.numeric import forward


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_book_network_prints_exact_digits_errors_bounds_and_verdict(capsys):
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert "y1   exact 0.31682707641102976546" in out and "error 0.74 ulp" in out
    assert "y2   exact 0.69627908986196680381" in out and "error 0.406 ulp" in out
    assert "verdict: ok" in out


def test_check_decimal_mode_uses_the_literal_text(capsys):
    code, out, _ = run(capsys, "check", "--mode", "decimal")
    assert code == 0
    assert "0.31682707641102974743" in out and "error 1.07 ulp" in out


def test_check_json_has_the_documented_fields(capsys):
    code, out, _ = run(capsys, "check", "--json", "--digits", "30")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True
    r = doc["results"][0]
    assert r["input"] == 1 and r["output"] == 1 and r["exact"].startswith("0.316827076411029765")
    assert len(r["exact"].replace("0.", "", 1)) == 30
    assert {"radius", "value", "ulp", "bound_ulp", "ok"} <= set(r)
    assert doc["max_ulp"] == pytest.approx(0.7402731578509024)


def test_check_exits_1_when_an_output_is_nudged_beyond_its_bound(capsys, monkeypatch):
    def nudged(network, x, **kw):
        fp = forward(network, x, **kw)
        y = fp.y.copy()
        y[..., 0] += 40 * np.spacing(y[..., 0])  # the bound is about 10 ulp
        return type(fp)(fp.x, fp.a, fp.z[:-1] + (y,))

    monkeypatch.setattr(nnverify.compare, "forward", nudged)
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert "failed" in out and "verdict: FAILED" in out
    code, out, _ = run(capsys, "check", "--json")
    assert code == 1 and json.loads(out)["ok"] is False
    code, _, _ = run(capsys, "check", "--tolerance-ulp", "60")  # an explicit tolerance on top
    assert code == 0


def test_check_many_inputs_prints_a_summary_unless_all(capsys):
    code, out, _ = run(capsys, "check", "--samples", "30", "--seed", "3")
    assert code == 0 and "input 1: x" not in out
    assert "checked 30 input(s) x 2 output(s) = 60: 60 ok" in out and "worst error: input" in out
    code, out, _ = run(capsys, "check", "--samples", "30", "--all")
    assert out.count("input ") >= 30


@pytest.mark.parametrize("dtype", [[], ["--dtype", "float64"]])
def test_check_book_mnist_1000_samples_passes(capsys, dtype):
    code, out, _ = run(capsys, "check", "--weights", "book-mnist", "--samples", "1000", *dtype)
    assert code == 0, out
    assert "= 10000: 10000 ok, 0 suspicious, 0 failed, 0 undecided" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "--weights", "book-mnist", "--mode", "decimal", "--samples", "1"], "--mode binary"),
        (["check", "--x", "1,2,3"], "takes 2"),
        (["check", "--digits", "0"], "--digits 0"),
        (["check", "--prec", "4"], "precision 4 bits"),
        (["check", "--tolerance-ulp", "-1"], "tolerance"),
        (["derive", "--unit", "q1"], "--unit 'q1'"),
        (["derive", "--unit", "a4_1"], "layers are 1 to 3"),
        (["derive", "--output", "3"], "outputs 1 to 2"),
        (["derive", "--mode", "symbolic", "--x", "1,0.5"], "--x needs numbers"),
        (["derive", "--weights", "book-mnist"], "up to 175,320 expression nodes, above --max-ops 100,000; pick one with --unit a1_1 or --output 1, or raise it with --max-ops 175320"),
        (["derive", "--weights", "book-mnist", "--output", "1"], "--max-ops 129977137"),
        (["derive", "--max-ops", "0"], "--max-ops 0"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_derive_book_network_layered_and_closed_forms_evaluate_to_the_references(capsys):
    code, out, _ = run(capsys, "derive", "--x", "1.0,0.5")
    assert code == 0
    assert "mode: decimal" in out
    assert "  a^{(1)}_1 = x_1/10 + x_2/5 + 1/10" in out
    assert "  z^{(1)}_1 = 1/(1 + exp(-a^{(1)}_1))" in out
    assert "= 0.31682707641102974743" in out and "= 0.69627908986196678148" in out
    code, out, _ = run(capsys, "derive", "--mode", "binary", "--output", "1", "--x", "1.0,0.5")
    assert code == 0 and out.rstrip().endswith("= 0.31682707641102976546")
    assert "3602879701896397/36028797018963968" in out  # the float nearest 0.1, exactly


def test_derive_unit_in_symbolic_mode_prints_the_general_formula(capsys):
    code, out, _ = run(capsys, "derive", "--mode", "symbolic", "--unit", "a2_1")
    assert code == 0
    # The book's subscripts: w^{(2)}_{12} is the weight from z^{(1)}_2 to a^{(2)}_1.
    assert "  a^{(2)}_1 = b^{(2)}_1 + w^{(2)}_{11}*z^{(1)}_1 + w^{(2)}_{12}*z^{(1)}_2 + w^{(2)}_{13}*z^{(1)}_3" in out
    assert "closed form in x:" in out and "w^{(1)}_{11}*x_1 - w^{(1)}_{12}*x_2" in out


def test_derive_latex_and_json_formats(capsys):
    code, out, _ = run(capsys, "derive", "--format", "latex", "--unit", "z1_1")
    assert code == 0
    assert "\\[ z^{(1)}_1 = \\frac{1}{1 + e^{- a^{(1)}_1}} \\]" in out
    code, out, _ = run(capsys, "derive", "--format", "json", "--x", "1.0,0.5", "--digits", "25")
    doc = json.loads(out)
    assert doc["mode"] == "decimal" and len(doc["units"]) == 7
    assert doc["outputs"][0]["value"].startswith("0.316827076411029747")
    assert doc["units"][0]["a"] == "x_1/10 + x_2/5 + 1/10"


def test_derive_book_mnist_one_unit_builds_quickly(capsys):
    code, out, _ = run(capsys, "derive", "--weights", "book-mnist", "--unit", "a3_2", "--mode", "symbolic")
    assert code == 0
    assert "a^{(3)}_2 = b^{(3)}_2 + w^{(3)}_{2,100}*z^{(2)}_{100} + " in out  # SymPy orders terms
    assert "above --max-ops 100,000; the layered definitions define it" in out


@pytest.mark.parametrize(
    ("mode", "reference"),
    [("decimal", "0.31682707641102974743"), ("binary", "0.31682707641102976546")],
)
def test_the_printed_closed_form_parsed_back_evaluates_to_the_reference(capsys, mode, reference):
    import sympy

    code, out, _ = run(capsys, "derive", "--mode", mode, "--output", "1")
    assert code == 0
    printed = out.strip().splitlines()[-1].split(" = ", 1)[1]  # the text a user would copy
    x1, x2 = sympy.symbols("x_1 x_2")
    expr = sympy.sympify(printed, locals={"x_1": x1, "x_2": x2})
    value = expr.evalf(30, subs={x1: sympy.Rational(1), x2: sympy.Rational(1, 2)})
    assert str(sympy.Float(value, 20)) == reference


@pytest.mark.parametrize("name", ["book", "book-mnist"])
def test_the_size_bound_checked_before_building_is_never_below_the_real_size(name: str) -> None:
    from nnverify.symbolic import build_model
    from nnverify.symbolic.derive import layered_size_bound
    from nnverify.weights import load_network

    net = load_network(name)
    model = build_model(net)
    real = sum(model.layered_size(l, j) for l in range(1, model.n_layers + 1)
               for j in range(1, len(model.a[l - 1]) + 1))
    assert real <= layered_size_bound(net) <= 2 * real


def test_a_60_layer_chain_derives_its_layers_and_refuses_only_the_too_deep_closed_form(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Its closed form nests 361 levels: SymPy's printers would exhaust the stack (was exit 3)."""
    path = tmp_path / "deep.json"
    path.write_text(json.dumps({"layers": [{"W": [[0.5]], "b": [0.1], "activation": "sigmoid"}] * 60}))
    code, out, _ = run(capsys, "derive", "--weights", str(path))
    assert code == 0 and "361 levels of nesting, beyond the 200" in out and "z^{(60)}_1 = " in out
    code, _, err = run(capsys, "derive", "--weights", str(path), "--output", "1")
    assert code == 2 and "would nest 361 levels deep" in err and "internal error" not in err
    shallow = tmp_path / "shallow.json"
    shallow.write_text(json.dumps({"layers": [{"W": [[0.5]], "b": [0.1], "activation": "sigmoid"}] * 3}))
    code, out, _ = run(capsys, "derive", "--weights", str(shallow), "--output", "1", "--x", "1")
    assert code == 0 and "levels of nesting" not in out  # the limit bites only where it must
