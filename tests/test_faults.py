"""Honest verdicts under faults: what the other subcommands do when the math, the user's code or
TeX misbehaves. Each behaviour belongs to another part of nnverify (the oracle, ``nnverify test``,
``nnverify report``); these tests attack it from outside and are skipped while it is absent.

- a ball too wide to decide is "undecided", a higher precision is tried, and it is never "ok";
- NaN from a user's implementation is a failure, never a pass; fp warnings in user code are
  reported; a user function that hangs is stopped after ``--impl-timeout``;
- TeX runs under a timeout that kills its whole process group.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import reliability

from nnverify.cli import SUBCOMMANDS


def _needs(sub: str) -> Any:
    return pytest.mark.skipif(sub not in SUBCOMMANDS, reason=f"nnverify {sub} is not registered")


# -- the oracle: a ball too wide to decide ----------------------------------------------------------

@_needs("check")
def test_a_ball_too_wide_to_decide_is_undecided_never_ok(capsys: pytest.CaptureFixture[str]) -> None:
    """At 16-36 bits the enclosure is ~1e-11 wide, far wider than the ~1e-15 bound: no verdict."""
    r = reliability.run_cli(["check", "--digits", "1", "--prec", "16", "--max-prec", "16", "--json"],
                            capsys, "faults", verdicts=True)
    reliability.assert_clean(r, allowed=("failed",))
    doc = json.loads(r.out)
    assert doc["ok"] is False and doc["counts"]["ok"] == 0 and doc["counts"]["undecided"] == 2


@_needs("check")
def test_an_undecided_ball_gets_a_higher_precision(capsys: pytest.CaptureFixture[str]) -> None:
    r = reliability.run_cli(["check", "--digits", "1", "--prec", "16", "--max-prec", "256", "--json"],
                            capsys, "faults", verdicts=True)
    reliability.assert_clean(r, allowed=("ok",))
    doc = json.loads(r.out)
    assert doc["counts"]["undecided"] == 0 and doc["max_prec_used"] > doc["prec"]


def test_a_wrong_value_inside_a_wide_ball_is_not_ok() -> None:
    """A value 1e-6 off, checked at 16 bits: undecided there, failed once the precision rises."""
    compare = pytest.importorskip("nnverify.compare")
    from nnverify.numeric import forward
    from nnverify.weights import BOOK_X, book_network

    net = book_network()
    y = forward(net, BOOK_X).y + 1e-6
    wide = compare.check_outputs(net, BOOK_X, y, prec=16, max_prec=16, progress=False)
    assert {o.status for o in wide.results} == {"undecided"} and not wide.ok
    raised = compare.check_outputs(net, BOOK_X, y, prec=16, max_prec=512, progress=False)
    assert {o.status for o in raised.results} == {"failed"} and not raised.ok
    reliability.record("faults", "failed")
    reliability.record("faults", "failed")


def test_nan_outputs_are_failed_not_ok() -> None:
    compare = pytest.importorskip("nnverify.compare")
    from nnverify.weights import BOOK_X, book_network

    for bad in (np.nan, np.inf, -np.inf):
        rep = compare.check_outputs(book_network(), BOOK_X, np.array([bad, 0.7]), progress=False)
        assert rep.results[0].status == "failed" and not rep.ok
        reliability.record("faults", "failed")


# -- user implementations under test -------------------------------------------------------------

IMPLS = {
    "nan": ("import numpy as np\n"
            "def forward(network, x):\n"
            "    return np.full(np.shape(x)[:-1] + (2,), np.nan)\n",
            "outputs must be finite"),
    "fp-warning": ("import numpy as np\n"
                   "def forward(network, x):\n"
                   "    np.exp(np.float64(1000.0))  # overflow, result unused\n"
                   "    z = x\n"
                   "    n = len(network) // 2\n"
                   "    for l in range(1, n + 1):\n"
                   "        a = z @ network[f'W{l}'] + network[f'b{l}']\n"
                   "        z = 1 / (1 + np.exp(-a)) if l < n else a\n"
                   "    return z\n",
                   "overflow encountered in exp"),
    "spins": ("def forward(network, x):\n    while True:\n        pass\n", "did not return within 0.5 s"),
    "sleeps": ("import time\ndef forward(network, x):\n    time.sleep(3600)\n", "did not return within 0.5 s"),
}


@_needs("test")
@pytest.mark.parametrize("kind", sorted(IMPLS))
def test_a_faulty_user_implementation_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    source, message = IMPLS[kind]
    (tmp_path / "impl.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    r = reliability.run_cli(["test", "--impl", "impl.py:forward", "--impl-timeout", "0.5", "--examples", "3"],
                            capsys, "faults", verdicts=True)
    reliability.assert_clean(r, allowed=("failed",))
    assert message in r.out
    assert "impl.py:" in r.out  # the user's own line is shown


_STUBBORN = ("import time\n"
             "def forward(network, x):\n"
             "    while True:  # a bare except in a loop swallows whatever interrupts it\n"
             "        try:\n"
             "            time.sleep(10)\n"
             "        except BaseException:\n"
             "            pass\n")


@_needs("test")
def test_a_user_implementation_that_swallows_the_timeout_is_still_stopped(tmp_path: Path) -> None:
    (tmp_path / "impl.py").write_text(_STUBBORN)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "nnverify", "test", "--impl", "impl.py:forward",
                               "--impl-timeout", "0.5", "--examples", "2"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=8)
        outcome = reliability.classify(proc.returncode, proc.stderr, verdicts=True)
    except subprocess.TimeoutExpired:
        outcome = "hung"
    reliability.record("faults", outcome, time.perf_counter() - t0,
                       note="nnverify test --impl IMPL --impl-timeout 0.5, where IMPL's loop has a bare "
                       "'except BaseException: pass' that swallows the timeout (tests/test_faults.py)")
    assert outcome == "failed"


# -- TeX -----------------------------------------------------------------------------------------

def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_tex_timeout_kills_the_whole_process_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in pdflatex that starts a child (as mktexpk would) and then never ends."""
    compile_mod = pytest.importorskip("nnverify.report.compile")
    pids = tmp_path / "pids"
    fake = tmp_path / "pdflatex"
    fake.write_text(f"#!/bin/sh\nsleep 300 &\necho $$ $! > {pids}\nwhile :; do :; done\n")
    fake.chmod(0o755)
    monkeypatch.setattr(compile_mod, "find_pdflatex", lambda: str(fake))
    t0 = time.perf_counter()
    with pytest.raises(compile_mod.TexError, match="longer than 1 s and was stopped; raise the limit with "
                       "--tex-timeout"):
        compile_mod.compile_pdf("\\documentclass{article}\\begin{document}x\\end{document}", timeout=1.0)
    seconds = time.perf_counter() - t0
    leader, child = (int(p) for p in pids.read_text().split())
    time.sleep(0.2)
    leaked = [p for p in (leader, child) if _alive(p)]
    for p in leaked:
        os.kill(p, 9)
    reliability.record("faults", "error" if not leaked and seconds < 5 else "hung", seconds)
    assert leaked == [], "a process of the TeX group outlived the timeout"
    assert seconds < 5


