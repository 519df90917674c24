"""Resource limits: a request above a stated limit is refused before allocating, naming the limit
and the option that raises it — and following that advice works.
"""

from __future__ import annotations

import json
import re
import resource
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import reliability
from corpus import hostile as H

from nnverify.cli import SUBCOMMANDS
from nnverify.errors import LimitError
from nnverify.files import read_bounded
from nnverify.limits import Limits


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _advice(err: str) -> list[str]:
    """The ``--option N`` the message recommends, as argv."""
    m = re.search(r"raise it with (--[a-z-]+) (\d+)", err)
    assert m, f"no 'raise it with --option N' in {err!r}"
    return [m.group(1), m.group(2)]


def _json_net(n_in: int, n_out: int) -> bytes:
    return json.dumps({"W1": [[0.5] * n_out] * n_in, "b1": [0.25] * n_out}).encode()


CASES = {
    # name: (file name, bytes, extra argv, option named in the error)
    "JSON params": ("w.json", _json_net(10, 10), ["--max-params", "50"], "--max-params"),
    "NPZ params": ("w.npz", H.npz_arrays({"W1": np.zeros((10, 10)), "b1": np.zeros(10)}),
                   ["--max-params", "50"], "--max-params"),
    "pickle params": ("w.pkl", __import__("pickle").dumps({"W1": np.zeros((10, 10)), "b1": np.zeros(10)}),
                      ["--max-params", "50"], "--max-params"),
    "file size": ("w.json", _json_net(300, 300) + b" " * 2**20, ["--max-file-mb", "1"], "--max-file-mb"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_weights_file_above_a_limit_is_refused_and_the_advice_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    name, raw, extra, option = CASES[case]
    path = tmp_path / name
    path.write_bytes(raw)
    argv = ["forward", "--weights", str(path), "--samples", "1"]
    r = reliability.run_cli(argv + extra, capsys, "limits")
    reliability.assert_clean(r, allowed=("error",))
    assert "above the limit" in r.err and option in r.err
    r2 = reliability.run_cli(argv + extra + _advice(r.err), capsys, "limits")
    reliability.assert_clean(r2, allowed=("ok",))


def test_npz_declaring_a_billion_squared_weights_is_refused_before_allocating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.npz"
    path.write_bytes(H.npz_of({
        "W1.npy": H.npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (10**9, 10**9)}),
        "b1.npy": H.npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (10**9,)}),
    }))
    peak = _peak_mb()
    r = reliability.run_cli(["forward", "--weights", str(path)], capsys, "limits")
    reliability.assert_clean(r, allowed=("error",))
    assert "1,000,000,001,000,000,000 weights and biases, above the limit of 20,000,000" in r.err
    assert "--max-params 1000000001000000000" in r.err
    assert _peak_mb() - peak < 64 and r.seconds < 1


def test_json_with_a_huge_declared_network_is_refused_before_converting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """200,000 weights of text: counted on the parsed lists, refused before any rounding."""
    path = tmp_path / "big.json"
    path.write_bytes(_json_net(400, 500))
    r = reliability.run_cli(["forward", "--weights", str(path), "--max-params", "100000"], capsys, "limits")
    reliability.assert_clean(r, allowed=("error",))
    assert "200,500 weights and biases" in r.err and r.seconds < 2


