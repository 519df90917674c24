"""The pytest plugin: ``pytest --nnverify-impl FILE.py:forward`` runs the suite, with Hypothesis' reporting."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _pytest(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *argv],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    from importlib.metadata import entry_points

    assert "nnverify.pytest_plugin" in [e.value for e in entry_points(group="pytest11")]


def test_a_correct_forward_passes_every_law_that_applies(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "ch03_fixed.py", tmp_path / "my_code.py")
    out = _pytest(tmp_path, "--nnverify-impl", "my_code.py:forward", "--nnverify-examples", "10", "-rs")
    assert out.returncode == 0, out.stdout
    assert "4 passed, 4 skipped" in out.stdout
    assert "is a whole forward pass; give --impl-sigmoid" in out.stdout  # the skip reasons are the suite's


def test_a_broken_forward_fails_with_hypothesis_and_nnverify_reports(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "broken_plus_1e12.py", tmp_path / "my_code.py")
    out = _pytest(tmp_path, "--nnverify-impl", "my_code.py:forward", "--nnverify-examples", "10")
    assert out.returncode == 1
    assert "nnverify[agreement]" in out.stdout and "Failing test case: law(" in out.stdout  # Hypothesis' own
    assert "nnverify: outputs within the derived bound of the exact values" in out.stdout
    assert "the call: my_code.py:forward on x of shape" in out.stdout
    assert "--replay CASE): [{\"$network\":\"given\"}" in out.stdout


def test_without_the_option_the_plugin_adds_nothing(tmp_path: Path) -> None:
    (tmp_path / "test_nothing.py").write_text("def test_one():\n    pass\n")
    out = _pytest(tmp_path)
    assert out.returncode == 0 and "1 passed" in out.stdout and "nnverify" not in out.stdout


def test_a_bad_spec_is_a_usage_error(tmp_path: Path) -> None:
    out = _pytest(tmp_path, "--nnverify-impl", "nowhere.py:forward")
    assert out.returncode == 4 and "nnverify: nowhere.py: no such file" in out.stderr


@pytest.mark.parametrize("forward, outcome", [("ch03_fixed", "4 passed, 4 skipped"), ("broken_plus_1e12", "2 failed")])
def test_nnverify_suite_makes_a_test_class_in_the_users_file(tmp_path: Path, forward: str, outcome: str) -> None:
    shutil.copy(EXAMPLES / f"{forward}.py", tmp_path / "my_code.py")
    (tmp_path / "test_mine.py").write_text(
        "from my_code import forward\nfrom nnverify.testing import nnverify_suite\n\n"
        "TestMyForward = nnverify_suite(forward, examples=10)\n")
    out = _pytest(tmp_path)
    assert outcome in out.stdout, out.stdout