def test_a_tex_document_that_loops_forever_is_stopped(tmp_path: Path) -> None:
    compile_mod = pytest.importorskip("nnverify.report.compile")
    try:
        compile_mod.find_pdflatex()
    except compile_mod.TexNotFoundError:
        pytest.skip("pdflatex is not installed")
    t0 = time.perf_counter()
    with pytest.raises(compile_mod.TexError, match="was stopped"):
        compile_mod.compile_pdf("\\documentclass{article}\\def\\x{\\x}\\begin{document}\\x\\end{document}",
                                timeout=1.0)
    seconds = time.perf_counter() - t0
    reliability.record("faults", "error" if seconds < 5 else "hung", seconds)
    assert seconds < 5


@_needs("report")
def test_report_whose_tex_times_out_leaves_no_half_written_pdf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    compile_mod = pytest.importorskip("nnverify.report.compile")
    fake = tmp_path / "pdflatex"
    fake.write_text("#!/bin/sh\necho '%PDF-1.5 half' > report.pdf\nwhile :; do :; done\n")
    fake.chmod(0o755)
    monkeypatch.setattr(compile_mod, "find_pdflatex", lambda: str(fake))
    monkeypatch.chdir(tmp_path)
    old = b"%PDF previous report\n"
    (tmp_path / "sheet.pdf").write_bytes(old)
    r = reliability.run_cli(["report", "-o", "sheet.tex", "--pdf", "--tex-timeout", "1", "--force"],
                            capsys, "faults")
    reliability.assert_clean(r, allowed=("error",))
    assert "--tex-timeout" in r.err
    assert (tmp_path / "sheet.pdf").read_bytes() == old  # the previous PDF, not TeX's half one
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
