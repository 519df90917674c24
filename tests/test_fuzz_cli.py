"""Fuzzing the command line: every subcommand, every option, hostile values and paths.

The subcommands and their options are read from the parser itself (``nnverify.cli.SUBCOMMANDS``),
so a new subcommand is fuzzed as soon as it is registered. Each case runs ``main(argv)``
in-process under a 5 s limit in a fresh folder holding good and bad files, and must end in
exit 0, exit 2 with one line on stderr, or (for checking subcommands) exit 1 — never another
code, a traceback, a hang, a changed file it was not asked to write or a temp file left behind.

Cases are drawn from ``random.Random`` seeded by the case id, not Hypothesis: ``nnverify test``
runs Hypothesis itself, and Hypothesis refuses to be nested.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import reliability
from corpus import hostile as H
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnverify.cli import SUBCOMMANDS, build_parser

#: Subcommands that report a verdict: exit 1 (a verification failed) is a legitimate outcome.
NO_VERDICT = {"forward", "convert"}
#: Cases per subcommand (slow subcommands get fewer: each passing case does the real work,
#: a property-test run or a TeX compile of a second or two).
CASES = {"forward": 150, "convert": 100, "derive": 25, "check": 25, "report": 8}
DEFAULT_CASES = 12


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _options(sub: argparse.ArgumentParser) -> list[argparse.Action]:
    # --debug prints tracebacks by design; -h/--help is tried on its own below
    return [a for a in sub._actions if a.option_strings
            and not set(a.option_strings) & {"--debug", "-h", "--help"}]


OUTPUT_DESTS = {"output", "out", "o", "tex", "pdf", "report", "save", "outdir", "output_dir"}


def _is_output(action: argparse.Action) -> bool:
    names = {action.dest.lower()} | {s.lstrip("-").replace("-", "_") for s in action.option_strings}
    return bool(names & OUTPUT_DESTS) or "output" in action.dest or (action.help or "").lower().startswith(
        ("file to write", "write ", "where to write"))


# -- the workspace every case runs in -------------------------------------------------------------

FOREIGN = b"precious: not written by nnverify\n"


def make_workspace(root: Path) -> None:
    """Good and bad files next to each other; the case runs with this as its working folder."""
    net = {"W1": np.array([[0.5, -0.25], [1.0, 2.0]]), "b1": np.array([0.125, 0.0])}
    (root / "good.json").write_text(json.dumps({"W1": [["0.5", "-0.25"], ["1", "2"]], "b1": ["0.125", "0"]}))
    (root / "good.npz").write_bytes(H.npz_arrays(net))
    (root / "good.pkl").write_bytes(pickle.dumps(net, protocol=3))
    (root / "f32.npz").write_bytes(H.npz_arrays({k: v.astype(np.float32) for k, v in net.items()}))
    (root / "bad.json").write_bytes(b'{"W1": [[0.5, "x"]], "b1": [NaN]}')
    (root / "evil.pkl").write_bytes(H.tiny_book_pickle({"W2": H.call(H.glob("os", "system"),
                                                                     H.text("touch PWNED"))}))
    (root / "huge.npz").write_bytes(H.npz_of({
        "W1.npy": H.npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (10**9, 10**9)}),
        "b1.npy": H.npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (10**9,)})}))
    (root / "inputs.csv").write_text("1,0.5\n0,0\n-0.0,5e-324\n")
    (root / "nan.csv").write_text("1,nan\n")
    (root / "wide.json").write_text("[[1, 2, 3]]")
    np.save(root / "inputs.npy", np.array([[1.0, 0.5]]))
    (root / "huge.npy").write_bytes(H.npy_bytes({"descr": "<f8", "fortran_order": False,
                                                 "shape": (10**9, 10**9)}))
    (root / "obj.npy").write_bytes(H.npy_bytes({"descr": "|O", "fortran_order": False, "shape": (1, 2)},
                                               b"\0" * 16))
    (root / "impl_ok.py").write_text(
        "import numpy as np\n"
        "def sigmoid(a):\n    return 1 / (1 + np.exp(-a))\n"
        "def forward(network, x):\n"
        "    z = x\n"
        "    n = len(network) // 2\n"
        "    for l in range(1, n + 1):\n"
        "        a = z @ network[f'W{l}'] + network[f'b{l}']\n"
        "        z = sigmoid(a) if l < n else a\n"
        "    return z\n")
    (root / "impl_raises.py").write_text("def forward(network, x):\n    raise ValueError('user bug')\n")
    (root / "impl_nan.py").write_text(
        "import numpy as np\ndef forward(network, x):\n    return np.full(2, np.nan)\n")
    (root / "impl_syntax.py").write_text("def forward(network, x:\n")
    (root / "impl_exit.py").write_text("import sys\ndef forward(network, x):\n    sys.exit(0)\n")
    (root / "folder").mkdir()
    (root / "foreign.json").write_bytes(FOREIGN)
    (root / "foreign.tex").write_bytes(FOREIGN)
    (root / "foreign.pdf").write_bytes(FOREIGN)
    (root / "afile").write_bytes(b"a regular file, used as a folder below")


READ_PATHS = ["good.json", "good.npz", "good.pkl", "f32.npz", "bad.json", "evil.pkl", "huge.npz",
              "missing.json", "folder", "afile/child.json", "", "-", "\udcff.json", "nö.json",
              "x" * 300, "/proc/self/status", "/dev/null", "book", "book-mnist", "BOOK", "../",
              "inputs.csv"]
INPUT_PATHS = ["inputs.csv", "nan.csv", "wide.json", "inputs.npy", "huge.npy", "obj.npy", "good.npz",
               "missing.csv", "folder", "afile/x.csv", "", "/proc/self/status", "/dev/null", "evil.pkl"]
IMPL_SPECS = ["impl_ok.py:forward", "impl_ok.py:sigmoid", "impl_raises.py:forward",
              "impl_nan.py:forward", "impl_syntax.py:forward", "impl_exit.py:forward",
              "missing.py:forward", "impl_ok.py:nothere", "impl_ok.py", "folder:forward", ":", "",
              "os:system", "builtins:exit", "impl_ok.py:forward:extra", "good.json:forward"]
OUT_PATHS = ["out.json", "out.npz", "out.tex", "out.pdf", "foreign.json", "foreign.tex",
             "foreign.pdf", "folder", "afile/out.json", "missing_dir/out.json", "/proc/out.json",
             "", "good.json", "\udcff.json", "out"]
INTS = ["0", "1", "2", "-1", "3", "1000000000000", "99999999999999999999999999", "1e3", "abc", "",
        "0x10", "٣", "7"]
FLOATS = ["0", "-0.0", "1e-320", "nan", "inf", "-inf", "1e999", "abc", "", "1", "0.5", "10",
          "1.7e308", "-1e308", "0.001", "1e-3"]
TEXT = ["x", "", "1,2", "1.0,0.5", "nan", "sigmoid", "sigmoid,identity", "relu,relu,softmax",
        "softmax,sigmoid,identity", "1e400,1", "1,2,3", " ", ",", "١,٥", "1/3,-2/7", "a" * 2000,
        "tanh,step,identity", "float32", "identity", "\\input{/etc/passwd}", "$x^{", "100% & #_~",
        "\\def\\x{\\x}\\x", "\\write18{touch PWNED}", "}{", "\\end{document}"]
GARBAGE = ["--", "-", "--nope", "-x", "extra", "--weights=", "--x=1,2", "-o", "--json", "--force",
           "--samples=3", "=", "--max-params=1"]


def values_for(action: argparse.Action, rng: random.Random) -> str:
    """A value for ``action``: valid most of the time, hostile often enough."""
    name = action.dest
    if action.choices is not None and rng.random() < 0.8:
        return str(rng.choice(list(action.choices)))
    if name == "weights":
        return rng.choice(READ_PATHS)
    if name == "inputs":
        return rng.choice(INPUT_PATHS)
    if name.startswith("impl") and action.type is None:
        return rng.choice(IMPL_SPECS)
    if name == "samples":  # counts that do real work: mostly small, or far above the limit
        return rng.choice(["1", "2", "3", "0", "-1", "1000000000000", "abc", "2"])
    if name == "examples":
        # a huge --examples is a long run the user asked for, not a hang: kept small here
        return rng.choice(["1", "2", "3", "0", "-1", "abc"])
    if action.type is int:
        return rng.choice(INTS)
    if action.type is float:
        return rng.choice(FLOATS)
    if _is_output(action):
        return rng.choice(OUT_PATHS)
    if action.choices is not None:
        return rng.choice(["bogus", "", "FLOAT64"])
    # unknown text options: relative names only (they might be written to)
    return rng.choice(TEXT + ["out.txt", "folder", "missing.json", "good.json"])


def make_argv(sub_name: str, sub: argparse.ArgumentParser, rng: random.Random) -> list[str]:
    opts = _options(sub)
    argv = [sub_name]
    if any("--examples" in a.option_strings for a in opts):
        argv += ["--examples", "2"]  # keep property-test runs short; a drawn value overrides it
    for a in opts:  # required options first, valid-ish
        if a.required:
            argv += [rng.choice(a.option_strings), values_for(a, rng)]
    if rng.random() < 0.08:  # pure garbage
        return argv + [rng.choice(GARBAGE + TEXT) for _ in range(rng.randint(1, 5))]
    for _ in range(rng.randint(0, 5)):
        if rng.random() < 0.12:
            argv.append(rng.choice(GARBAGE))
            continue
        a = rng.choice(opts)
        opt = rng.choice(a.option_strings)
        if a.nargs == 0:
            argv.append(opt)
        elif rng.random() < 0.05:
            argv.append(opt)  # value missing
        elif rng.random() < 0.15 and opt.startswith("--"):
            argv.append(f"{opt}={values_for(a, rng)}")
        else:
            argv += [opt, values_for(a, rng)]
    return argv


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for p in root.rglob("*"):
        if p.is_file():
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


SUBS = _subparsers()
CASE_IDS = [(name, i) for name in SUBCOMMANDS for i in range(reliability.examples(CASES.get(name, DEFAULT_CASES)))]


def run_case(root: Path, argv: list[str], capsys: Any, cls: str, verdicts: bool) -> reliability.CliRun:
    """Run one case in ``root`` and check that nothing it was not asked to write changed."""
    before = _snapshot(root)
    r = reliability.run_cli(argv, capsys, cls, verdicts=verdicts)
    after = _snapshot(root)
    leftovers = [k for k in after if k not in before and k.endswith(".tmp")]
    forced = "--force" in argv
    changed = [k for k in before if k in after and before[k] != after[k]]
    vanished = [k for k in before if k not in after]
    damaged = vanished + [k for k in changed if not forced]
    if (root / "PWNED").exists():
        reliability.record(cls, "ran code", note="nnverify " + " ".join(argv))
        pytest.fail(f"{argv!r}: the hostile pickle ran code")
    if leftovers or damaged:
        reliability.record(cls, "lost", note="nnverify " + " ".join(argv))
        pytest.fail(f"{argv!r}: left {leftovers} / changed {damaged} without --force")
    return r


@pytest.mark.parametrize("sub_name,i", CASE_IDS, ids=[f"{n}-{i}" for n, i in CASE_IDS])
def test_malformed_arguments_give_a_verdict_or_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], sub_name: str,
    i: int,
) -> None:
    make_workspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    rng = random.Random(f"{sub_name}:{i}")
    argv = make_argv(sub_name, SUBS[sub_name], rng)
    r = run_case(tmp_path, argv, capsys, "cli-args", verdicts=sub_name not in NO_VERDICT)
    reliability.assert_clean(r, allowed=("ok", "error") if sub_name in NO_VERDICT else ("ok", "failed", "error"))
    if r.outcome == "ok" and ("--json" in argv) and "--help" not in argv and "--list" not in argv:
        json.loads(r.out)  # --json means valid JSON on stdout


@pytest.mark.parametrize("sub_name", SUBCOMMANDS)
def test_help_of_every_subcommand_exits_0(capsys: pytest.CaptureFixture[str], sub_name: str) -> None:
    r = reliability.run_cli([sub_name, "--help"], capsys, "cli-args")
    reliability.assert_clean(r, allowed=("ok",))
    assert r.out.startswith("usage: nnverify " + sub_name)


@pytest.mark.parametrize("argv", [[], ["--nope"], ["nope"], ["--version"], ["forward", "--x"],
                                  ["forward", "--x", "1", "--inputs", "inputs.csv"], ["-"], [""],
                                  ["forward", "--samples", "2", "--x", "1,2"]])
def test_top_level_misuse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                          argv: list[str]) -> None:
    make_workspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    if argv == []:  # no command: the overview on stdout, exit 2
        from nnverify.cli import main

        code = main([])
        out = capsys.readouterr().out
        reliability.record("cli-args", "error" if code == 2 and "usage: nnverify" in out else "crashed")
        assert code == 2 and "usage: nnverify" in out
        return
    r = reliability.run_cli(argv, capsys, "cli-args")
    reliability.assert_clean(r, allowed=("ok",) if argv == ["--version"] else ("error",))


@settings(max_examples=reliability.examples(150),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(x=st.text(alphabet=st.sampled_from("0123456789.,-+eE /naifNIF xj_١٥\t"), max_size=30)
       | st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1.7e308, -1e308, 5e-324]),
                  min_size=0, max_size=4).map(
           lambda v: ",".join(repr(f) for f in v))
       | st.text(max_size=10),
       dtype=st.sampled_from([None, "float32", "float64"]), as_json=st.booleans())
def test_forward_x_text(capsys: pytest.CaptureFixture[str], x: str, dtype: str | None, as_json: bool) -> None:
    argv = ["forward", f"--x={x}"] + (["--dtype", dtype] if dtype else []) + (["--json"] if as_json else [])
    r = reliability.run_cli(argv, capsys, "cli-args")
    reliability.assert_clean(r)
    if as_json and r.outcome == "ok":
        json.loads(r.out)


@settings(max_examples=reliability.examples(80),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(samples=st.integers(-5, 1000) | st.sampled_from([10**7 + 1, 10**9, 10**12, 10**15, 2**63]),
       low=st.floats(allow_nan=True, allow_infinity=True), high=st.floats(allow_nan=True, allow_infinity=True),
       seed=st.integers(-2**70, 2**70), dtype=st.sampled_from(["float32", "float64"]))
def test_forward_samples_options(capsys: pytest.CaptureFixture[str], samples: int, low: float,
                                 high: float, seed: int, dtype: str) -> None:
    argv = ["forward", "--samples", str(samples), f"--low={low!r}", f"--high={high!r}",
            f"--seed={seed}", "--dtype", dtype]
    r = reliability.run_cli(argv, capsys, "cli-limits" if samples > 10**6 else "cli-args")
    reliability.assert_clean(r)
    if samples * 2 > 20_000_000 and r.outcome == "error" and "--samples" in r.err:
        assert "--max-inputs" in r.err


@pytest.mark.parametrize("path,what", [
    ("missing.json", "no such file"), ("folder", "is a folder"), ("afile/child.json", ""),
    ("/proc/self/status", "not a weights file"), ("/dev/null", "not a regular file"),
    ("/proc/self/mem", ""), ("/", "is a folder"), ("\udcff.json", "no such file"),
])
@pytest.mark.parametrize("sub_name", ["forward", "convert"])
def test_bad_weights_paths_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str], path: str, what: str,
                                     sub_name: str) -> None:
    make_workspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    argv = [sub_name, "--weights", path] + (["-o", "out.json"] if sub_name == "convert" else [])
    r = reliability.run_cli(argv, capsys, "cli-paths")
    reliability.assert_clean(r, allowed=("error",))
    assert what in r.err


# -- end to end: the installed command, in a subprocess ---------------------------------------------

SUBPROCESS_CASES = [  # each costs an interpreter start (~1 s): the paths that end furthest apart
    ["forward", "--weights", "evil.pkl"],
    ["forward", "--weights", "huge.npz"],
    ["forward", "--inputs", "huge.npy"],
    ["convert", "--weights", "good.json", "-o", "\udcff.json"],
    ["convert", "--weights", "bad.json", "-o", "foreign.json"],
]


@pytest.mark.parametrize("argv", SUBPROCESS_CASES, ids=[" ".join(a) for a in SUBPROCESS_CASES])
def test_installed_command_never_prints_a_traceback(tmp_path: Path, argv: list[str]) -> None:
    make_workspace(tmp_path)
    env = dict(os.environ, PYTHONWARNINGS="default")
    args = [os.fsencode(a) for a in argv]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "nnverify", *args], cwd=tmp_path, env=env,
                              capture_output=True, timeout=30)
        seconds = time.perf_counter() - t0
        code: int | None = proc.returncode
        err = proc.stderr.decode("utf-8", "backslashreplace")
        outcome = reliability.classify(code, err, verdicts=False)
        if outcome == "ok" and err.strip():  # warnings on a successful run: not clean either
            outcome = "crashed"
    except subprocess.TimeoutExpired:
        outcome, err, seconds = "hung", "", 30.0
    reliability.record("subprocess", outcome, seconds, note="nnverify " + " ".join(argv))
    assert outcome in ("ok", "error"), f"{argv}: {outcome}\n{err}"
    assert not (tmp_path / "PWNED").exists()
    assert (tmp_path / "foreign.json").read_bytes() == FOREIGN


# -- --inputs files ------------------------------------------------------------------------------

def _inputs_file(kind: str, rows: list[list[float]]) -> bytes:
    import io

    if kind == "npy":
        buf = io.BytesIO()
        np.save(buf, np.array(rows))
        return buf.getvalue()
    if kind == "json":
        return json.dumps(rows).encode()
    return "\n".join(",".join(repr(v) for v in r) for r in rows).encode()


@settings(max_examples=reliability.examples(150),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(["npy", "json", "csv"]),
       rows=st.lists(st.lists(st.floats(width=64), min_size=2, max_size=2), min_size=1, max_size=4),
       damage=st.sampled_from(["none", "truncate", "flip", "append", "header"]),
       data=st.data())
def test_malformed_inputs_files_are_handled(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str,
                                            rows: list[list[float]], damage: str, data: Any) -> None:
    raw = bytearray(_inputs_file(kind, rows))
    if damage == "truncate":
        del raw[data.draw(st.integers(0, len(raw) - 1), label="cut"):]
    elif damage == "flip":
        for pos in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=4), label="pos"):
            raw[pos] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    elif damage == "append":
        raw += data.draw(st.binary(min_size=1, max_size=16) | st.sampled_from(
            [b"\n1,2,3", b"\n#c\n", b",", b"\xff\xfe", b"]]", b"\n\n1,2"]), label="tail")
    elif damage == "header":
        raw = bytearray(H.npy_bytes(data.draw(st.sampled_from([
            {"descr": "<f8", "fortran_order": False, "shape": (10**9, 10**9)},
            {"descr": "|O", "fortran_order": False, "shape": (1, 2)},
            {"descr": "<U3", "fortran_order": False, "shape": (1, 2)},
            {"descr": "<f8", "fortran_order": False, "shape": (1, 2, 1)},
            {"descr": "<i8", "fortran_order": True, "shape": (2, 2)},
            {"descr": "<f8", "fortran_order": False, "shape": (0, 2)},
        ]), label="header"), bytes(raw[-32:])))
    path = tmp_path / f"x.{kind}"
    path.write_bytes(bytes(raw))
    r = reliability.run_cli(["forward", "--inputs", str(path)], capsys, "inputs-files")
    reliability.assert_clean(r)
    finite = all(np.isfinite(v) for row in rows for v in row)
    if damage == "none" and finite and all(abs(v) < 1e300 for row in rows for v in row):
        assert r.outcome == "ok", r.describe()


HOSTILE_WEIGHTS = ["bad.json", "evil.pkl", "huge.npz", "folder", "missing.json", "/dev/null", "afile/x.json",
                   "inputs.csv"]


@pytest.mark.parametrize("path", HOSTILE_WEIGHTS)
@pytest.mark.parametrize("sub_name", SUBCOMMANDS)
def test_every_subcommand_refuses_hostile_weights_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], sub_name: str,
    path: str,
) -> None:
    sub = SUBS[sub_name]
    if not any("--weights" in a.option_strings for a in sub._actions):
        pytest.skip(f"nnverify {sub_name} takes no --weights")
    make_workspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    argv = [sub_name, "--weights", path]
    for a in _options(sub):  # required options get a plain valid value
        if a.required:
            argv += [a.option_strings[0], "out.tex" if _is_output(a) else "1"]
    before = set(_snapshot(tmp_path))
    r = run_case(tmp_path, argv, capsys, "cli-paths", verdicts=sub_name not in NO_VERDICT)
    reliability.assert_clean(r, allowed=("error",))
    assert not (tmp_path / "PWNED").exists()
    assert set(_snapshot(tmp_path)) == before  # a refused input writes nothing at all