def test_a_file_larger_than_the_limit_is_not_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A sparse 600 MiB file: refused from its size alone (reading it would take seconds)."""
    path = tmp_path / "sparse.json"
    with open(path, "wb") as fh:
        fh.truncate(600 * 2**20)
    for option in ("--weights", "--inputs"):
        r = reliability.run_cli(["forward", option, str(path)], capsys, "limits")
        reliability.assert_clean(r, allowed=("error",))
        assert "629,145,600 bytes, above the limit of 536,870,912" in r.err
        assert "--max-file-mb 600" in r.err and r.seconds < 1


INPUT_FILES = {
    ".npy header (10**9, 10**9)": ("x.npy", H.npy_bytes({"descr": "<f8", "fortran_order": False,
                                                          "shape": (10**9, 10**9)}), []),
    "CSV rows": ("x.csv", b"1,2\n" * 100, ["--max-inputs", "50"]),
    "JSON rows": ("x.json", json.dumps([[1, 2]] * 100).encode(), ["--max-inputs", "50"]),
    ".npy data": ("x.npy", None, ["--max-inputs", "50"]),
}


@pytest.mark.parametrize("case", sorted(INPUT_FILES))
def test_an_inputs_file_above_the_limit_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    name, raw, extra = INPUT_FILES[case]
    path = tmp_path / name
    if raw is None:
        np.save(path, np.ones((100, 2)))
    else:
        path.write_bytes(raw)
    peak = _peak_mb()
    r = reliability.run_cli(["forward", "--inputs", str(path)] + extra, capsys, "limits")
    reliability.assert_clean(r, allowed=("error",))
    assert "input values, above the limit" in r.err and "--max-inputs" in r.err
    assert _peak_mb() - peak < 64
    if extra:
        r2 = reliability.run_cli(["forward", "--inputs", str(path)] + extra + _advice(r.err), capsys,
                                 "limits")
        reliability.assert_clean(r2, allowed=("ok",))


@pytest.mark.parametrize("samples", [10**7 + 1, 10**12, 2**63, 10**30])
def test_samples_above_the_limit_are_refused_before_drawing(
    capsys: pytest.CaptureFixture[str], samples: int
) -> None:
    peak = _peak_mb()
    r = reliability.run_cli(["forward", "--samples", str(samples)], capsys, "limits")
    reliability.assert_clean(r, allowed=("error",))
    assert f"--samples {samples} holds {2 * samples:,} input values" in r.err
    assert f"--max-inputs {2 * samples}" in r.err
    assert _peak_mb() - peak < 64 and r.seconds < 1


@pytest.mark.parametrize("option", ["--max-params", "--max-file-mb", "--max-inputs"])
@pytest.mark.parametrize("value", ["0", "-1"])
def test_limit_options_below_one_are_refused(capsys: pytest.CaptureFixture[str], option: str, value: str) -> None:
    r = reliability.run_cli(["forward", f"{option}={value}"], capsys, "limits")
    reliability.assert_clean(r, allowed=("error",))
    assert f"{option} {value}: must be at least 1" in r.err


def test_limits_allow_exactly_the_limit_and_refuse_one_more() -> None:
    lim = Limits(max_params=10, max_file_bytes=100, max_inputs=5)
    lim.check_params(10, "w")
    lim.check_file_size(100, "w")
    lim.check_inputs(5, "x")
    for check, n in ((lim.check_params, 11), (lim.check_file_size, 101), (lim.check_inputs, 6)):
        with pytest.raises(LimitError) as info:
            check(n, "w")
        assert "\n" not in str(info.value) and "raise it with --" in str(info.value)
        reliability.record("limits", "error")


# Options of the other subcommands that ask for too much: each must be a one-line exit 2 naming
# the option (skipped while a subcommand is not registered).
EXCESSIVE = [
    ["check", "--prec", "1000000000"],
    ["check", "--max-prec", "1000000000"],
    ["check", "--digits", "1000000000"],
    ["check", "--samples", "1000000000000"],
    ["derive", "--weights", "book-mnist", "--mode", "symbolic"],
    ["derive", "--weights", "book-mnist", "--max-ops", "10"],
    ["report", "--digits", "1000000000", "-o", "r.tex", "--no-pdf"],
    ["report", "--step-digits", "100000", "-o", "r.tex", "--no-pdf"],
    ["report", "--plot-samples", "1000000000000", "-o", "r.tex", "--no-pdf"],
    ["report", "--samples", "1000000000000", "-o", "r.tex", "--no-pdf"],
    ["test", "--weights", "book-mnist", "--max-params", "1000"],
]


@pytest.mark.parametrize("argv", EXCESSIVE, ids=[" ".join(a) for a in EXCESSIVE])
def test_excessive_options_of_every_subcommand_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    if argv[0] not in SUBCOMMANDS:
        pytest.skip(f"nnverify {argv[0]} is not registered")
    monkeypatch.chdir(tmp_path)
    r = reliability.run_cli(argv, capsys, "cli-limits")
    reliability.assert_clean(r, allowed=("error",))
    named = [a for a in argv if a.startswith("--max-") or a in ("--prec", "--digits", "--step-digits",
                                                                  "--plot-samples", "--samples")]
    # the option, or at least the offending value, is named
    assert any(opt in r.err for opt in named + ["--max-ops", "--max-inputs", "--max-params"]) or \
        any(a.isdigit() and a in r.err for a in argv), r.err


@pytest.mark.parametrize("mb", ["1000000000000", "99999999999999999999999999"])
@pytest.mark.parametrize("option", ["--weights", "--inputs"])
def test_a_huge_file_limit_is_not_allocated_up_front(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mb: str, option: str
) -> None:
    """Were exit 3: read(limit + 1) allocated the limit (MemoryError) or overflowed an index."""
    (tmp_path / "w.json").write_text('{"W1": [["0.5", "1"], ["2", "3"]], "b1": ["0", "0"]}')
    (tmp_path / "x.csv").write_text("1,2\n")
    path = tmp_path / ("w.json" if option == "--weights" else "x.csv")
    r = reliability.run_cli(["forward", option, str(path), "--max-file-mb", mb], capsys, "limits")
    reliability.assert_clean(r, allowed=("ok",))


def test_read_bounded_stops_as_soon_as_the_limit_is_passed() -> None:
    import io

    class Endless(io.RawIOBase):
        """/dev/zero as a file object: reading never ends."""

        calls = 0

        def readable(self) -> bool:
            return True

        def readinto(self, b: Any) -> int:
            Endless.calls += 1
            b[:] = bytes(len(b))
            return len(b)

    lim = Limits(max_file_bytes=3 * 2**20)
    with pytest.raises(LimitError, match="above the limit of 3,145,728; raise it with --max-file-mb 4"):
        read_bounded(io.BufferedReader(Endless()), lim, "endless")
    assert Endless.calls < 10
    reliability.record("limits", "error")
    assert read_bounded(io.BytesIO(b"x" * 100), lim, "small") == b"x" * 100


def test_proc_files_of_size_zero_are_still_read(capsys: pytest.CaptureFixture[str]) -> None:
    r = reliability.run_cli(["forward", "--weights", "/proc/self/status"], capsys, "cli-paths")
    reliability.assert_clean(r, allowed=("error",))
    assert "its first bytes are b'Name:" in r.err


@pytest.mark.skipif("derive" not in SUBCOMMANDS, reason="nnverify derive is not registered")
def test_derive_refuses_an_oversized_model_before_building_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "big.npz"
    rng = np.random.default_rng(0)
    path.write_bytes(H.npz_arrays({"W1": rng.standard_normal((1000, 1000)), "b1": np.zeros(1000),
                                   "W2": rng.standard_normal((1000, 10)), "b2": np.zeros(10)}))
    r = reliability.run_cli(["derive", "--weights", str(path)], capsys, "cli-limits", limit_s=5.0)
    reliability.assert_clean(r, allowed=("error",))
    assert "--max-ops" in r.err
