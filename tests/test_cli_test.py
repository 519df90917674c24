"""``nnverify test``: exit codes, the summary table, --json, and reproduce commands that reproduce."""

from __future__ import annotations

import json
import shlex
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
