"""``nnverify test``: exit codes, the summary table, --json, and reproduce commands that reproduce."""

from __future__ import annotations

import json
import shlex
import textwrap
from pathlib import Path

import pytest

from nnverify.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["test", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_book_network_passes_and_the_table_lists_every_property(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--examples", "20")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "network: book (2-3-2-2, float64): sigmoid -> sigmoid -> identity"
    assert lines[1] == "implementation: nnverify forward"
    assert lines[2] == "seed 0, 20 examples per property"
    assert lines[3] == "inputs: every value in [-10, 10] (the default; the network declares no input domain)"
    assert lines[5] == "property             examples  verdict  worst error"
    table = [line.split()[:3] for line in lines[6:14]]
    assert table == [
        ["agreement", "20", "passed"],
        ["sigmoid-range", "20", "passed"],
        ["identity-output", "20", "passed"],
        ["softmax-laws", "0", "skipped"],
        ["batch-consistency", "20", "passed"],
        ["hidden-permutation", "20", "passed"],
        ["sigmoid-symmetry", "20", "passed"],
        ["worst-case", "20", "passed"],
    ]
    assert "8 properties: 7 passed, 0 failed, 1 skipped" in out
    assert "  skipped softmax-laws: the network has no softmax output and no --impl-softmax was given" in out
    assert "worst case found: x = [" in out
    assert err == ""  # no progress line when stderr is not a terminal


def test_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--examples", "5", "--only", "agreement,softmax-laws", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True
    assert [(p["name"], p["status"], p["examples"]) for p in doc["properties"]] == [
        ("agreement", "passed", 5), ("softmax-laws", "skipped", 0)]
    assert all(p["counterexample"] is None for p in doc["properties"])


def test_a_failure_exits_1_with_counterexample_and_reproduce_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--examples", "20", "--only", "agreement", "--impl",
                        f"{EXAMPLES}/broken_plus_1e12.py:forward")
    assert code == 1
    assert "FAILED agreement: outputs within the derived bound of the exact values" in out
    assert "  exact: " in out and "  observed: " in out and "  input: " in out
    assert f"  reproduce: nnverify test --only agreement --seed 0 --examples 20 --impl {EXAMPLES}/broken_plus_1e12.py:forward" in out


@pytest.mark.parametrize("extra", [
    ["--impl", f"{EXAMPLES}/broken_float32.py:forward", "--random-networks", "--seed", "5",
     "--only", "agreement,batch-consistency"],
    ["--impl-softmax", f"{EXAMPLES}/broken_softmax_1d.py:softmax", "--seed", "11"],
    ["--impl", f"{EXAMPLES}/broken_transposed.py:forward", "--low", "-1", "--high", "1"],
])
def test_the_reproduce_command_really_reproduces_the_counterexample(
    capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    code, out, _ = _run(capsys, "--profile", "quick", "--json", *extra)
    assert code == 1
    failed = [p for p in json.loads(out)["properties"] if p["status"] == "failed"]
    assert failed
    for prop in failed[:2]:
        argv = shlex.split(prop["reproduce"])
        assert argv[:4] == ["nnverify", "test", "--only", prop["name"]]
        again_code = main(argv[1:] + ["--json"])
        again = json.loads(capsys.readouterr().out)["properties"]
        assert again_code == 1 and len(again) == 1
        assert again[0]["counterexample"] == prop["counterexample"]


def test_the_books_typo_is_reported_with_the_users_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--examples", "5", "--only", "agreement", "--impl", f"{EXAMPLES}/ch03_book.py:forward")
    assert code == 1 and err == ""
    assert "NameError: name 'identify_function' is not defined" in out
    assert "ch03_book.py:42 in forward: y = identify_function(a3)" in out


def test_a_hang_is_reported_not_waited_for(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--examples", "5", "--impl", f"{EXAMPLES}/user_errors.py:hangs", "--impl-timeout", "0.3")
    assert code == 1
    assert "timeout: did not return within 0.3 s (--impl-timeout)" in out
    assert "skipped worst-case: not run: the implementation under test hung in agreement" in out


BAD = [
    (["--impl", "nowhere.py:forward"], "nowhere.py: no such file"),
    (["--impl", f"{EXAMPLES}/ch03_book.py:backward"], "has no function 'backward'"),
    (["--only", "agreemnet"], "--only 'agreemnet' is not a property"),
    (["--examples", "0"], "--examples 0: must be at least 1"),
    (["--impl-timeout", "-1"], "--impl-timeout -1.0: must be >= 0"),
    (["--low", "2", "--high", "1"], "--low 2.0 --high 1.0: need finite low <= high"),
    (["--profile", "slow"], "invalid choice: 'slow'"),
]


@pytest.mark.parametrize("argv, message", BAD, ids=[m for _, m in BAD])
def test_bad_usage_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("inside", [True, False], ids=["file-in-working-folder", "file-elsewhere"])
def test_an_import_error_in_the_users_file_exits_2_naming_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inside: bool
) -> None:
    bad = tmp_path / "user" / "script.py"
    bad.parent.mkdir()
    bad.write_text("import numpy as np\nnetwork = init_work()\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path if inside else elsewhere)
    shown = "user/script.py" if inside else str(bad)  # relative only inside the working folder, never ../
    code, out, err = _run(capsys, "--impl", f"{bad}:forward")
    assert code == 2
    assert err.strip() == (f"nnverify test: error: {bad}: cannot be imported: raised NameError: name 'init_work' "
                           f"is not defined at {shown}:2 in <module>: network = init_work()")


def test_list_names_every_property(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--list")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == [
        "agreement", "sigmoid-range", "identity-output", "softmax-laws", "batch-consistency",
        "hidden-permutation", "sigmoid-symmetry", "worst-case"]


def test_the_reproduce_command_reproduces_in_a_fresh_process_with_another_hash_seed() -> None:
    import os
    import subprocess
    import sys

    def run(argv: list[str], hash_seed: str) -> dict:  # type: ignore[type-arg]
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        out = subprocess.run([sys.executable, "-m", "nnverify", *argv, "--json"], capture_output=True, text=True,
                             env=env, cwd=EXAMPLES.parent)
        assert out.returncode == 1, out.stderr
        return json.loads(out.stdout)

    first = run(["test", "--only", "agreement", "--seed", "9", "--profile", "quick",
                 "--impl", "examples/broken_transposed.py:forward"], "1")
    prop = first["properties"][0]
    again = run(shlex.split(prop["reproduce"])[1:], "2")["properties"][0]
    assert again["counterexample"] == prop["counterexample"] and again["examples"] == prop["examples"]


def test_same_seed_same_run_whatever_ran_before_and_wherever_it_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hypothesis mixes constants from loaded local source files into its examples; nnverify
    switches that off, so a user file imported earlier (or the working folder) changes nothing."""
    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)
    first = _run(capsys, "--json")
    assert _run(capsys, "--only", "agreement", "--impl", "examples/broken_plus_1e12.py:forward")[0] == 1
    second = _run(capsys, "--json")
    monkeypatch.chdir(tmp_path)
    third = _run(capsys, "--json")

    def stable(run: tuple[int, str, str]) -> list[object]:
        doc = json.loads(run[1])
        return [(p["name"], p["status"], p["examples"], p.get("worst")) for p in doc["properties"]]

    assert first[0] == second[0] == third[0] == 0
    assert stable(first) == stable(second) == stable(third)


# -- issue 12: the call exactly as made, contracts, and the smaller points ---------------------------

SOFTMAX_NET = ["--activations", "sigmoid,sigmoid,softmax"]
BATCH_BUG = ["--impl", f"{EXAMPLES}/batch_softmax_forward.py:forward", *SOFTMAX_NET]


def test_a_batch_only_bug_is_recorded_as_the_whole_call_and_its_replay_fails_the_same_way(
    capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "--only", "agreement", "--profile", "quick", "--json", *BATCH_BUG)
    prop = json.loads(out)["properties"][0]
    cex = prop["counterexample"]
    call = cex["call"]
    assert code == 1 and call["shape"][0] >= 2 and call["dtype"] == "float64" and call["row"] >= 1
    assert f"in a batch of {call['shape'][0]}" in cex["message"]
    assert cex["input"] == call["x"][call["row"] - 1]  # the row shown is the row of that very call
    argv = shlex.split(prop["replay"])
    assert argv[:4] == ["nnverify", "test", "--only", "agreement"] and "--replay" in argv
    again_code = main(argv[1:] + ["--json"])
    again = json.loads(capsys.readouterr().out)["properties"][0]["counterexample"]
    assert again_code == 1
    assert (again["message"], again["call"]) == (cex["message"], call)
    # The failing row alone is computed right: only the batch shows the bug.
    alone = json.dumps([{"$network": "given"}, {"$array": call["x"][call["row"] - 1], "dtype": "float64"}])
    assert main(["test", "--only", "agreement", *BATCH_BUG, "--replay", alone]) == 0
    capsys.readouterr()


def test_the_text_says_which_row_of_which_batch_and_prints_the_replay_command(
    capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "--only", "agreement", "--profile", "quick", *BATCH_BUG)
    assert code == 1
    assert "y1 of row 1 in a batch of 2 is " in out
    assert "  call: " in out and "on x of shape (2, 2) float64; the failing row is 1 of 2" in out
    assert "  x as passed: [[" in out
    assert "  replay this case: nnverify test --only agreement" in out and "--replay '[" in out


def test_replay_from_a_saved_json_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = _run(capsys, "--only", "agreement", "--profile", "quick", "--json", *BATCH_BUG)
    run = tmp_path / "run.json"
    run.write_text(out)
    again_code, again_out, _ = _run(capsys, "--only", "agreement", *BATCH_BUG, "--replay", f"@{run}", "--json")
    assert code == again_code == 1
    assert json.loads(again_out)["properties"][0]["counterexample"]["call"] == \
        json.loads(out)["properties"][0]["counterexample"]["call"]


@pytest.mark.parametrize("argv, message", [
    (["--replay", "[]"], "--replay runs one property on one case; name it with --only NAME"),
    (["--only", "agreement", "--replay", "{not json"], "--replay: is not JSON"),
    (["--only", "agreement", "--replay", '[{"$network":"given"},{"$array":[0.1],"dtype":"int8"}]'],
     "expected float32 or float64"),
    (["--only", "agreement", "--replay", "@/nonexistent/run.json"], "cannot be read"),
    (["--max-failures", "0"], "--max-failures 0: must be at least 1"),
])
def test_bad_replay_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_up_to_max_failures_distinct_counterexamples_are_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Two different bugs: off by 1e-9 on one input, NaN in every batch.
    user = tmp_path / "two_bugs.py"
    user.write_text(textwrap.dedent("""
        import numpy as np
        from examples_ch03 import forward as right
        def forward(network, x):
            y = right(network, x)
            return y + 1e-9 if np.ndim(x) == 1 else y * np.nan
        """))
    (tmp_path / "examples_ch03.py").write_text((EXAMPLES / "ch03_fixed.py").read_text())
    code, out, _ = _run(capsys, "--only", "agreement", "--json", "--impl", f"{user}:forward")
    prop = json.loads(out)["properties"][0]
    laws = sorted(c["law"] for c in prop["counterexamples"])
    assert code == 1 and laws == ["outputs must be finite (no NaN, no infinity)",
                                  "outputs within the derived bound of the exact values"]
    code1, out1, _ = _run(capsys, "--only", "agreement", "--json", "--max-failures", "1", "--impl", f"{user}:forward")
    assert code1 == 1 and len(json.loads(out1)["properties"][0]["counterexamples"]) == 1


def test_nan_is_reported_as_nan_at_output_k_before_any_warning(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--only", "agreement", "--profile", "quick", "--dtype", "float32", "--activations",
                        "tanh,tanh,identity", "--low", "-200", "--high", "200", "--impl",
                        f"{EXAMPLES}/float32_tanh.py:forward")
    assert code == 1
    line = next(ln for ln in out.splitlines() if "non-finite:" in ln)
    assert "returned NaN at output " in line
    assert line.index("returned NaN") < line.index("RuntimeWarning: overflow encountered in exp")


def test_a_1_by_k_result_for_one_input_passes_with_a_note(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--profile", "quick", "--impl", f"{EXAMPLES}/keras_like.py:predict")
    assert code == 0
    assert "note: " in out and "keras_like.py:predict returned shape (1, 2) for one input; taken as (2,)" in out


FLOAT64_RESULT = """
import numpy as np
def forward(network, x):
    net = {k: v.astype(np.float64) for k, v in network.items()}
    z = np.asarray(x, dtype=np.float64)
    for l in (1, 2, 3):
        a = z @ net[f"W{l}"] + net[f"b{l}"]
        z = 1 / (1 + np.exp(-a)) if l < 3 else a
    return z
"""


def test_a_float64_result_from_a_float32_network_is_flagged_and_fails_under_strict_dtype(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    user = tmp_path / "promotes.py"
    user.write_text(FLOAT64_RESULT)
    argv = ["--only", "agreement", "--profile", "quick", "--dtype", "float32", "--impl", f"{user}:forward"]
    code, out, _ = _run(capsys, *argv)
    assert code == 0 and "warning: result dtype float64, network float32" in out
    code, out, _ = _run(capsys, *argv, "--strict-dtype")
    assert code == 1 and "wrong-dtype: returned dtype float64; the network is float32 (--strict-dtype)" in out


def test_single_input_skips_the_batch_law_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--profile", "quick", "--single-input", "--impl", f"{EXAMPLES}/one_input_only.py:forward")
    assert code == 0
    assert "skipped batch-consistency: --single-input: " in out
    assert "note: --single-input: " in out and "a batch is passed row by row" in out
    code, out, _ = _run(capsys, "--profile", "quick", "--only", "agreement", "--impl",
                        f"{EXAMPLES}/one_input_only.py:forward")
    assert code == 1 and "ValueError: expected 2 inputs, got 1" in out  # without the flag, a batch breaks it


def test_the_worst_error_column_of_a_failed_property_is_its_failure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--profile", "quick", "--only", "agreement,batch-consistency",
                        "--impl", f"{EXAMPLES}/broken_plus_1e12.py:forward", *[])
    assert code == 1
    row = next(ln for ln in out.splitlines() if ln.startswith("agreement "))
    assert row.split()[2] == "failed" and row.endswith(" ulp") and "e+04" in row
    code, out, _ = _run(capsys, "--profile", "quick", "--only", "agreement", "--impl", f"{EXAMPLES}/ch03_book.py:forward")
    row = next(ln for ln in out.splitlines() if ln.startswith("agreement "))
    assert row.split()[-1] == "raised"


def test_impl_softmax_on_a_network_without_softmax_reports_only_the_users_code(
    capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "--profile", "quick", "--impl-softmax", f"{EXAMPLES}/correct_einsum.py:softmax")
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("property ")) + 1
    table = [ln.split()[:3] for ln in lines[start:start + 8]]
    assert code == 0
    assert [r[0] for r in table if r[2] == "passed"] == ["softmax-laws"]
    assert "never calls --impl-softmax" in out and "would test only nnverify's own forward" in out


def test_the_list_of_names_shows_only_what_the_file_defines(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    user = tmp_path / "many.py"
    user.write_text("import numpy as np\nfrom math import sqrt, exp\n"
                    + "".join(f"def f{i}(network, x):\n    return x\n" for i in range(12)) + "class Net:\n    pass\n")
    code, _, err = _run(capsys, "--impl", f"{user}:nosuch")
    assert code == 2
    listed = err.split("(it defines ")[1].split(")")[0].split(", ")
    assert listed == ["Net"] + sorted(f"f{i}" for i in range(12))  # all of them, none imported


def test_hypothesis_overly_large_repr_warning_does_not_leak() -> None:
    """Hypothesis warns (HypothesisWarning, from its site-packages) when it builds the repr of a huge
    example, e.g. a batch of MNIST inputs; the runner silences exactly that warning."""
    import warnings

    from hypothesis import strategies as st
    from hypothesis.errors import HypothesisWarning

    import nnverify
    from nnverify.suite import SuiteConfig
    from nnverify.suite.laws.base import LawBroken, Property
    from nnverify.suite.runner import run_property

    class Huge(Property):
        name = "huge"

        def strategy(self, ctx):  # type: ignore[no-untyped-def]
            return st.just(list(range(40000)))

        def check(self, ctx, example, rec):  # type: ignore[no-untyped-def]
            warnings.warn("Generating overly large repr. This is an expensive operation", HypothesisWarning,
                          stacklevel=2)
            raise LawBroken("always broken", "for the test")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = run_property(Huge(), SuiteConfig(nnverify.book_network()), max_examples=2)
    assert res.status == "failed"
    assert not [w for w in caught if "overly large repr" in str(w.message)]


def test_in_process_the_users_exit_would_end_the_run_which_is_why_isolation_is_the_default(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    user = tmp_path / "exits.py"
    user.write_text("import os\ndef forward(network, x):\n    os._exit(0)\n")
    argv = [sys.executable, "-m", "nnverify", "test", "--only", "agreement", "--examples", "3", "--impl", f"{user}:forward"]
    env = dict(os.environ, PYTHONPATH=str(EXAMPLES.parent))
    inside = subprocess.run([*argv, "--impl-in-process"], capture_output=True, text=True, env=env, timeout=60)
    isolated = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    assert (inside.returncode, inside.stdout) == (0, "")  # the silent pass of issue 15
    assert isolated.returncode == 1 and "exited with status 0 during call 1" in isolated.stdout


CLASS_ERRORS = [
    ("class Net:\n    def __init__(self, a, b, c):\n        pass\n    def predict(self, x):\n        return x\n",
     "Net.predict", "nnverify cannot build Net (it needs 3 arguments); give the class a from_network(network) "
     "classmethod or an __init__(self, network), or name a factory: --impl-factory FILE.py:make"),
    ("class Net:\n    def predict(self, x):\n        return x\n", "Net.forward", "class Net has no method 'forward'"),
    ("class Net:\n    def helper(self):\n        pass\n", "Net", "defines none of __call__, predict, forward"),
    ("def forward(a, b, c):\n    return a\n", "forward", "takes 3 arguments; a forward takes (network, x), or x alone"),
]


@pytest.mark.parametrize("body, name, message", CLASS_ERRORS, ids=[m[:40] for _, _, m in CLASS_ERRORS])
def test_a_class_that_does_not_fit_the_protocol_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, body: str, name: str, message: str
) -> None:
    user = tmp_path / "cls.py"
    user.write_text(body)
    code, out, err = _run(capsys, "--impl", f"{user}:{name}")
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_a_class_with_no_book_dict_cannot_be_given_the_network(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    user = tmp_path / "cls.py"
    user.write_text("import numpy as np\nclass Net:\n    def predict(self, x):\n        return np.zeros(2)\n")
    code, out, _ = _run(capsys, "--only", "agreement", "--examples", "3", "--impl", f"{user}:Net.predict")
    assert code == 1 and "holds no dict of W1, b1, ... arrays" in out
