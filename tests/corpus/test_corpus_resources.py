"""Issue 15's unbounded resources: members, names and widths that asked for minutes and gigabytes
before a clean error. Each now ends in well under the per-case limit (5 s for ``forward``),
which is what makes the ``hung`` outcome catch a regression."""

from __future__ import annotations

import io
import json
import sys
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import reliability


def _npz_with(tmp_path: Path, key: str, descr: str, shape: tuple[int, ...], payload: int = 1 << 20) -> str:
    """The book's 1-1 network as NPZ plus a member ``key`` whose header declares ``descr`` x ``shape``
    (the data: ``payload`` zero bytes, compressed to a few KB)."""
    base = io.BytesIO()
    np.savez(base, W1=np.ones((1, 1)), b1=np.zeros(1))
    src = zipfile.ZipFile(io.BytesIO(base.getvalue()))
    out = tmp_path / "forged.npz"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in src.namelist():
            if name != f"{key}.npy":
                zf.writestr(name, src.read(name))
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": shape})
        zf.writestr(f"{key}.npy", header.getvalue() + bytes(payload))
    return str(out)


@pytest.mark.parametrize(("key", "descr", "shape", "message"), [
    ("activations", "<U1", (536_870_912,), "expected one name per layer, shape (1,) of strings"),
    ("activations", "<U1000000", (1,), "an activation's name has at most 64"),
    ("W1", "<U100000", (1, 1), "has dtype <U100000; expected float32 or float64"),
    ("domain", "<U1", (536_870_912,), "expected [low, high], shape (2,)"),
    ("domain", "<U1", (2,), "has dtype <U1; expected two numbers [low, high]"),
])
def test_an_npz_member_is_refused_from_its_header_before_it_is_inflated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, descr: str, shape: tuple[int, ...],
    message: str,
) -> None:
    """Was 2 min 44 s and 6.2 GB: 'activations' declared '<U1' x 536,870,912 and escaped --max-params."""
    path = _npz_with(tmp_path, key, descr, shape)
    r = reliability.run_cli(["forward", "--weights", path, "--x", "1"], capsys, "resources")
    reliability.assert_clean(r, allowed=("error",))
    assert message in r.err


def test_a_10_mb_json_name_is_cut_when_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was 42 s and 1.67 GB for 100 MB, printed in full (the scanner's string pattern kept a
    backtracking frame per character)."""
    path = tmp_path / "named.json"
    path.write_text(json.dumps({"name": "n" * 10_000_000, "W1": [[1.0]], "b1": [0.0]}))
    r = reliability.run_cli(["forward", "--weights", str(path), "--x", "1"], capsys, "resources")
    reliability.assert_clean(r, allowed=("ok",))
    first = r.out.splitlines()[0]
    assert "... (10,000,000 characters)" in first and len(first) < 400


@pytest.mark.parametrize(("fmt", "width"), [("csv", 1_000_000), ("json", 100_000)])
def test_a_very_wide_inputs_file_is_refused_from_its_first_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str, width: int
) -> None:
    """Was 18-29 s for 10^6 columns (every cell parsed) before the width error. (JSON is parsed
    whole before any row is seen: its case is smaller, so the 5 s case limit measures the check.)"""
    path = tmp_path / f"wide.{fmt}"
    row = ",".join(["0.5"] * width)
    path.write_text(row + "\n" + row + "\n" if fmt == "csv" else f"[[{row}], [{row}]]")
    r = reliability.run_cli(["check", "--inputs", str(path)], capsys, "resources", limit_s=5.0)
    reliability.assert_clean(r, allowed=("error",))
    assert f"gives {width:,} values in its first input but the network takes 2" in r.err


def test_one_json_row_of_two_million_weights_loads_in_bounded_memory(tmp_path: Path) -> None:
    """Was 2 GB and 10 s for a row of 3 million (a greedy regex repeat kept a frame per number);
    the peak is measured on a fresh child process (its parent has no other child)."""
    import subprocess

    n = 2_000_000
    path = tmp_path / "row.json"
    path.write_text('{"W1": [[' + ",".join(["0.5"] * n) + ']], "b1": [' + ",".join(["0.0"] * n) + "]}")
    probe = ("import resource, subprocess, sys\n"
             "code = subprocess.run([sys.executable, '-m', 'nnverify', 'forward', '--weights', sys.argv[1],"
             " '--x', '1'], stdout=subprocess.DEVNULL).returncode\n"
             "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=120)
    code, peak_kib = (int(v) for v in out.stdout.split())
    reliability.record("resources", reliability.exit_outcome(code, 0, out.stderr),
                       note=f"one JSON row of {n:,} weights: {peak_kib // 1024} MiB")
    assert code == 0, out.stderr
    assert peak_kib < 600 * 1024  # the float64 arrays are 32 MB; the file 16 MB

def _peak_mib(run: Callable[[], reliability.CliRun]) -> tuple[reliability.CliRun, float]:
    """``run()`` and the most memory Python and NumPy held during it (tracemalloc: exact, whatever
    ran before, unlike the process's peak RSS)."""
    tracemalloc.start()
    try:
        result = run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak / 2**20


def test_a_long_json_row_costs_a_few_times_its_floats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was 6.0 GB and 24 s for a 1-10,000,000 network (40 MB of JSON): the scanner's pattern kept
    about 500 bytes of backtracking state per number of a row."""
    n = 300_000
    row = ",".join(["0.5"] * n)
    path = tmp_path / "wide.json"
    path.write_text(f'{{"W1": [[{row}]], "b1": [{row}]}}')
    r, peak = _peak_mib(lambda: reliability.run_cli(["forward", "--weights", str(path), "--x", "1"],
                                                    capsys, "resources"))
    reliability.assert_clean(r, allowed=("ok",))
    assert r.out.startswith("network: wide.json (1-300000, float64)")
    floats = 2 * n * 8 / 2**20  # W1 and b1
    assert peak < 2 * path.stat().st_size / 2**20 + 8 * floats, f"{peak:.0f} MiB for {floats:.0f} MiB of floats"


@pytest.mark.parametrize(("name", "body", "argv", "message"), [
    ("rows", ",".join(["[1]"] * 1_000_000), ["--max-params", "1000"], "declares 1,000,001 weights and biases"),
    ("empty lists", ",".join(["[]"] * 1_000_000), ["--max-params", "1000"], "JSON values outside its arrays"),
    ("objects", ",".join(["{}"] * 1_000_000), ["--max-params", "1000"], "JSON values outside its arrays"),
    ("strings", "[" + ",".join(['"ab"'] * 1_000_000) + "]", ["--max-params", "1000"],
     "JSON values outside its arrays"),
    ("deep lists", ",".join(["[[[[[[[[1]]]]]]]]"] * 200_000), ["--max-params", "1000"],
     "JSON values outside its arrays"),
    ("10,001 layers", None, [], "holds more than 20,001 arrays of numbers"),
])
def test_what_a_json_file_holds_is_counted_before_it_is_parsed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, body: str | None, argv: list[str],
    message: str,
) -> None:
    """Were 210 s and 16 GB for 30,000,000 one-number rows and 133 s and 12 GB for 40,000,000
    empty lists (120 MB files): the parser made a Python object of each before --max-params was
    looked at; and nothing bounded the number of layers."""
    path = tmp_path / "flood.json"
    if body is None:
        path.write_text(json.dumps({"layers": [{"W": [[1]], "b": [0]}] * 10_001}))
    else:
        path.write_text(f'{{"W1": [{body}], "b1": [1]}}')
    r, peak = _peak_mib(lambda: reliability.run_cli(["forward", "--weights", str(path), "--x", "1", *argv],
                                                    capsys, "resources"))
    reliability.assert_clean(r, allowed=("error",))
    assert message in r.err
    assert peak < 2 * path.stat().st_size / 2**20 + 32, f"{peak:.0f} MiB"


def test_numbers_written_as_strings_take_the_fast_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was 38 s and 1.4 GB for 2000 x 3000 weights written as "0.1" (an object per number)."""
    rng = np.random.default_rng(1)
    W = rng.standard_normal((300, 500))
    path = tmp_path / "strings.json"
    path.write_text(json.dumps({"W1": [[repr(v) for v in r] for r in W.tolist()], "b1": ["0.5"] * 500}))
    r, peak = _peak_mib(lambda: reliability.run_cli(["convert", "--weights", str(path), "-o",
                                                     str(tmp_path / "w.npz")], capsys, "resources"))
    reliability.assert_clean(r, allowed=("ok",))
    with np.load(tmp_path / "w.npz") as back:
        assert back["W1"].tobytes() == W.tobytes()
    assert peak < 2 * path.stat().st_size / 2**20 + 6 * W.nbytes / 2**20, f"{peak:.0f} MiB"


def test_an_npz_of_many_members_is_refused_before_zipfile_reads_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was 10 s and 860 MB for a million empty members (98 MB), read by zipfile before any check."""
    path = tmp_path / "many.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i in range(1, 15_002):
            zf.writestr(f"W{i}.npy", b"")
            zf.writestr(f"b{i}.npy", b"")
    r = reliability.run_cli(["forward", "--weights", str(path), "--x", "1"], capsys, "resources")
    reliability.assert_clean(r, allowed=("error",))
    assert "has 30,002 zip directory entries; a network has at most 10,000 layers" in r.err


def test_an_npz_member_that_inflates_beyond_its_header_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was exit 0: a W1 declaring 8 bytes of data that inflates to 1 GiB (a 1 MB file) loaded, the
    bomb never looked at."""
    path = _npz_with(tmp_path, "W1", "<f8", (1, 1), payload=1 << 24)
    r = reliability.run_cli(["forward", "--weights", path, "--x", "1"], capsys, "resources")
    reliability.assert_clean(r, allowed=("error",))
    assert "member inflates to 16,777,216 bytes of data but its header declares (1, 1) float64" in r.err


def test_a_csv_above_max_inputs_is_refused_from_its_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was 31 s and 4.7 GB for 15,000,000 lines: every line split into cells before the count."""
    path = tmp_path / "tall.csv"
    path.write_text("# inputs\n" + "0.5,0.25 # a, b\n" * 500_000)
    r, peak = _peak_mib(lambda: reliability.run_cli(["forward", "--inputs", str(path), "--max-inputs", "1000"],
                                                    capsys, "resources"))
    reliability.assert_clean(r, allowed=("error",))
    assert "holds 1,000,000 input values, above the limit of 1,000; raise it with --max-inputs 1000000" in r.err
    assert peak < 2 * path.stat().st_size / 2**20 + 16, f"{peak:.0f} MiB"
